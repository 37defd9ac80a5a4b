"""Whether a customer-managed KMS key can serve a function: the key itself, and its execution
role's right to use it. Shared by the environment-key runbook (``kms:Decrypt``) and the DLQ
runbook's customer-managed queue key (``kms:GenerateDataKey`` and ``kms:Decrypt``, what an SQS
sender needs). Any doubt is a problem, never a pass.

KMS lets a principal use a key in one of two ways:

1. the key policy (``kms:GetKeyPolicy``) allows it: ``iam:SimulatePrincipalPolicy`` of the
   actions on the key for the role, with the key policy as the resource policy, says
   ``allowed`` for each, and the key policy names the role or the account (KMS reads IAM
   policies only when the key policy allows the account, e.g. "Enable IAM User Permissions");
2. or a grant (``kms:ListGrants``) gives the role every needed operation.

A role of another account cannot be checked from here: a problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

from rules.adapters.common import arn_field
from rules.model import ResourcePolicy
from rules.policy import parse_policy
from rules.remediation.common import Context


def key_problems(context: Context, key_arn: str) -> list[str]:
    """The key must be customer-managed, enabled and symmetric (``kms:DescribeKey``)."""
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


def role_problems(context: Context, key_arn: str, actions: Sequence[str]) -> list[str]:
    """Problems unless the function's execution role may call every one of ``actions``
    (``kms:Decrypt``, ...) on the key."""
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
    decision = simulated_decision(context, role, key_arn, key_policy, actions)
    admits = key_policy_admits(key_policy, role, function.account_id, actions)
    if decision == "allowed" and admits:
        return []
    if granted(context, role, key_arn, actions):
        return []
    wanted = " and ".join(actions)
    operations = ", ".join(action.removeprefix("kms:") for action in actions)
    return [
        f"the function's execution role {role} may not use key {key_arn}: {wanted} simulated "
        f"with the key policy is {decision}, the key policy "
        f"{'admits' if admits else 'does not admit'} the role or the account's IAM policies, "
        f"and no grant gives the role {operations}. Allow the role {wanted} on the key (key "
        "policy or IAM policy) and run again"
    ]


def simulated_decision(
    context: Context, role: str, key_arn: str, key_policy: str, actions: Sequence[str]
) -> str:
    """``allowed`` when the simulator allows each action; else what it said."""
    iam = context.clients.client("iam")
    response = context.call(
        "iam:SimulatePrincipalPolicy",
        iam.simulate_principal_policy,
        PolicySourceArn=role,
        ActionNames=list(actions),
        ResourceArns=[key_arn],
        ResourcePolicy=key_policy,
    )
    results = response.get("EvaluationResults") or []
    decisions = {
        str(result.get("EvalActionName")): str(result.get("EvalDecision")) for result in results
    }
    # One result per action on the one resource; anything else is unreadable, hence not allowed.
    if len(results) != len(actions) or set(decisions) != set(actions):
        return f"unreadable ({sorted(decisions.items())})"
    refused = {action: decision for action, decision in decisions.items() if decision != "allowed"}
    if not refused:
        return "allowed"
    return ", ".join(f"{decision} for {action}" for action, decision in sorted(refused.items()))


def key_policy_admits(key_policy: str, role: str, account: str, actions: Sequence[str]) -> bool:
    """Whether Allow statements of the key policy naming the role, or the account (which lets
    the account's IAM policies decide), cover each action. Conditions are left to the
    simulator."""
    parsed = parse_policy(key_policy)
    if not isinstance(parsed, ResourcePolicy):
        return False
    principals = {role, account, f"arn:{role.split(':')[1]}:iam::{account}:root"}
    covered: set[str] = set()
    for statement in parsed.statements:
        if statement.effect != "Allow" or statement.uses_not_principal:
            continue
        if not any(p.kind in ("AWS", "*") and p.value in principals for p in statement.principals):
            continue
        patterns = [action.lower() for action in statement.actions]
        covered |= {
            action
            for action in actions
            if any(fnmatchcase(action.lower(), pattern) for pattern in patterns)
        }
    return covered == set(actions)


def granted(context: Context, role: str, key_arn: str, actions: Sequence[str]) -> bool:
    """Whether one KMS grant gives the role every operation of ``actions``."""
    kms = context.clients.client("kms")
    pages = context.call(
        "kms:ListGrants",
        lambda: list(
            kms.get_paginator("list_grants").paginate(KeyId=key_arn, GranteePrincipal=role)
        ),
    )
    operations = {action.removeprefix("kms:") for action in actions}
    return any(
        grant.get("GranteePrincipal") == role and operations <= set(grant.get("Operations") or [])
        for page in pages
        for grant in page.get("Grants", [])
    )
