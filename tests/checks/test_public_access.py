from __future__ import annotations

import pytest

from rules.checks.public_access import check_public_access
from rules.errors import InvalidInputError
from rules.model import Compliance, UnreadablePolicy
from rules.parameters import NO_PARAMETERS
from rules.policy import parse_policy
from tests.factories import ACCOUNT, function, statement, with_policy

URL_PUBLIC = statement(
    sid="FunctionURLAllowPublicAccess",
    action="lambda:InvokeFunctionUrl",
    condition={"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
)
URL_INVOKE = statement(
    sid="FunctionURLAllowInvokeAction",
    condition={"Bool": {"lambda:InvokedViaFunctionUrl": "true"}},
)
S3_NO_ACCOUNT = statement(
    sid="s3-invoke-no-account",
    principal={"Service": "s3.amazonaws.com"},
    condition={"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::orders-upload-bucket"}},
)
CROSS_ACCOUNT = statement(sid="partner", principal={"AWS": "arn:aws:iam::444455556666:root"})
S3_WITH_ACCOUNT = statement(
    sid="s3-invoke",
    principal={"Service": "s3.amazonaws.com"},
    condition={
        "StringEquals": {"AWS:SourceAccount": ACCOUNT},
        "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::orders-upload-bucket"},
    },
)


@pytest.mark.parametrize(
    ("statements", "expected", "fragment"),
    [
        ((), Compliance.COMPLIANT, "has no resource-based policy"),
        ((CROSS_ACCOUNT, S3_WITH_ACCOUNT), Compliance.COMPLIANT, "none of the 2"),
        ((URL_PUBLIC,), Compliance.NON_COMPLIANT, "lambda:FunctionUrlAuthType never restricts"),
        ((URL_INVOKE,), Compliance.NON_COMPLIANT, "lambda:InvokedViaFunctionUrl never restricts"),
        ((S3_NO_ACCOUNT,), Compliance.NON_COMPLIANT, "has no fixed 12-digit account"),
        (
            (statement(sid="get", action="lambda:GetFunction"),),
            Compliance.NON_COMPLIANT,
            "lambda:GetFunction",
        ),
        ((statement(sid="deny-all", effect="Deny"),), Compliance.COMPLIANT, "none of the 1"),
    ],
    ids=[
        "no-policy",
        "restricted",
        "url-none",
        "url-invoke",
        "s3-no-account",
        "get-function",
        "deny",
    ],
)
def test_verdicts(statements: tuple, expected: Compliance, fragment: str) -> None:
    fn = with_policy(*statements) if statements else function()
    result = check_public_access(fn, NO_PARAMETERS)
    assert result.compliance is expected
    assert fragment in result.annotation


def test_empty_statement_list_is_compliant() -> None:
    assert check_public_access(with_policy(), NO_PARAMETERS).compliance is Compliance.COMPLIANT


def test_every_public_statement_is_named_within_the_annotation_limit() -> None:
    result = check_public_access(
        with_policy(URL_PUBLIC, URL_INVOKE, S3_NO_ACCOUNT, CROSS_ACCOUNT), NO_PARAMETERS
    )
    head = result.annotation[:256]
    assert result.annotation.startswith("3 public statements")
    for sid in (
        "FunctionURLAllowPublicAccess",
        "FunctionURLAllowInvokeAction",
        "s3-invoke-no-account",
    ):
        assert sid in head
    assert "partner" not in result.annotation


def test_unreadable_policy_gives_no_verdict() -> None:
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        check_public_access(
            function(policy=UnreadablePolicy("resource policy is not valid JSON (x)")),
            NO_PARAMETERS,
        )


def test_if_exists_condition_leaves_a_public_url_public() -> None:
    # The IfExists variant lets an unauthenticated function URL call (no SourceAccount) in.
    url = statement(
        sid="url",
        action="lambda:InvokeFunctionUrl",
        condition={
            "StringEquals": {"lambda:FunctionUrlAuthType": "NONE"},
            "StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT},
        },
    )
    result = check_public_access(with_policy(url), NO_PARAMETERS)
    assert result.compliance is Compliance.NON_COMPLIANT
    assert "StringEqualsIfExists on aws:SourceAccount lets a request without the key" in (
        result.annotation
    )


def test_string_equals_ignore_case_restricts() -> None:
    s3 = statement(
        sid="s3",
        principal={"Service": "s3.amazonaws.com"},
        condition={"StringEqualsIgnoreCase": {"aws:SourceAccount": ACCOUNT}},
    )
    assert check_public_access(with_policy(s3), NO_PARAMETERS).compliance is Compliance.COMPLIANT


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            '{"Version": "2012-10-17", "Statement": [{"Sid": "a", "Effect": "Allow",'
            ' "Principal": "*", "Action": "lambda:InvokeFunction", "Condition":'
            ' {"StringEquals": {"aws:SourceAccount": "111122223333"}},'
            ' "Condition": {"StringEquals": {"aws:SourceAccount": "444455556666"}}}]}',
            "has the key 'Condition' twice in one object",
        ),
        (
            '{"Version": "2012-10-17", "Statement": [{"Sid": "a", "Effect": "Allow",'
            ' "principal": "*", "Action": "lambda:InvokeFunction"}]}',
            "IAM element names are case-sensitive",
        ),
        (
            '{"Version": "2012-10-17", "Statement": [{"Sid": "a", "Effect": "Allow",'
            ' "Action": "lambda:InvokeFunction"}]}',
            "has neither Principal nor NotPrincipal",
        ),
    ],
    ids=["duplicate-key", "wrong-case", "no-principal"],
)
def test_malformed_policy_gives_no_verdict_and_names_the_problem(text: str, problem: str) -> None:
    with pytest.raises(InvalidInputError, match=problem):
        check_public_access(function(policy=parse_policy(text)), NO_PARAMETERS)
