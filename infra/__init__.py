"""The CDK app: one stack per account and region deploying the registry's rules."""
