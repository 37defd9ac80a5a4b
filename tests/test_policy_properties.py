"""Properties of the policy analysis that must hold for any statement, not just the examples."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.checks.public_access import check_public_access
from rules.model import Compliance
from rules.parameters import NO_PARAMETERS
from tests.factories import ACCOUNT, with_policy

principals = st.sampled_from(
    [
        "*",
        {"AWS": "*"},
        {"AWS": ["arn:aws:iam::444455556666:root", "*"]},
        {"AWS": "arn:aws:iam::444455556666:root"},
        {"Service": "s3.amazonaws.com"},
        {"Service": "sns.amazonaws.com"},
        {"AWS": "444455556666"},
    ]
)
condition_keys = st.sampled_from(
    [
        "aws:SourceAccount",
        "AWS:SourceArn",
        "aws:PrincipalOrgID",
        "lambda:FunctionUrlAuthType",
        "lambda:InvokedViaFunctionUrl",
        "aws:SourceIp",
        "aws:PrincipalArn",
        "aws:PrincipalOrgPaths",
    ]
)
operators = st.sampled_from(
    [
        "StringEquals",
        "StringEqualsIgnoreCase",
        "StringLike",
        "ArnLike",
        "ArnEquals",
        "StringNotEquals",
        "ForAnyValue:StringEquals",
        "ForAllValues:StringEquals",
        "StringEqualsIfExists",
        "ArnLikeIfExists",
        "Bool",
    ]
)
# Operators that a request without the key satisfies: they can never make a statement private.
absent_key_operators = st.sampled_from(
    [
        "StringEqualsIfExists",
        "StringLikeIfExists",
        "ArnLikeIfExists",
        "ForAnyValue:StringEqualsIfExists",
        "ForAllValues:StringEquals",
        "ForAllValues:StringLike",
    ]
)
values = st.sampled_from(
    [
        ACCOUNT,
        "*",
        "o-a1b2c3d4e5",
        "NONE",
        "true",
        "arn:aws:s3:::bucket",
        f"arn:aws:sns:us-east-1:{ACCOUNT}:topic",
        "arn:aws:sns:us-east-1:*:topic",
        f"arn:aws:sns:*:{ACCOUNT}:topic",
        "o-a1b2c3d4e5/r-ab12/*",
        "o-*/r-ab12/*",
        "${aws:username}",
    ]
)
conditions = st.dictionaries(
    operators, st.dictionaries(condition_keys, values, max_size=2), max_size=2
)
actions = st.sampled_from(
    ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl", "lambda:GetFunction", "*"]
)


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "Sid": draw(st.text("abcdefgh-", min_size=1, max_size=8)),
        "Effect": draw(st.sampled_from(["Allow", "Deny"])),
        "Action": draw(actions),
    }
    raw["NotPrincipal" if draw(st.booleans()) and draw(st.booleans()) else "Principal"] = draw(
        principals
    )
    condition = draw(conditions)
    if condition:
        raw["Condition"] = condition
    return raw


def verdict(*raw: dict[str, Any]) -> Compliance:
    return check_public_access(with_policy(*raw), NO_PARAMETERS).compliance


@settings(max_examples=300, deadline=None)
@given(st.lists(statements(), max_size=4), statements())
def test_adding_a_deny_never_makes_a_compliant_policy_non_compliant(
    policy: list[dict[str, Any]], extra: dict[str, Any]
) -> None:
    extra["Effect"] = "Deny"
    if verdict(*policy) is Compliance.COMPLIANT:
        assert verdict(*policy, extra) is Compliance.COMPLIANT


@settings(max_examples=300, deadline=None)
@given(statements())
def test_fixed_source_account_condition_makes_a_star_statement_non_public(
    raw: dict[str, Any],
) -> None:
    raw.pop("NotPrincipal", None)
    raw["Principal"] = "*"
    raw["Effect"] = "Allow"
    raw.setdefault("Condition", {}).setdefault("StringEquals", {})["aws:SourceAccount"] = ACCOUNT
    assert verdict(raw) is Compliance.COMPLIANT


@settings(max_examples=300, deadline=None)
@given(statements(), conditions)
def test_adding_conditions_never_makes_a_statement_public(
    raw: dict[str, Any], extra: dict[str, dict[str, str]]
) -> None:
    # Conditions are ANDed: more of them can only narrow a grant.
    widened = copy.deepcopy(raw)
    block = widened.setdefault("Condition", {})
    for operator, keys in extra.items():
        block.setdefault(operator, {}).update(
            {k: v for k, v in keys.items() if k not in block.get(operator, {})}
        )
    if verdict(raw) is Compliance.COMPLIANT:
        assert verdict(widened) is Compliance.COMPLIANT


@settings(max_examples=200, deadline=None)
@given(st.lists(statements(), min_size=1, max_size=5), st.randoms())
def test_statement_order_does_not_change_the_verdict(
    policy: list[dict[str, Any]], random: Any
) -> None:
    shuffled = list(policy)
    random.shuffle(shuffled)
    assert verdict(*policy) is verdict(*shuffled)


@settings(max_examples=200, deadline=None)
@given(statements())
def test_a_statement_that_is_not_allow_or_has_no_risky_principal_is_never_public(
    raw: dict[str, Any],
) -> None:
    risky = raw.get("Principal") in ("*", {"AWS": "*"}) or "NotPrincipal" in raw
    named_only = raw.get("Principal") in (
        {"AWS": "arn:aws:iam::444455556666:root"},
        {"AWS": "444455556666"},
    )
    if raw["Effect"] == "Deny" or (named_only and not risky):
        assert verdict(raw) is Compliance.COMPLIANT


@settings(max_examples=300, deadline=None)
@given(statements(), absent_key_operators, condition_keys, values)
def test_a_condition_a_request_without_the_key_satisfies_never_makes_a_statement_private(
    raw: dict[str, Any], operator: str, key: str, value: str
) -> None:
    # IfExists and ForAllValues: let through a caller whose request lacks the key, so they
    # restrict nobody: a public statement stays public with them, and only with them.
    raw.pop("Condition", None)
    only = copy.deepcopy(raw)
    only["Condition"] = {operator: {key: value}}
    assert verdict(only) is verdict(raw)


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(["aws:SourceArn", "aws:SourceAccount", "aws:PrincipalOrgPaths"]),
    st.sampled_from(["StringEquals", "StringLike", "ArnLike", "ArnEquals"]),
    st.one_of(
        st.text(alphabet="arnws:-/o0123456789abc*?${}", max_size=60),
        st.builds(
            "arn:aws:{}:{}:{}:{}".format,
            st.sampled_from(["sns", "s3", "*", "${aws:x}"]),
            st.sampled_from(["", "us-east-1", "*"]),
            st.sampled_from([ACCOUNT, "*", "12345678901?", "${aws:PrincipalAccount}", ""]),
            st.text(alphabet="ab:/*?${}", max_size=12),
        ),
    ),
)
def test_the_fast_paths_agree_with_the_tokenizer(key: str, operator: str, value: str) -> None:
    """Plain values, and ARNs plain up to the account, skip the tokenizer: same answer."""
    from rules.policy import _open_value_problem, _value_problem

    lowered = (key.lower(), operator.lower())
    assert _value_problem(*lowered, value) == _open_value_problem(*lowered, value)
