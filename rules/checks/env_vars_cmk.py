from __future__ import annotations

from rules.errors import UnknownFieldError
from rules.model import Compliance, KeyManager, LambdaFunction, Verdict
from rules.parameters import KMS_KEY_ARN, ParameterKind, Parameters, ParameterSpec
from rules.rule import Field, Rule, Severity

KMS_KEY_ARNS = ParameterSpec(
    "kmsKeyArns",
    ParameterKind.CSV,
    "Comma-separated KMS key ARNs (not alias ARNs) allowed to encrypt environment variables.",
    KMS_KEY_ARN,
)

# AWS reserves this alias prefix for AWS managed keys; a customer's alias can neither use it nor
# point at an AWS managed key, so an alias names its key's manager.
AWS_MANAGED_ALIAS_PREFIX = "alias/aws/"


def check_env_vars_cmk(function: LambdaFunction, parameters: Parameters) -> Verdict:
    """COMPLIANT when the function has no environment variables; otherwise NON_COMPLIANT unless
    a customer-managed KMS key is set (and, with ``kmsKeyArns``, is in the list).

    When the variables are unknown (Config does not record them) an acceptable key settles it;
    anything else raises ``UnknownFieldError`` so the caller reads them instead of guessing.
    When the source could not read them (``environment_error``), they exist and the key alone
    decides. Who manages a key is known from its ARN (an alias, another account's key) or from
    ``kms_key_manager``; when neither tells and it matters, ``UnknownFieldError`` again."""
    names = function.environment_variable_names
    error = function.environment_error
    if error is None and names is not None and not names:
        return Verdict(Compliance.COMPLIANT, "function has no environment variables")
    key_problem, caveat = _key_problem(function, parameters.csv(KMS_KEY_ARNS.name))
    if key_problem is None:
        return Verdict(
            Compliance.COMPLIANT,
            f"environment variables are encrypted with customer-managed key "
            f"{function.kms_key_arn}{caveat}",
        )
    if error is not None:
        return Verdict(
            Compliance.NON_COMPLIANT,
            f"environment variables exist but could not be read ({error}): {key_problem}",
        )
    if names is None:
        raise UnknownFieldError(
            Field.ENVIRONMENT.value,
            f"function {function.name}: {key_problem}, and whether it has environment variables "
            "is unknown (its source does not say: AWS Config never records them)",
        )
    return Verdict(Compliance.NON_COMPLIANT, f"{len(names)} environment variable(s): {key_problem}")


def _key_problem(
    function: LambdaFunction, allowed: tuple[str, ...] | None
) -> tuple[str | None, str]:
    """(why the key is not acceptable or None, a caveat for the annotation of an accepted key).

    The allow-list is looked at before the manager: a key it excludes needs no DescribeKey."""
    key_arn = function.kms_key_arn
    if not key_arn:
        return "no customer-managed KMS key is set (the AWS managed key aws/lambda is used)", ""
    if allowed is not None and key_arn not in allowed:
        return f"key {key_arn} is not in kmsKeyArns", ""
    manager, caveat = _manager(function, key_arn)
    if manager is KeyManager.AWS:
        return f"key {key_arn} is AWS managed, not customer-managed", ""
    return None, caveat


def _manager(function: LambdaFunction, key_arn: str) -> tuple[KeyManager, str]:
    resource, key_account = _resource_and_account(key_arn)
    if resource.startswith(AWS_MANAGED_ALIAS_PREFIX):
        return KeyManager.AWS, ""
    if resource.startswith("alias/"):
        return KeyManager.CUSTOMER, ""
    if key_account and function.account_id and key_account != function.account_id:
        # AWS managed keys are never shared: a key of another account is a customer's.
        return KeyManager.CUSTOMER, ""
    manager = function.kms_key_manager
    if manager is None:
        raise UnknownFieldError(
            Field.KEY_MANAGER.value,
            f"function {function.name}: who manages KMS key {key_arn} is unknown "
            "(only kms:DescribeKey tells)",
        )
    if manager is KeyManager.UNVERIFIED:
        # The ARN rule decides: an AWS managed key given by its key ARN passes here.
        return KeyManager.CUSTOMER, " (key manager not verified: kms:DescribeKey not called)"
    return manager, ""


def _resource_and_account(key_arn: str) -> tuple[str, str]:
    """``key/<id>`` or ``alias/<name>`` and the account of a KMS ARN; a bare alias name
    (``alias/aws/lambda``) has no account."""
    parts = key_arn.split(":", 5)
    if len(parts) == 6:
        return parts[5], parts[4]
    return key_arn, ""


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
    may_need=frozenset({Field.ENVIRONMENT, Field.KEY_MANAGER}),
)
