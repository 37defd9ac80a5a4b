"""Alias and version policies (permissions added with a qualifier live only there)."""

from __future__ import annotations

import json

import pytest

from rules.checks.public_access import QUALIFIERS_NOT_READ, check_public_access
from rules.errors import InvalidInputError, InvalidParameterError
from rules.model import (
    Compliance,
    QualifiedPolicy,
    QualifierKind,
    ResourcePolicy,
    UnreadablePolicy,
)
from rules.parameters import NO_PARAMETERS, parse_parameters
from rules.policy import parse_policy
from rules.registry import get_rule
from tests.factories import ACCOUNT, function, statement

URL_NONE = statement(
    sid="url",
    action="lambda:InvokeFunctionUrl",
    condition={"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
)
PINNED = statement(
    sid="events",
    principal={"Service": "events.amazonaws.com"},
    condition={"ArnLike": {"AWS:SourceArn": f"arn:aws:events:us-east-1:{ACCOUNT}:rule/nightly"}},
)


def policy(*statements: dict[str, object]) -> ResourcePolicy:
    parsed = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))
    assert isinstance(parsed, ResourcePolicy)
    return parsed


def alias(name: str, *statements: dict[str, object]) -> QualifiedPolicy:
    return QualifiedPolicy(QualifierKind.ALIAS, name, policy(*statements) if statements else None)


def test_a_public_alias_makes_the_function_non_compliant_and_is_named() -> None:
    verdict = check_public_access(
        function(policy=policy(PINNED), qualified_policies=(alias("prod", URL_NONE),)),
        NO_PARAMETERS,
    )
    assert verdict.compliance is Compliance.NON_COMPLIANT
    assert verdict.annotation.startswith("alias 'prod': statement 'url' allows Principal '*'")


def test_every_public_statement_is_named_with_its_qualifier() -> None:
    version = QualifiedPolicy(QualifierKind.VERSION, "7", policy(statement(sid="v7")))
    verdict = check_public_access(
        function(
            policy=policy(statement(sid="base")),
            qualified_policies=(alias("prod", URL_NONE), version),
        ),
        NO_PARAMETERS,
    )
    assert verdict.annotation.startswith(
        "3 public statements (statement 'base', alias 'prod': statement 'url', "
        "version '7': statement 'v7')"
    )


def test_qualifiers_without_public_statements_are_compliant_and_counted() -> None:
    verdict = check_public_access(
        function(policy=policy(PINNED), qualified_policies=(alias("prod", PINNED), alias("dev"))),
        NO_PARAMETERS,
    )
    assert verdict.compliance is Compliance.COMPLIANT
    assert verdict.annotation == (
        "none of the 2 policy statement(s) of the function and its 2 alias(es) grants public "
        "access (versions not read: checkVersions is off)"
    )


def test_with_check_versions_the_annotation_counts_the_versions_read() -> None:
    rule = get_rule("lambda-function-public-access-prohibited")
    parameters = parse_parameters(rule, {"checkVersions": "true"})
    version = QualifiedPolicy(QualifierKind.VERSION, "3", policy(PINNED))
    verdict = check_public_access(
        function(policy=policy(PINNED), qualified_policies=(alias("prod"), version)), parameters
    )
    assert verdict.annotation == (
        "none of the 2 policy statement(s) of the function and its 1 alias(es) and 1 published "
        "version(s) grants public access"
    )


def test_unread_qualifiers_are_said_to_be_unread() -> None:
    """Change-triggered evaluations: Config's item carries no qualified policy."""
    verdict = check_public_access(function(policy=policy(PINNED)), NO_PARAMETERS)
    assert verdict.compliance is Compliance.COMPLIANT
    assert QUALIFIERS_NOT_READ in verdict.annotation


def test_an_unreadable_alias_policy_gives_no_verdict() -> None:
    broken = QualifiedPolicy(QualifierKind.ALIAS, "prod", UnreadablePolicy("not JSON"))
    with pytest.raises(InvalidInputError, match="alias 'prod' policy: not JSON"):
        check_public_access(function(qualified_policies=(broken,)), NO_PARAMETERS)


@pytest.mark.parametrize(("raw", "expected"), [("true", True), (" FALSE ", False), ("", None)])
def test_check_versions_is_a_boolean(raw: str, expected: bool | None) -> None:
    rule = get_rule("lambda-function-public-access-prohibited")
    assert parse_parameters(rule, {"checkVersions": raw}).boolean("checkVersions") is expected


@pytest.mark.parametrize("raw", ["yes", "1", "tru"])
def test_check_versions_rejects_anything_else(raw: str) -> None:
    rule = get_rule("lambda-function-public-access-prohibited")
    with pytest.raises(InvalidParameterError, match="checkVersions"):
        parse_parameters(rule, {"checkVersions": raw})
