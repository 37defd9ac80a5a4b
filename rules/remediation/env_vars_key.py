"""Runbook script for lambda-env-vars-cmk-encrypted: re-encrypt the environment variables with a
given customer-managed KMS key (UpdateFunctionConfiguration with ``KMSKeyArn`` alone: variable
values are never read into the script's output, logged or sent back).

Before any change the key and the function's execution role are checked, and any doubt is a
refusal, never a change:

- the key (``kms:DescribeKey``): of the function's account and Region, customer-managed
  (``KeyManager`` CUSTOMER), ``Enabled``, symmetric (``SYMMETRIC_DEFAULT``; Lambda encrypts
  environment variables only with symmetric keys), and in the rule's ``kmsKeyArns`` when set;
- the role may decrypt with it (``rules.remediation.keys``: the key policy simulated with the
  role's policies, or a grant). A role of another account cannot be checked from here: refused.
"""

from __future__ import annotations

from typing import Any

from rules.adapters.common import arn_field
from rules.aws.clients import Clients
from rules.checks.env_vars_cmk import KMS_KEY_ARNS
from rules.model import LambdaFunction
from rules.parameters import KMS_KEY_ARN
from rules.remediation.common import (
    Change,
    Context,
    Plan,
    Script,
    handler,
    joined,
    text_input,
    wait_until_updated,
)
from rules.remediation.keys import key_problems, role_problems

DECRYPT = "kms:Decrypt"


def describe(_clients: Clients, function: LambdaFunction) -> dict[str, str]:
    names = function.environment_variable_names
    described = {
        "kmsKeyArn": function.kms_key_arn or "none (AWS managed key aws/lambda)",
        "environmentVariableNames": "unknown" if names is None else joined(names),
    }
    if function.environment_error:
        described["environmentError"] = function.environment_error
    return described


def plan(context: Context) -> Plan:
    function = context.function
    key_arn = text_input(context.inputs.raw, "KmsKeyArn")
    allowed = context.inputs.rule_parameters.csv(KMS_KEY_ARNS.name)
    problems = _key_arn_problems(function, key_arn, allowed)
    if not problems:
        problems = key_problems(context, key_arn)
    if not problems:
        problems = role_problems(context, key_arn, (DECRYPT,))

    def re_encrypt() -> None:
        context.call(
            "lambda:UpdateFunctionConfiguration (KMSKeyArn)",
            context.clients.client("lambda").update_function_configuration,
            FunctionName=function.arn,
            KMSKeyArn=key_arn,
        )
        wait_until_updated(context)

    was = function.kms_key_arn or "the AWS managed key aws/lambda"
    change = Change(f"encrypt environment variables with {key_arn} (was {was})", re_encrypt)
    return Plan((change,), tuple(problems))


def _key_arn_problems(
    function: LambdaFunction, key_arn: str, allowed: tuple[str, ...] | None
) -> list[str]:
    if not key_arn:
        return ["parameter KmsKeyArn is required"]
    if problem := KMS_KEY_ARN.problem(key_arn):
        return [f"KmsKeyArn {key_arn!r}: {problem}"]
    if arn_field(key_arn, 4) != function.account_id or arn_field(key_arn, 3) != function.region:
        return [
            f"key {key_arn} is not in the function's account and Region "
            f"({function.account_id}, {function.region}): its policy cannot be checked from here"
        ]
    if allowed is not None and key_arn not in allowed:
        return [f"key {key_arn} is not in the rule's {KMS_KEY_ARNS.name}"]
    return []


SCRIPT = Script("lambda-env-vars-cmk-encrypted", describe, plan)


def script_handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """The aws:executeScript entry point (Handler: script_handler)."""
    return handler(SCRIPT, events)
