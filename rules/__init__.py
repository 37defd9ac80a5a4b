"""Lambda Guardrails: AWS Config custom rules for AWS Lambda functions.

The pure core (model, adapters, checks, registry) imports nothing from AWS SDKs, so the Lambda
handler, the CLI and synth-time checks share it at no import cost.
"""

# pyproject.toml's version, kept equal to it by tests/test_cli.py: the package is run from
# a checkout or a Lambda asset, never pip-installed, so there is no metadata to read it from.
__version__ = "0.1.0"
