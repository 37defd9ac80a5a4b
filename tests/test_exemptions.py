"""rules.exemptions: the tag grammar, the decision for a rule at a date, and the engine's use."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from types import MappingProxyType

import pytest

from rules.engine import evaluate_function
from rules.exemptions import (
    DEFAULT_TAG_KEY,
    EXAMPLE,
    Exemption,
    ExemptionError,
    ExemptionPolicy,
    Status,
    exemption_for,
    parse_exemption,
    tag_key_problem,
)
from rules.model import Compliance, LambdaFunction
from rules.parameters import NO_PARAMETERS
from rules.registry import RULES, RULES_BY_ID
from rules.rule import Rule

VPC = "lambda-inside-vpc"
DLQ = "lambda-dlq-check"
TODAY = date(2026, 6, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (EXAMPLE, Exemption((VPC, DLQ), "public webhook behind WAF", date(2027, 1, 31))),
        (f"rules={VPC} reason=legacy", Exemption((VPC,), "legacy")),
        # any order, names and ids case-insensitive, reason kept as written (spaces collapsed)
        (
            "until=2027-01-31 REASON=Public  Webhook rules=LAMBDA-INSIDE-VPC",
            Exemption((VPC,), "Public Webhook", date(2027, 1, 31)),
        ),
        # every allowed character: a reason may carry a ticket URL and an e-mail address
        (
            f"rules={VPC} + {DLQ} reason=see https://jira.example/SEC-1 by ops@example.com_x=1",
            Exemption((VPC, DLQ), "see https://jira.example/SEC-1 by ops@example.com_x=1"),
        ),
        (f"rules={VPC} reason=café über", Exemption((VPC,), "café über")),  # letters of any script
    ],
)
def test_valid_values_parse(value: str, expected: Exemption) -> None:
    assert parse_exemption(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "the value is empty"),
        ("   ", "the value is empty"),
        # the issue's own example: ',' and ';' are not allowed in a Lambda tag value
        (
            f"{VPC},{DLQ}; public webhook behind WAF; until=2027-01-31",
            "',' ';' not allowed in a Lambda tag value",
        ),
        (f"rules={VPC} reason=a\tb", "'\\t' not allowed"),
        (f"rules={VPC} reason=" + "x" * 250, "a Lambda tag value has at most 256"),
        ("reason=no rules here", "no rules= field"),
        (f"rules={VPC}", "no reason= field"),
        (f"rules={VPC} reason=   until=2027-01-01", "reason= is empty"),
        (f"exempt rules={VPC} reason=x", "'exempt' comes before the first field"),
        (f"just text {VPC}", "no rules=, reason= or until= field"),
        (f"rules={VPC} reason=a rules={DLQ}", "rules= is given twice"),
        (f"rules={VPC} reason=x until=2027-01-01 until=2028-01-01", "until= is given twice"),
        (f"rules={VPC}+lambda-not-a-rule reason=x", "unknown rule 'lambda-not-a-rule'"),
        (f"rules={VPC}++{DLQ} reason=x", "has an empty rule id"),
        ("rules= reason=x", "has an empty rule id"),
        ("rules=all reason=x", "rules=all is not accepted"),
        (f"rules={VPC}+{VPC.upper()} reason=x", f"names {VPC} twice"),
        (f"rules={VPC} reason=x until=31-01-2027", "is not a date YYYY-MM-DD"),
        (f"rules={VPC} reason=x until=2027-02-30", "is not a calendar date"),
        (f"rules={VPC} reason=x until=2027-1-31", "is not a date YYYY-MM-DD"),
    ],
)
def test_invalid_values_say_why(value: str, message: str) -> None:
    with pytest.raises(ExemptionError, match=None) as error:
        parse_exemption(value)
    assert message in str(error.value)


def test_the_longest_allowed_value_parses() -> None:
    head = f"rules={VPC} reason="
    value = head + "x" * (256 - len(head))
    assert len(value) == 256
    assert parse_exemption(value).reason == "x" * (256 - len(head))


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_every_registry_rule_can_be_named(rule: Rule) -> None:
    assert parse_exemption(f"rules={rule.id} reason=walk").rule_ids == (rule.id,)


def test_every_registry_rule_at_once_fits_or_says_the_limit() -> None:
    value = "rules=" + "+".join(RULES_BY_ID) + " reason=all of them"
    if len(value) <= 256:
        assert parse_exemption(value).rule_ids == tuple(RULES_BY_ID)
    else:
        with pytest.raises(ExemptionError, match="at most 256"):
            parse_exemption(value)


def tags(value: str, key: str = DEFAULT_TAG_KEY) -> dict[str, str]:
    return {key: value, "team": "payments"}


@pytest.mark.parametrize(
    ("tag_set", "rule_id", "kwargs", "status", "note"),
    [
        ({}, VPC, {}, Status.NONE, None),
        (tags(f"rules={DLQ} reason=x"), VPC, {}, Status.NONE, None),
        (
            tags(EXAMPLE),
            VPC,
            {},
            Status.HONOURED,
            "exempted by tag guardrails:exempt: public webhook behind WAF (until 2027-01-31)",
        ),
        (
            tags(f"rules={VPC} reason=legacy"),
            VPC,
            {},
            Status.HONOURED,
            "exempted by tag guardrails:exempt: legacy (no expiry)",
        ),
        # the expiry day itself is still exempt; the day after is not
        (tags(f"rules={VPC} reason=x until=2026-06-01"), VPC, {}, Status.HONOURED, None),
        (
            tags(f"rules={VPC} reason=x until=2026-05-31"),
            VPC,
            {},
            Status.EXPIRED,
            "exemption ignored: expired 2026-05-31",
        ),
        (
            tags(f"rules={VPC}+nope reason=x"),
            DLQ,  # a malformed tag is reported to every rule: it may have meant any
            {},
            Status.INVALID,
            "exemption ignored: tag guardrails:exempt: unknown rule 'nope'",
        ),
        (
            tags(f"rules={VPC} reason=x"),
            VPC,
            {"disabled": frozenset({VPC})},
            Status.DISABLED,
            f"exemption not honoured: exemptions of {VPC} are disabled by policy "
            "(exemptionsDisabled)",
        ),
        (tags(f"rules={VPC} reason=x"), VPC, {"disabled": frozenset({DLQ})}, Status.HONOURED, None),
        # another key: the default key's tag means nothing
        (tags(f"rules={VPC} reason=x"), VPC, {"key": "exempt"}, Status.NONE, None),
        (tags(f"rules={VPC} reason=x", "exempt"), VPC, {"key": "exempt"}, Status.HONOURED, None),
        # tag keys are case-sensitive in AWS
        (tags(f"rules={VPC} reason=x", "Guardrails:Exempt"), VPC, {}, Status.NONE, None),
    ],
)
def test_the_decision(
    tag_set: dict[str, str],
    rule_id: str,
    kwargs: dict[str, object],
    status: Status,
    note: str | None,
) -> None:
    decision = exemption_for(tag_set, rule_id, today=TODAY, **kwargs)  # type: ignore[arg-type]
    assert decision.status is status
    assert decision.exempt is (status is Status.HONOURED)
    if note is not None or status is Status.NONE:
        assert decision.note == note


def test_a_rule_that_accepts_no_exemption_is_not_exempted(monkeypatch: pytest.MonkeyPatch) -> None:
    strict = replace(RULES_BY_ID[VPC], exemptible=False)
    monkeypatch.setitem(RULES_BY_ID, VPC, strict)  # type: ignore[index]
    decision = exemption_for(tags(f"rules={VPC} reason=x"), VPC, today=TODAY)
    assert decision.status is Status.NOT_EXEMPTIBLE and not decision.exempt
    assert decision.note == f"exemption not honoured: rule {VPC} does not accept exemptions"
    assert "ListTags" not in strict.api_reads


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (DEFAULT_TAG_KEY, None),
        ("", "1 to 128"),
        ("k" * 129, "1 to 128"),
        ("aws:exempt", "reserved"),
        ("AWS:exempt", "reserved"),
        ("exempt;now", "letters, digits"),
    ],
)
def test_tag_keys(key: str, problem: str | None) -> None:
    found = tag_key_problem(key)
    assert (found is None) if problem is None else (found is not None and problem in found)


def function(**tag_set: str) -> LambdaFunction:
    return LambdaFunction(
        name="orders-api",
        arn="arn:aws:lambda:us-east-1:123456789012:function:orders-api",
        account_id="123456789012",
        region="us-east-1",
        runtime="python3.12",
        tags=MappingProxyType(dict(tag_set)),
    )


POLICY = ExemptionPolicy(TODAY)


def test_engine_an_honoured_exemption_is_not_applicable_with_the_reason() -> None:
    fn = function(**{DEFAULT_TAG_KEY: f"rules={VPC} reason=public webhook until=2026-12-31"})
    evaluation = evaluate_function(RULES_BY_ID[VPC], fn, NO_PARAMETERS, exemptions=POLICY)
    assert evaluation.compliance is Compliance.NOT_APPLICABLE
    assert evaluation.annotation == (
        "exempted by tag guardrails:exempt: public webhook (until 2026-12-31)"
    )
    assert evaluation.exempted_because == "public webhook (until 2026-12-31)"
    # the rule it does not name still judges
    other = evaluate_function(RULES_BY_ID[DLQ], fn, NO_PARAMETERS, exemptions=POLICY)
    assert other.compliance is Compliance.NON_COMPLIANT and other.exempted_because is None


@pytest.mark.parametrize(
    ("value", "policy", "said"),
    [
        (f"rules={VPC} reason=x until=2026-01-31", POLICY, "exemption ignored: expired 2026-01-31"),
        (f"rules={VPC},{DLQ} reason=x", POLICY, "exemption ignored: tag guardrails:exempt: ','"),
        (
            f"rules={VPC} reason=x",
            ExemptionPolicy(TODAY, disabled=frozenset({VPC})),
            "disabled by policy",
        ),
    ],
)
def test_engine_an_ignored_exemption_judges_and_says_so(
    value: str, policy: ExemptionPolicy, said: str
) -> None:
    fn = function(**{DEFAULT_TAG_KEY: value})
    evaluation = evaluate_function(RULES_BY_ID[VPC], fn, NO_PARAMETERS, exemptions=policy)
    assert evaluation.compliance is Compliance.NON_COMPLIANT
    assert evaluation.annotation.startswith("function is not")
    assert said in evaluation.annotation
    assert evaluation.exempted_because is None


def test_engine_without_a_policy_ignores_tags() -> None:
    fn = function(**{DEFAULT_TAG_KEY: f"rules={VPC} reason=x"})
    evaluation = evaluate_function(RULES_BY_ID[VPC], fn, NO_PARAMETERS)
    assert evaluation.compliance is Compliance.NON_COMPLIANT
    assert "exempt" not in evaluation.annotation


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_every_exemptible_rule_reads_tags_in_the_lambda_api_path(rule: Rule) -> None:
    assert ("ListTags" in rule.api_reads) is rule.exemptible
