"""Resource-policy parsing and the "is this statement public?" analysis (pure).

A statement is public when its principal is ``*`` (bare, ``{"AWS": "*"}``, any principal list
holding ``*``) or it uses ``NotPrincipal``, or it names a service principal, and no condition
*restricts* it. A condition restricts only when it uses a positive operator on a key that pins
the caller or the source to something fixed; see ``restriction_problem``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from rules.adapters.common import JSON_OBJECT
from rules.model import Condition, PolicyStatement, Principal, ResourcePolicy, UnreadablePolicy

# Keys (lower-cased) that pin who calls or where the call comes from.
RESTRICTING_KEYS = frozenset(
    key.lower()
    for key in (
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:SourceArn",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "lambda:EventSourceToken",
    )
)
ARN_KEYS = frozenset({"aws:sourcearn", "aws:principalarn"})
# Positive operators; "IfExists" and "ForAnyValue:" variants are accepted as the spec says.
RESTRICTING_OPERATORS = frozenset({"stringequals", "stringlike", "arnequals", "arnlike"})
FUNCTION_URL_KEYS = frozenset({"lambda:functionurlauthtype", "lambda:invokedviafunctionurl"})

ACCOUNT_ID = re.compile(r"\d{12}")


def parse_policy(document: Any) -> ResourcePolicy | UnreadablePolicy | None:
    """Parse a resource policy given as a JSON string or an already-decoded object.

    ``None`` / empty string means the function has no resource policy."""
    if document is None or document == "":
        return None
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError as error:
            return UnreadablePolicy(f"resource policy is not valid JSON ({error})")
        # Some sources encode the policy string once more; JSON null is "no policy".
        if document is None or isinstance(document, str):
            return parse_policy(document)
    if not isinstance(document, JSON_OBJECT):
        return UnreadablePolicy(f"resource policy is a {type(document).__name__}, not an object")
    raw_statements = document.get("Statement", [])
    if isinstance(raw_statements, JSON_OBJECT):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        return UnreadablePolicy("resource policy Statement is neither a list nor an object")
    statements = []
    for index, raw in enumerate(raw_statements):
        if not isinstance(raw, JSON_OBJECT):
            return UnreadablePolicy(f"statement #{index + 1} is not an object")
        statement = _parse_statement(index, raw)
        if isinstance(statement, UnreadablePolicy):
            return statement
        statements.append(statement)
    return ResourcePolicy(tuple(statements))


def _as_strings(value: Any) -> tuple[str, ...]:
    if type(value) is str:  # the common case, first
        return (value,)
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple([item if type(item) is str else _scalar(item) for item in value])
    return (_scalar(value),)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _parse_principals(raw: Any) -> tuple[Principal, ...]:
    if raw is None:
        return ()
    if isinstance(raw, JSON_OBJECT):
        return tuple(
            Principal(str(kind), value)
            for kind, values in raw.items()
            for value in _as_strings(values)
        )
    return tuple(Principal("*", value) for value in _as_strings(raw))


def _parse_statement(index: int, raw: Mapping[str, Any]) -> PolicyStatement | UnreadablePolicy:
    uses_not_principal = "NotPrincipal" in raw
    principals = _parse_principals(raw.get("NotPrincipal" if uses_not_principal else "Principal"))
    # moto writes a function URL's auth type as a top-level key instead of a condition; keep it
    # visible so annotations can say the statement is a function URL grant.
    conditions: list[Condition] = []
    raw_conditions = raw.get("Condition") or {}
    if not isinstance(raw_conditions, JSON_OBJECT):
        return UnreadablePolicy(f"statement #{index + 1} has a Condition that is not an object")
    for operator, block in raw_conditions.items():
        if not isinstance(block, JSON_OBJECT):
            return UnreadablePolicy(
                f"statement #{index + 1} condition operator {operator} is not an object"
            )
        for key, values in block.items():
            conditions.append(Condition(str(operator), str(key), _as_strings(values)))
    if "FunctionUrlAuthType" in raw:
        conditions.append(
            Condition(
                "StringEquals",
                "lambda:FunctionUrlAuthType",
                _as_strings(raw["FunctionUrlAuthType"]),
            )
        )
    actions = _as_strings(raw.get("Action", raw.get("NotAction")))
    sid = raw.get("Sid")
    return PolicyStatement(
        position=index,
        sid=str(sid) if sid not in (None, "") else None,
        effect=str(raw.get("Effect", "")),
        principals=principals,
        uses_not_principal=uses_not_principal,
        actions=actions,
        conditions=tuple(conditions),
    )


@dataclass(frozen=True, slots=True)
class PublicFinding:
    """Why one Allow statement is public: what it grants to whom, and why no condition helps."""

    statement: PolicyStatement
    grantee: str
    reason: str

    def describe(self) -> str:
        actions = ",".join(self.statement.actions) or "no action"
        return f"{self.statement.label} allows {self.grantee} {actions} {self.reason}"


def public_finding(statement: PolicyStatement) -> PublicFinding | None:
    """Return why ``statement`` is public, or None when it is not."""
    if statement.effect.lower() != "allow":
        return None
    grantee = _risky_grantee(statement)
    if grantee is None:
        return None
    problems = []
    for condition in statement.conditions:
        problem = restriction_problem(condition)
        if problem is None:
            return None
        problems.append(problem)
    reason = "without a restricting condition: " + "; ".join(problems)
    return PublicFinding(statement, grantee, reason if problems else "without a condition")


def _risky_grantee(statement: PolicyStatement) -> str | None:
    if statement.uses_not_principal:
        return "every principal but those in NotPrincipal"
    if any(principal.value == "*" for principal in statement.principals):
        return "Principal '*'"
    # IAM refuses partial wildcards in principals; a source that carries one anyway is treated
    # as the wildcard it spells rather than as one named account.
    wildcards = [p.value for p in statement.principals if "*" in p.value or "?" in p.value]
    if wildcards:
        return f"wildcard principal '{wildcards[0]}'"
    services = [p.value for p in statement.principals if p.kind.lower() == "service"]
    if services:
        return "service " + ",".join(services)
    return None


def restriction_problem(condition: Condition) -> str | None:
    """None when ``condition`` restricts the statement, else why it does not."""
    key = condition.key.lower()
    if key in FUNCTION_URL_KEYS:
        return f"{condition.key} never restricts (function URL auth type NONE is public)"
    if key not in RESTRICTING_KEYS:
        return f"{condition.key} does not restrict the caller or source"
    operator = condition.operator.lower()
    if operator.startswith("foranyvalue:"):
        operator = operator[len("foranyvalue:") :]
    if operator.endswith("ifexists"):
        operator = operator[: -len("ifexists")]
    if operator not in RESTRICTING_OPERATORS:
        return f"{condition.operator} on {condition.key} is not a positive match"
    if not condition.values:
        return f"{condition.key} has no value"
    for value in condition.values:
        problem = _value_problem(key, value)
        if problem:
            return f"{condition.key} value '{value}' {problem}"
    return None


def _value_problem(key: str, value: str) -> str | None:
    if "${" in value:
        return "uses a policy variable"
    if key not in ARN_KEYS:
        return "has a wildcard" if ("*" in value or "?" in value) else None
    parts = value.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return "is not an ARN"
    head = parts[:4]
    if any("*" in part or "?" in part for part in head):
        return "has a wildcard before the account field"
    if not ACCOUNT_ID.fullmatch(parts[4]):
        return "has no fixed 12-digit account"
    return None
