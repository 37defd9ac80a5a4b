from __future__ import annotations

from rules.errors import UnknownFieldError
from rules.model import Compliance, LambdaFunction, Verdict
from rules.parameters import KMS_KEY_ARN, ParameterKind, Parameters, ParameterSpec
from rules.rule import Field, Rule, Severity

KMS_KEY_ARNS = ParameterSpec(
    "kmsKeyArns",
    ParameterKind.CSV,
    "Comma-separated KMS key ARNs allowed to encrypt environment variables.",
    KMS_KEY_ARN,
)


def check_env_vars_cmk(function: LambdaFunction, parameters: Parameters) -> Verdict:
    """COMPLIANT when the function has no environment variables; otherwise NON_COMPLIANT unless
    a customer-managed KMS key is set (and, with ``kmsKeyArns``, is in the list).

    When the variables are unknown (Config does not record them) an acceptable key settles it;
    anything else raises ``UnknownFieldError`` so the caller reads them instead of guessing."""
    names = function.environment_variable_names
    if names is not None and not names:
        return Verdict(Compliance.COMPLIANT, "function has no environment variables")
    key_problem = _key_problem(function.kms_key_arn, parameters.csv(KMS_KEY_ARNS.name))
    if key_problem is None:
        return Verdict(
            Compliance.COMPLIANT,
            f"environment variables are encrypted with customer-managed key {function.kms_key_arn}",
        )
    if names is None:
        raise UnknownFieldError(
            Field.ENVIRONMENT.value,
            f"function {function.name}: {key_problem}, and whether it has environment variables "
            "is unknown (AWS Config does not record them)",
        )
    return Verdict(Compliance.NON_COMPLIANT, f"{len(names)} environment variable(s): {key_problem}")


def _key_problem(key_arn: str | None, allowed: tuple[str, ...] | None) -> str | None:
    if not key_arn:
        return "no customer-managed KMS key is set (the AWS managed key aws/lambda is used)"
    if ":alias/aws/" in key_arn:
        return f"key {key_arn} is AWS managed, not customer-managed"
    if allowed is not None and key_arn not in allowed:
        return f"key {key_arn} is not in kmsKeyArns"
    return None


RULE = Rule(
    id="lambda-env-vars-cmk-encrypted",
    title="Lambda environment variables are encrypted with a customer-managed KMS key",
    description=(
        "Checks that a function with environment variables encrypts them at rest with a "
        "customer-managed KMS key and, when kmsKeyArns is set, with one of the listed keys."
    ),
    severity=Severity.MEDIUM,
    check=check_env_vars_cmk,
    remediation=(
        "Create a customer-managed KMS key with rotation on, grant the function's role "
        "kms:Decrypt, and set it as the function's KMSKeyArn."
    ),
    documentation_url="https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html",
    parameters=(KMS_KEY_ARNS,),
    may_need=frozenset({Field.ENVIRONMENT}),
)
