"""Find a rule's resources in a synthesized template by construct path."""

from __future__ import annotations

from typing import Any

from app import STACK_NAME
from infra.stack import construct_id


def logical_id(resources: dict[str, Any], path: str) -> str:
    """The logical id of the resource at construct path ``LambdaGuardrails/<path>``."""
    full = f"{STACK_NAME}/{path}"
    found = [k for k, v in resources.items() if v.get("Metadata", {}).get("aws:cdk:path") == full]
    assert len(found) == 1, f"{full}: {found}"
    return found[0]


def rule_resource(resources: dict[str, Any], rule_id: str, part: str) -> tuple[str, dict[str, Any]]:
    """``part``: Function/Resource, Role/Resource, Policy/Resource, Logs/Resource, ConfigInvoke,
    Rule."""
    key = logical_id(resources, f"{construct_id(rule_id)}/{part}")
    return key, resources[key]


def policy_actions(policy: dict[str, Any]) -> list[str]:
    actions: list[str] = []
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Allow"
        value = statement["Action"]
        actions.extend([value] if isinstance(value, str) else value)
    return actions


def statements_by_action(policy: dict[str, Any]) -> dict[str, list[Any]]:
    """action -> the resources of the statement(s) granting it."""
    result: dict[str, list[Any]] = {}
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        actions = statement["Action"]
        resources = statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            result.setdefault(action, []).extend(
                resources if isinstance(resources, list) else [resources]
            )
    return result
