"""Runbook script for lambda-env-vars-cmk-encrypted: re-encrypt the environment variables with a
given customer-managed KMS key (UpdateFunctionConfiguration with ``KMSKeyArn`` alone: variable
values are never read into the script's output, logged or sent back).

Before any change the key and the function's execution role are checked, and any doubt is a
refusal, never a change:

- the key (``kms:DescribeKey``): of the function's account and Region, customer-managed
  (``KeyManager`` CUSTOMER), ``Enabled``, symmetric (``SYMMETRIC_DEFAULT``; Lambda encrypts
  environment variables only with symmetric keys), and in the rule's ``kmsKeyArns`` when set;
- the role may decrypt with it, which KMS allows in one of two ways:
  1. the key policy (``kms:GetKeyPolicy``) allows it: ``iam:SimulatePrincipalPolicy`` of
     ``kms:Decrypt`` on the key for the role, with the key policy as the resource policy, says
     ``allowed``, and the key policy names the role or the account (KMS reads IAM policies only
     when the key policy allows the account, e.g. "Enable IAM User Permissions");
  2. or a grant (``kms:ListGrants``) gives the role ``Decrypt``.
  A role of another account cannot be checked from here: refused.
"""

from __future__ import annotations

from typing import Any

from rules.adapters.common import arn_field
from rules.aws.clients import Clients
from rules.checks.env_vars_cmk import KMS_KEY_ARNS
from rules.model import LambdaFunction, ResourcePolicy
from rules.parameters import KMS_KEY_ARN
from rules.policy import parse_policy
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

DECRYPT = "kms:Decrypt"
KEY_ACTIONS = frozenset({"kms:*", "kms:decrypt", "*"})


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
        problems = _key_problems(context, key_arn)
    if not problems:
        problems = _role_problems(context, key_arn)

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


def _key_problems(context: Context, key_arn: str) -> list[str]:
    response = context.call(
        "kms:DescribeKey", context.clients.client("kms").describe_key, KeyId=key_arn
    )
    metadata = response.get("KeyMetadata") or {}
    wanted = {"KeyManager": "CUSTOMER", "KeyState": "Enabled", "KeySpec": "SYMMETRIC_DEFAULT"}
    return [
        f"key {key_arn} has {name} {metadata.get(name)!r}, not {value}"
        for name, value in wanted.items()
        if metadata.get(name) != value
    ]


def _role_problems(context: Context, key_arn: str) -> list[str]:
    function = context.function
    role = function.role
    if not role or arn_field(role, 4) != function.account_id:
        return [
            f"the function's execution role {role or '(none)'} is not a role of account "
            f"{function.account_id}: whether it may use the key cannot be checked"
        ]
    kms = context.clients.client("kms")
    key_policy = context.call(
        "kms:GetKeyPolicy", kms.get_key_policy, KeyId=key_arn, PolicyName="default"
    ).get("Policy")
    if not isinstance(key_policy, str) or not key_policy:
        return [f"kms:GetKeyPolicy gave no policy for key {key_arn}"]
    decision = _simulated_decision(context, role, key_arn, key_policy)
    admits = _key_policy_admits(key_policy, role, function.account_id)
    if decision == "allowed" and admits:
        return []
    if _granted(context, role, key_arn):
        return []
    return [
        f"the function's execution role {role} may not use key {key_arn}: {DECRYPT} simulated "
        f"with the key policy is {decision}, the key policy "
        f"{'admits' if admits else 'does not admit'} the role or the account's IAM policies, "
        "and no grant gives the role Decrypt. Allow the "
        f"role {DECRYPT} on the key (key policy or IAM policy) and run again"
    ]


def _simulated_decision(context: Context, role: str, key_arn: str, key_policy: str) -> str:
    iam = context.clients.client("iam")
    response = context.call(
        "iam:SimulatePrincipalPolicy",
        iam.simulate_principal_policy,
        PolicySourceArn=role,
        ActionNames=[DECRYPT],
        ResourceArns=[key_arn],
        ResourcePolicy=key_policy,
    )
    results = response.get("EvaluationResults") or []
    decisions = {str(result.get("EvalDecision")) for result in results}
    # One action on one resource: one result. Anything else is unreadable, hence not allowed.
    return decisions.pop() if len(decisions) == 1 else f"unreadable ({sorted(decisions)})"


def _key_policy_admits(key_policy: str, role: str, account: str) -> bool:
    """Whether an Allow statement of the key policy names the role, or the account (which lets
    the account's IAM policies decide), for kms:Decrypt. Conditions are left to the simulator."""
    parsed = parse_policy(key_policy)
    if not isinstance(parsed, ResourcePolicy):
        return False
    principals = {role, account, f"arn:{role.split(':')[1]}:iam::{account}:root"}
    for statement in parsed.statements:
        if statement.effect != "Allow" or statement.uses_not_principal:
            continue
        if not {action.lower() for action in statement.actions} & KEY_ACTIONS:
            continue
        if any(p.kind in ("AWS", "*") and p.value in principals for p in statement.principals):
            return True
    return False


def _granted(context: Context, role: str, key_arn: str) -> bool:
    kms = context.clients.client("kms")
    pages = context.call(
        "kms:ListGrants",
        lambda: list(
            kms.get_paginator("list_grants").paginate(KeyId=key_arn, GranteePrincipal=role)
        ),
    )
    return any(
        grant.get("GranteePrincipal") == role and "Decrypt" in (grant.get("Operations") or [])
        for page in pages
        for grant in page.get("Grants", [])
    )


SCRIPT = Script("lambda-env-vars-cmk-encrypted", describe, plan)


def script_handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """The aws:executeScript entry point (Handler: script_handler)."""
    return handler(SCRIPT, events)
