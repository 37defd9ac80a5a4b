"""The public-statement analysis: every clause of rule 1's definition of "public"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rules.model import Condition, ResourcePolicy, UnreadablePolicy
from rules.policy import parse_policy, public_finding, unresolved_value
from tests.factories import ACCOUNT, statement

S3_ARN = "arn:aws:s3:::orders-upload-bucket"
APIGW_ARN = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:a1b2c3d4e5/*/POST/orders"


def is_public(raw: dict) -> bool:
    policy = parse_policy({"Version": "2012-10-17", "Statement": [raw]})
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
        "StringEqualsIgnoreCase",
        "StringLike",
        "ForAnyValue:StringEquals",
        "ForAnyValue:StringLike",
    ],
)
def test_fixed_value_on_a_restricting_key_restricts(key: str, operator: str) -> None:
    assert not is_public(statement(condition={operator: {key: "o-abc123def4"}}))


@pytest.mark.parametrize("key", ["aws:SourceArn", "aws:PrincipalArn"])
@pytest.mark.parametrize(
    "operator",
    ["ArnEquals", "ArnLike", "StringEquals", "StringEqualsIgnoreCase", "StringLike"],
)
def test_arn_with_fixed_account_restricts(key: str, operator: str) -> None:
    value = f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"
    assert not is_public(statement(condition={operator: {key: value}}))


@pytest.mark.parametrize(
    "condition",
    [
        {"StringLike": {"aws:SourceAccount": "*"}},
        {"StringLike": {"aws:SourceAccount": "1111222233?3"}},
        {"StringLike": {"aws:PrincipalOrgID": "o-*"}},
        {"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}},
        {"StringLike": {"aws:SourceAccount": [ACCOUNT, "*"]}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:*:alerts"}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:1111222233*:alerts"}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:${aws:PrincipalAccount}:alerts"}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:sns:${aws:Region}:111122223333:alerts"}},
        {"StringLike": {"aws:SourceArn": "arn:aws:sns:*:111122223333:alerts"}},
        {"ArnLike": {"aws:SourceArn": "not-an-arn"}},
        {"ArnLike": {"aws:SourceArn": "*"}},
        {"StringEquals": {"aws:SourceArn": "arn:aws:s3:::bucket"}},
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
        "arn-variable-before-account",
        "glob-before-account-may-span-colons",
        "not-an-arn",
        "arn-star",
        "literal-arn-without-account",
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
        "StringNotEqualsIgnoreCase",
        "Null",
        "NumericEquals",
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


def test_deny_statements_are_never_public() -> None:
    assert not is_public(statement(effect="Deny"))
    assert not is_public(statement(effect="Deny", not_principal=True))


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


def annotation(raw: dict, version: str | None = "2012-10-17") -> str:
    document: dict = {"Statement": [raw]}
    if version is not None:
        document["Version"] = version
    policy = parse_policy(document)
    assert isinstance(policy, ResourcePolicy)
    finding = public_finding(policy.statements[0])
    assert finding is not None
    return finding.describe()


# --- "Public" follows IAM exactly (issue 8, section 2) ----------------------------------------

RESTRICTING_KEYS = [
    "aws:SourceAccount",
    "aws:PrincipalAccount",
    "aws:PrincipalOrgID",
    "aws:SourceVpce",
    "lambda:EventSourceToken",
]


@pytest.mark.parametrize("key", RESTRICTING_KEYS)
@pytest.mark.parametrize(
    "operator",
    [
        "StringEqualsIfExists",
        "StringLikeIfExists",
        "StringEqualsIgnoreCaseIfExists",
        "ForAnyValue:StringEqualsIfExists",
        "ForAnyValue:StringLikeIfExists",
    ],
)
def test_if_exists_operators_never_restrict(key: str, operator: str) -> None:
    # A request without the key (a direct IAM call, an unauthenticated URL call) passes.
    raw = statement(condition={operator: {key: ACCOUNT}})
    assert "lets a request without the key through" in annotation(raw)


@pytest.mark.parametrize("operator", ["ArnLikeIfExists", "ArnEqualsIfExists"])
def test_arn_if_exists_operators_never_restrict(operator: str) -> None:
    raw = statement(condition={operator: {"aws:SourceArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:t"}})
    assert "lets a request without the key through" in annotation(raw)


@pytest.mark.parametrize(
    "operator", ["ForAllValues:StringEquals", "ForAllValues:StringLike", "ForAllValues:ArnLike"]
)
def test_for_all_values_never_restricts(operator: str) -> None:
    # ForAllValues is true when the request has no value for the key at all.
    value = ACCOUNT if "Arn" not in operator else f"arn:aws:sns:us-east-1:{ACCOUNT}:t"
    key = "aws:SourceAccount" if "Arn" not in operator else "aws:SourceArn"
    raw = statement(condition={operator: {key: value}})
    assert "matches a request without the key" in annotation(raw)


@pytest.mark.parametrize("operator", ["ForAnyValue:StringEquals", "ForAnyValue:StringLike"])
def test_for_any_value_restricts_like_the_plain_operator(operator: str) -> None:
    # ForAnyValue is false without the key, and compares a single-valued key's one value.
    assert not is_public(statement(condition={operator: {"aws:SourceAccount": ACCOUNT}}))
    assert is_public(statement(condition={operator: {"aws:SourceAccount": "1111*"}})) is (
        operator.endswith("Like")
    )


@pytest.mark.parametrize("operator", ["StringEquals", "StringEqualsIgnoreCase"])
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("aws:SourceAccount", "*"),
        ("aws:SourceAccount", "1111222233?3"),
        ("aws:PrincipalOrgID", "o-*"),
        ("aws:SourceVpce", "vpce-*"),
        ("aws:SourceArn", "arn:aws:sns:*:111122223333:topic"),
        ("aws:SourceArn", "arn:aws:sns:us-east-1:111122223333:*"),
    ],
)
def test_wildcard_characters_are_literal_in_string_equals(
    operator: str, key: str, value: str
) -> None:
    # The value is one exact text (matching nothing real when it holds "*"): it restricts.
    assert not is_public(statement(condition={operator: {key: value}}))


@pytest.mark.parametrize(
    ("operator", "value"),
    [
        ("StringLike", "*"),
        ("StringLike", "1111222233?3"),
        ("ArnLike", "arn:aws:sns:us-east-1:*:topic"),
        ("ArnEquals", "arn:aws:sns:us-east-1:*:topic"),
        ("ArnEquals", "arn:aws:sns:us-east-1:11112222333?:topic"),
    ],
)
def test_wildcards_are_wildcards_in_like_and_arn_operators(operator: str, value: str) -> None:
    key = "aws:SourceArn" if operator.startswith("Arn") else "aws:SourceAccount"
    assert "wildcard" in annotation(statement(condition={operator: {key: value}}))


@pytest.mark.parametrize("operator", ["ArnLike", "ArnEquals", "StringEquals"])
@pytest.mark.parametrize(
    "value",
    [
        "arn:aws:sns:*:111122223333:topic",
        "arn:*:sns:us-east-1:111122223333:topic",
        "arn:aws:*:*:111122223333:*",
        "arn:aws:execute-api:?s-east-1:111122223333:a1b2c3d4e5/*/POST/orders",
    ],
)
def test_arn_with_fixed_account_restricts_whatever_its_other_fields_hold(
    operator: str, value: str
) -> None:
    assert not is_public(statement(condition={operator: {"aws:SourceArn": value}}))


def test_glob_wildcard_before_the_account_field_does_not_pin_it() -> None:
    # StringLike's "*" spans colons: "arn:aws:sns:*:111122223333:t" also matches an ARN of
    # another account whose later fields happen to hold ":111122223333:t".
    raw = statement(
        condition={"StringLike": {"aws:SourceArn": "arn:aws:*:*:111122223333:*"}},
    )
    assert "has a wildcard before the account field" in annotation(raw)
    after = statement(
        condition={"StringLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:*"}}
    )
    assert not is_public(after)


@pytest.mark.parametrize("key", ["aws:PrincipalOrgPaths", "aws:SourceOrgPaths"])
@pytest.mark.parametrize(
    ("operator", "value"),
    [
        ("StringLike", "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"),
        ("ForAnyValue:StringLike", "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"),
        ("ForAnyValue:StringLike", "o-a1b2c3d4e5/*"),
        ("StringLike", "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-22222222/"),
        ("StringEquals", "o-abc/*"),
        ("StringEquals", "o-*/r-ab12/*"),
        ("StringLike", "o-a1b2c3d4e5/${aws:PrincipalTag/ou}/*"),
    ],
)
def test_org_path_with_a_fixed_organization_id_restricts(
    key: str, operator: str, value: str
) -> None:
    assert not is_public(statement(condition={operator: {key: value}}))


@pytest.mark.parametrize("key", ["aws:PrincipalOrgPaths", "aws:SourceOrgPaths"])
@pytest.mark.parametrize(
    ("operator", "value"),
    [
        ("StringLike", "o-*/r-ab12/ou-ab12-11111111/*"),
        ("StringLike", "o-a1b2c3d4e5*"),
        ("StringLike", "o-a1b2c3d4e?/*"),
        ("StringLike", "*/r-ab12/*"),
        ("ForAnyValue:StringLike", "*"),
        ("StringEquals", "${aws:PrincipalOrgID}/*"),
    ],
)
def test_org_path_with_a_wildcard_inside_the_organization_id_does_not_restrict(
    key: str, operator: str, value: str
) -> None:
    assert "inside the organization id" in annotation(statement(condition={operator: {key: value}}))


@pytest.mark.parametrize(
    "value", ["11112222333${?}", "${*}", "arn:aws:sns:us-east-1:111122223333:${*}"]
)
def test_iam_escapes_are_literal_characters(value: str) -> None:
    key = "aws:SourceArn" if value.startswith("arn") else "aws:SourceAccount"
    assert not is_public(statement(condition={"StringLike": {key: value}}))


@pytest.mark.parametrize(
    ("version", "public"), [("2012-10-17", True), ("2008-10-17", False), (None, False)]
)
def test_policy_variables_are_variables_only_in_version_2012(
    version: str | None, public: bool
) -> None:
    # Before 2012-10-17 (and without Version, which means 2008-10-17) "${...}" is plain text.
    document: dict = {
        "Statement": [
            statement(condition={"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}})
        ]
    }
    if version:
        document["Version"] = version
    policy = parse_policy(json.dumps(document))
    assert isinstance(policy, ResourcePolicy)
    assert (public_finding(policy.statements[0]) is not None) is public


def test_unresolved_principal_is_never_a_named_account() -> None:
    raw = statement(principal={"AWS": unresolved_value("Ref PartnerAccount")})
    assert annotation(raw) == (
        "statement 's1' allows a principal that is an unresolved CloudFormation value "
        "(Ref PartnerAccount) lambda:InvokeFunction without a condition"
    )
    embedded = statement(principal={"AWS": f"arn:aws:iam::{unresolved_value('Ref A')}:root"})
    assert "unresolved CloudFormation value (Ref A)" in annotation(embedded)


def test_unresolved_principal_with_a_restricting_condition_is_not_public() -> None:
    raw = statement(
        principal={"AWS": unresolved_value("Ref PartnerAccount")},
        condition={"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
    )
    assert not is_public(raw)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("aws:SourceAccount", unresolved_value("Fn::ImportValue shared-account")),
        ("aws:SourceArn", unresolved_value("Ref TopicArn")),
        ("aws:SourceArn", f"arn:aws:sns:us-east-1:{unresolved_value('Ref Account')}:t"),
        ("aws:PrincipalOrgID", unresolved_value("Fn::If [UseOrg, ...]")),
    ],
)
def test_unresolved_condition_value_does_not_restrict(key: str, value: str) -> None:
    operator = "ArnLike" if key == "aws:SourceArn" else "StringEquals"
    text = annotation(
        statement(principal={"Service": "sns.amazonaws.com"}, condition={operator: {key: value}})
    )
    assert "depends on an unresolved CloudFormation value (" in text


def test_unresolved_part_after_a_fixed_account_still_restricts() -> None:
    value = f"arn:aws:sns:us-east-1:{ACCOUNT}:{unresolved_value('Ref TopicName')}"
    assert not is_public(statement(condition={"ArnLike": {"aws:SourceArn": value}}))


# --- a policy that is not well-formed gives no verdict ---------------------------------------

VALID = {"Sid": "s1", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction"}


def reason_of(document: object) -> str:
    policy = parse_policy(document if isinstance(document, str) else json.dumps(document))
    assert isinstance(policy, UnreadablePolicy), policy
    return policy.reason


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('{"Statement": [], "Statement": []}', "Statement"),
        (
            '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "x",'
            ' "Condition": {}, "Condition": {}}]}',
            "Condition",
        ),
        (
            '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "x", "Condition":'
            ' {"StringEquals": {"aws:SourceAccount": "111122223333",'
            ' "aws:SourceAccount": "*"}}}]}',
            "aws:SourceAccount",
        ),
    ],
    ids=["top-level", "statement", "condition-block"],
)
def test_duplicate_keys_are_unreadable(text: str, key: str) -> None:
    # json.loads would keep the last one: the policy Lambda evaluates may differ from ours.
    assert reason_of(text) == (
        f"resource policy is not valid JSON (has the key '{key}' twice in one object)"
    )


@pytest.mark.parametrize(
    "value",
    [None, {"a": "b"}, [ACCOUNT, None], [ACCOUNT, {"a": "b"}], [[ACCOUNT]]],
    ids=["null", "object", "list-with-null", "list-with-object", "nested-list"],
)
def test_condition_value_that_is_not_a_string_number_or_boolean_is_unreadable(
    value: object,
) -> None:
    raw = dict(VALID, Condition={"StringEquals": {"aws:SourceAccount": value}})
    reason = reason_of({"Statement": [raw]})
    assert reason.startswith("statement #1 condition StringEquals aws:SourceAccount holds ")
    assert reason.endswith("where a string, number or Boolean must be")


@pytest.mark.parametrize(
    ("value", "text"),
    [(int(ACCOUNT), ACCOUNT), (True, "true"), ([ACCOUNT, "444455556666"], None)],
)
def test_condition_numbers_and_booleans_are_read_as_their_text(
    value: object, text: str | None
) -> None:
    # IAM's grammar makes quotes optional for numbers and Booleans.
    raw = dict(VALID, Condition={"StringEquals": {"aws:SourceAccount": value}})
    policy = parse_policy(json.dumps({"Statement": [raw]}))
    assert isinstance(policy, ResourcePolicy)
    if text is not None:
        assert policy.statements[0].conditions[0].values == (text,)


def test_condition_that_is_null_is_unreadable() -> None:
    assert "Condition that is null" in reason_of({"Statement": [dict(VALID, Condition=None)]})


def test_statement_without_principal_is_unreadable() -> None:
    raw = {k: v for k, v in VALID.items() if k != "Principal"}
    assert reason_of({"Statement": [raw]}) == (
        "statement #1 has neither Principal nor NotPrincipal"
    )


def test_statement_with_principal_and_not_principal_is_unreadable() -> None:
    raw = dict(VALID, NotPrincipal={"AWS": ACCOUNT})
    assert "has both Principal and NotPrincipal" in reason_of({"Statement": [raw]})


def test_statement_without_action_is_unreadable() -> None:
    raw = {k: v for k, v in VALID.items() if k != "Action"}
    assert "has neither Action nor NotAction" in reason_of({"Statement": [raw]})


@pytest.mark.parametrize("document", [{}, {"Version": "2012-10-17"}, {"Id": "default"}])
def test_document_without_statement_is_unreadable(document: dict) -> None:
    assert reason_of(document) == "resource policy has no Statement"


@pytest.mark.parametrize(
    ("document", "name", "spelled"),
    [
        ({"statement": [VALID]}, "statement", "Statement"),
        ({"Statement": [VALID], "version": "2012-10-17"}, "version", "Version"),
        ({"Statement": [{**VALID, "Principal": None, "principal": "*"}]}, "principal", None),
        ({"Statement": [dict(VALID, effect="Allow")]}, "effect", "Effect"),
        ({"Statement": [dict(VALID, condition={})]}, "condition", "Condition"),
        ({"Statement": [dict(VALID, resource="*")]}, "resource", "Resource"),
        ({"Statement": [dict(VALID, sid="x")]}, "sid", "Sid"),
        ({"Statement": [dict(VALID, Principal={"aws": ACCOUNT})]}, "aws", "AWS"),
        ({"Statement": [dict(VALID, Principal={"service": "s3.amazonaws.com"})]}, "service", None),
    ],
)
def test_element_names_in_the_wrong_case_are_unreadable(
    document: dict, name: str, spelled: str | None
) -> None:
    if name == "principal":
        document["Statement"][0].pop("Principal")
    reason = reason_of(document)
    assert f"has element '{name}': IAM element names are case-sensitive" in reason
    if spelled:
        assert f"(it must be '{spelled}')" in reason


def test_unknown_element_is_unreadable() -> None:
    reason = reason_of({"Statement": [dict(VALID, Principals="*")]})
    assert "has element 'Principals', which IAM's policy grammar does not know" in reason


@pytest.mark.parametrize("effect", ["allow", "deny", "ALLOW", "", None, 1])
def test_effect_other_than_allow_or_deny_is_unreadable(effect: object) -> None:
    assert 'it must be "Allow" or "Deny"' in reason_of({"Statement": [dict(VALID, Effect=effect)]})


def test_statement_without_effect_is_unreadable() -> None:
    raw = {k: v for k, v in VALID.items() if k != "Effect"}
    assert reason_of({"Statement": [raw]}).startswith("statement #1 has no Effect")


@pytest.mark.parametrize(
    "principal", [None, [], {}, {"AWS": None}, {"AWS": [ACCOUNT, None]}, {"AWS": {"x": "y"}}, 5]
)
def test_principal_that_is_not_strings_is_unreadable(principal: object) -> None:
    assert "Principal" in reason_of({"Statement": [dict(VALID, Principal=principal)]})


@pytest.mark.parametrize("action", [None, [], 5, {"x": "y"}, ["lambda:InvokeFunction", None]])
def test_action_that_is_not_strings_is_unreadable(action: object) -> None:
    assert "Action" in reason_of({"Statement": [dict(VALID, Action=action)]})


def test_unknown_version_is_unreadable() -> None:
    assert "Version" in reason_of({"Version": "2020-01-01", "Statement": [VALID]})


@pytest.mark.parametrize(
    "text",
    [
        '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "x", "Condition":'
        ' {"NumericEquals": {"n": NaN}}}]}',
        "[" * 100_000 + "]" * 100_000,
    ],
    ids=["nan", "deep"],
)
def test_json_python_accepts_but_iam_does_not_is_unreadable(text: str) -> None:
    assert isinstance(parse_policy(text), UnreadablePolicy)


def test_moto_top_level_function_url_keys_are_read_as_conditions() -> None:
    raw = dict(VALID, FunctionUrlAuthType="NONE", InvokedViaFunctionUrl=True)
    policy = parse_policy(json.dumps({"Statement": [raw]}))
    assert isinstance(policy, ResourcePolicy)
    assert policy.statements[0].conditions == (
        Condition("StringEquals", "lambda:FunctionUrlAuthType", ("NONE",)),
        Condition("Bool", "lambda:InvokedViaFunctionUrl", ("true",)),
    )


def test_not_action_and_not_resource_are_accepted() -> None:
    raw = {k: v for k, v in VALID.items() if k != "Action"}
    raw.update(NotAction="lambda:GetPolicy", NotResource="arn:aws:lambda:*:*:function:x")
    assert isinstance(parse_policy(json.dumps({"Statement": [raw]})), ResourcePolicy)


REAL_SOURCES = [
    *sorted((Path(__file__).parent / "events").glob("*.json")),
    *sorted((Path(__file__).parent.parent / "examples").glob("*.json")),
]


def policy_texts(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k == "Policy" and isinstance(v, str)]
        return found + [text for value in node.values() for text in policy_texts(value)]
    if isinstance(node, list):
        return [text for value in node for text in policy_texts(value)]
    if isinstance(node, str) and node.startswith("{") and '"Policy' in node:
        return policy_texts(json.loads(node))
    return []


def test_real_lambda_policies_still_parse() -> None:
    texts = [text for path in REAL_SOURCES for text in policy_texts(json.loads(path.read_text()))]
    assert len(texts) >= 5
    for text in texts:
        assert isinstance(parse_policy(text), ResourcePolicy), text


@pytest.mark.parametrize(
    "principal", ["s3.amazonaws.com", "alexa-appkit.amazon.com", "arn:aws:iam::111122223333:root"]
)
def test_a_bare_string_principal_other_than_a_star_is_unreadable(principal: str) -> None:
    """IAM takes only "*" as a bare principal (moto's bare account id is tolerated): a bare
    service name must not read as a named, non-public principal."""
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "lambda:*"}],
    }
    assert "IAM takes only" in reason_of(document)


def test_moto_bare_account_principal_is_still_read() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "111122223333", "Action": "lambda:*"}],
    }
    policy = parse_policy(json.dumps(document))
    assert isinstance(policy, ResourcePolicy)
