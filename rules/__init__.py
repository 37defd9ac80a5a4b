"""Lambda Guardrails: AWS Config custom rules for AWS Lambda functions.

The pure core (model, adapters, checks, registry) imports nothing from AWS SDKs, so the Lambda
handler, the CLI and synth-time checks share it at no import cost.
"""
