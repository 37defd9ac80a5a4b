"""The public-statement analysis: every clause of rule 1's definition of "public"."""

from __future__ import annotations

import json

import pytest

from rules.model import ResourcePolicy, UnreadablePolicy
from rules.policy import parse_policy, public_finding
from tests.factories import ACCOUNT, statement

S3_ARN = "arn:aws:s3:::orders-upload-bucket"
APIGW_ARN = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:a1b2c3d4e5/*/POST/orders"


def is_public(raw: dict) -> bool:
    policy = parse_policy({"Statement": [raw]})
    assert isinstance(policy, ResourcePolicy)
    return public_finding(policy.statements[0]) is not None


@pytest.mark.parametrize(
    "principal",
    [
        "*",
        {"AWS": "*"},
        {"AWS": ["arn:aws:iam::444455556666:root", "*"]},
        ["*"],
        {"CanonicalUser": "*"},
    ],
    ids=["bare-star", "aws-star", "list-with-star", "list-star", "other-kind-star"],
)
def test_star_principals_without_condition_are_public(principal: object) -> None:
    assert is_public(statement(principal=principal))


@pytest.mark.parametrize("principal", [{"AWS": "arn:aws:iam::*:root"}, {"AWS": "1111222233?3"}])
def test_partial_wildcard_principals_are_public(principal: object) -> None:
    assert is_public(statement(principal=principal))


def test_not_principal_allow_is_public() -> None:
    assert is_public(
        statement(principal={"AWS": "arn:aws:iam::444455556666:root"}, not_principal=True)
    )


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": "arn:aws:iam::444455556666:root"},
        {"AWS": "444455556666"},
        {"AWS": ["arn:aws:iam::444455556666:role/caller", "arn:aws:iam::777788889999:root"]},
    ],
)
def test_named_account_principals_are_not_public(principal: object) -> None:
    assert not is_public(statement(principal=principal))


@pytest.mark.parametrize(
    "service", ["s3.amazonaws.com", "sns.amazonaws.com", "events.amazonaws.com"]
)
def test_service_principal_without_condition_is_public(service: str) -> None:
    assert is_public(statement(principal={"Service": service}))


def test_s3_grant_with_only_a_bucket_arn_is_public() -> None:
    # An S3 bucket ARN carries no account: anyone's bucket of that name could invoke.
    raw = statement(
        principal={"Service": "s3.amazonaws.com"}, condition={"ArnLike": {"AWS:SourceArn": S3_ARN}}
    )
    assert is_public(raw)


def test_s3_grant_with_source_account_is_not_public() -> None:
    condition = {
        "StringEquals": {"AWS:SourceAccount": ACCOUNT},
        "ArnLike": {"AWS:SourceArn": S3_ARN},
    }
    assert not is_public(statement(principal={"Service": "s3.amazonaws.com"}, condition=condition))


def test_apigateway_arn_with_wildcards_after_the_account_restricts() -> None:
    raw = statement(
        principal={"Service": "apigateway.amazonaws.com"},
        condition={"ArnLike": {"AWS:SourceArn": APIGW_ARN}},
    )
    assert not is_public(raw)


@pytest.mark.parametrize(
    "key",
    [
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:PrincipalAccount",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "lambda:EventSourceToken",
    ],
)
@pytest.mark.parametrize(
    "operator",
    [
        "StringEquals",
        "StringLike",
        "StringEqualsIfExists",
        "ForAnyValue:StringEquals",
        "ForAnyValue:StringLikeIfExists",
    ],
)
def test_fixed_value_on_a_restricting_key_restricts(key: str, operator: str) -> None:
    assert not is_public(statement(condition={operator: {key: "o-abc123def4"}}))


@pytest.mark.parametrize("key", ["aws:SourceArn", "aws:PrincipalArn"])
@pytest.mark.parametrize(
    "operator", ["ArnEquals", "ArnLike", "ArnLikeIfExists", "StringEquals", "StringLike"]
)
def test_arn_with_fixed_account_restricts(key: str, operator: str) -> None:
    value = f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"
    assert not is_public(statement(condition={operator: {key: value}}))


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:SourceAccount": "*"}},
        {"StringLike": {"aws:SourceAccount": "1111222233?3"}},
        {"StringLike": {"aws:PrincipalOrgID": "o-*"}},
        {"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}},
        {"StringEquals": {"aws:SourceAccount": [ACCOUNT, "*"]}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:*:alerts"}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:1111222233*:alerts"}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:${aws:PrincipalAccount}:alerts"}},
        {"ArnLike": {"aws:SourceArn": "arn:*:sns:us-east-1:111122223333:alerts"}},
        {"ArnLike": {"aws:SourceArn": "not-an-arn"}},
        {"ArnLike": {"aws:SourceArn": "*"}},
        {"StringEquals": {"aws:SourceAccount": []}},
    ],
    ids=[
        "star",
        "question-mark",
        "prefix-wildcard",
        "policy-variable",
        "one-of-many-is-star",
        "arn-account-star",
        "arn-partial-account",
        "arn-variable",
        "arn-partition-wildcard",
        "not-an-arn",
        "arn-star",
        "no-values",
    ],
)
def test_non_fixed_values_do_not_restrict(condition: dict) -> None:
    assert is_public(statement(condition=condition))


@pytest.mark.parametrize(
    "operator",
    [
        "StringNotEquals",
        "StringNotLike",
        "ArnNotEquals",
        "ArnNotLike",
        "ForAllValues:StringEquals",
        "Null",
        "StringEqualsIgnoreCase",
    ],
)
def test_other_operators_do_not_restrict(operator: str) -> None:
    assert is_public(statement(condition={operator: {"aws:SourceAccount": ACCOUNT}}))


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
        {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}},
        {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}},
        {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
        {"StringEquals": {"aws:UserAgent": "curl"}},
    ],
)
def test_keys_outside_the_list_never_restrict(condition: dict) -> None:
    assert is_public(statement(condition=condition))


def test_one_restricting_condition_is_enough() -> None:
    condition = {
        "StringEquals": {"lambda:FunctionUrlAuthType": "NONE", "aws:PrincipalOrgID": "o-a1b2c3d4e5"}
    }
    assert not is_public(statement(action="lambda:InvokeFunctionUrl", condition=condition))


def test_condition_keys_and_operators_are_case_insensitive() -> None:
    assert not is_public(statement(condition={"stringequals": {"AWS:SOURCEACCOUNT": ACCOUNT}}))


def test_numeric_condition_value_is_read_as_text() -> None:
    assert not is_public(statement(condition={"StringEquals": {"aws:SourceAccount": int(ACCOUNT)}}))


@pytest.mark.parametrize("effect", ["Deny", "deny"])
def test_deny_statements_are_never_public(effect: str) -> None:
    assert not is_public(statement(effect=effect))
    assert not is_public(statement(effect=effect, not_principal=True))


@pytest.mark.parametrize(
    "action", ["lambda:GetFunction", "lambda:*", "*", ["lambda:invokeFunction", "lambda:GetPolicy"]]
)
def test_any_action_counts(action: object) -> None:
    assert is_public(statement(action=action))


def test_not_action_allow_counts() -> None:
    raw = statement()
    raw["NotAction"] = raw.pop("Action")
    assert is_public(raw)


def test_moto_function_url_shape_is_public() -> None:
    # moto writes the auth type as a top-level key instead of a condition.
    raw = statement(action="lambda:InvokeFunctionUrl")
    raw["FunctionUrlAuthType"] = "NONE"
    assert is_public(raw)


def test_statement_may_be_a_single_object() -> None:
    policy = parse_policy(json.dumps({"Statement": statement()}))
    assert isinstance(policy, ResourcePolicy) and len(policy.statements) == 1


def test_double_encoded_policy_text_is_decoded() -> None:
    text = json.dumps(json.dumps({"Statement": [statement()]}))
    policy = parse_policy(text)
    assert isinstance(policy, ResourcePolicy) and len(policy.statements) == 1


@pytest.mark.parametrize("document", [None, "", "null", json.dumps("null")])
def test_missing_policy_is_none(document: object) -> None:
    assert parse_policy(document) is None


@pytest.mark.parametrize(
    "document",
    [
        "{not json",
        "[1, 2]",
        json.dumps({"Statement": "x"}),
        json.dumps({"Statement": [1]}),
        json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Condition": "x"}]}),
    ],
)
def test_malformed_policy_is_unreadable(document: str) -> None:
    assert isinstance(parse_policy(document), UnreadablePolicy)


def test_finding_names_the_statement_principal_and_reason() -> None:
    policy = parse_policy({"Statement": [statement(sid="public-invoke")]})
    assert isinstance(policy, ResourcePolicy)
    finding = public_finding(policy.statements[0])
    assert finding is not None
    assert finding.describe() == (
        "statement 'public-invoke' allows Principal '*' lambda:InvokeFunction without a condition"
    )


def test_statement_without_sid_is_named_by_position() -> None:
    policy = parse_policy(
        {"Statement": [statement(principal={"AWS": "111122223333"}), statement(sid=None)]}
    )
    assert isinstance(policy, ResourcePolicy)
    finding = public_finding(policy.statements[1])
    assert finding is not None and finding.describe().startswith("statement #2 ")
