"""What every runbook shares (``rules.remediation.common``): the check after the fix fails the
run, unreadable state is never compliant, bad input is refused, IAM's delay is waited out."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from rules.aws.clients import Clients
from rules.remediation import concurrency, dead_letter_queue, public_access
from rules.remediation.common import RemediationError, exemption, run
from rules.remediation.runbooks import RUNBOOKS
from tests.aws.fixtures import CallLog, create_function, setup_clients
from tests.remediation.conftest import (
    add_permission,
    answer,
    configuration,
    dlq_events,
    events,
    tag,
    unreserved,
)


def test_a_change_that_does_not_fix_fails_with_before_after_and_verdict(clients: Clients) -> None:
    """PutFunctionConcurrency answered "OK" without storing anything: the re-read still shows no
    reservation, so the rule's check says NON_COMPLIANT and the run fails."""
    create_function("orders-api")
    unreserved(clients, 1000)
    answer(clients, "lambda", "PutFunctionConcurrency", {"ReservedConcurrentExecutions": 10})
    with pytest.raises(RemediationError) as raised:
        run(concurrency.SCRIPT, events("orders-api"), clients)
    message = str(raised.value)
    assert "still says NON_COMPLIANT: no reserved concurrency is set" in message
    assert 'Before: {"reservedConcurrency": "none"}' in message
    assert 'After: {"reservedConcurrency": "none"}' in message


def test_an_unreadable_policy_is_never_compliant_and_nothing_changes(clients: Clients) -> None:
    create_function("orders-api")
    answer(clients, "lambda", "GetPolicy", {"Policy": "{not json", "RevisionId": "1"})
    with pytest.raises(RemediationError, match=r"cannot evaluate it: .*not valid JSON"):
        run(public_access.SCRIPT, events("orders-api"), clients)


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({}, "FunctionName is required"),
        ({"FunctionName": "f", "DryRun": "maybe"}, "DryRun must be true or false"),
        ({"FunctionName": "f", "RuleParameters": "[1]"}, "must be a JSON object"),
        ({"FunctionName": "f", "RuleParameters": "{"}, "not valid JSON"),
        (
            {"FunctionName": "f", "RuleParameters": '{"ConcurrencyLimitLow": "x"}'},
            "ConcurrencyLimitLow='x' is invalid",
        ),
        (
            {"FunctionName": "f", "ReservedConcurrency": "-3"},
            "ReservedConcurrency must be a non-negative integer",
        ),
    ],
)
def test_bad_input_is_a_clear_error(clients: Clients, given: dict[str, Any], problem: str) -> None:
    create_function("f")
    unreserved(clients, 1000)
    with pytest.raises(RemediationError, match=problem):
        run(concurrency.SCRIPT, given | {"DryRun": given.get("DryRun", False)}, clients)


def test_the_dlq_attachment_waits_for_iam_to_show_the_new_policy(
    clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda's first answer says the role may not send yet (IAM is eventually consistent)."""
    monkeypatch.setattr(dead_letter_queue, "ROLE_NOT_SEEN_DELAY_SECONDS", 0)
    create_function("orders-api")
    answers = iter([True])

    def not_yet(**_: Any) -> Any:
        if next(answers, False):
            error = {
                "Error": {
                    "Code": "InvalidParameterValueException",
                    "Message": "The provided execution role does not have permissions to call "
                    "SendMessage on SQS",
                }
            }
            return AWSResponse("https://stubbed", 400, {}, None), error
        return None  # then moto answers

    clients.session.register("before-call.lambda.UpdateFunctionConfiguration", not_yet)
    result = run(dead_letter_queue.SCRIPT, dlq_events("orders-api"), clients)
    assert result["verdict"] == "COMPLIANT"
    assert configuration("orders-api")["DeadLetterConfig"]["TargetArn"].endswith(
        result["after"]["deadLetterTargetArn"].rsplit(":", 1)[1]
    )


EXEMPT_DLQ = "rules=lambda-dlq-check reason=replayed from the source until=2027-01-31"


@pytest.mark.parametrize(
    ("tags", "exempt"),
    [
        ({"guardrails:exempt": EXEMPT_DLQ}, True),
        # Expired, malformed, or naming another rule: the rules judge the function, and the
        # runbook runs (rules.exemptions decides, not the tag's mere presence).
        ({"guardrails:exempt": EXEMPT_DLQ.replace("2027", "2025")}, False),
        ({"guardrails:exempt": "anything"}, False),
        ({"guardrails:exempt": ""}, False),
        ({"guardrails:exempt": "rules=lambda-inside-vpc reason=not this rule"}, False),
        ({"Guardrails:Exempt": EXEMPT_DLQ}, False),  # tag keys are case-sensitive
        ({"team": "a"}, False),
        ({}, False),
    ],
)
def test_the_exemption_is_the_rules_own_decision(tags: dict[str, str], exempt: bool) -> None:
    today = date(2026, 11, 22)
    decision = exemption(tags, "guardrails:exempt", "lambda-dlq-check", today)
    assert decision.exempt is exempt


@pytest.mark.parametrize("runbook", RUNBOOKS, ids=lambda runbook: runbook.rule_id)
def test_an_exempt_function_is_read_no_further_than_its_tags(
    clients: Clients, calls: CallLog, runbook: object
) -> None:
    """SKIPPED_EXEMPT reads the configuration and the tags, nothing else (no policy, no alias,
    no key, no concurrency), and reports no settings."""
    import importlib

    arn = create_function("orders-api")
    lambda_client = setup_clients()["lambda"]
    lambda_client.create_alias(FunctionName="orders-api", Name="live", FunctionVersion="$LATEST")
    add_permission("orders-api", "public", Qualifier="live")
    tag(arn, **{"guardrails:exempt": f"rules={runbook.rule_id} reason=accepted risk"})  # type: ignore[attr-defined]
    script = importlib.import_module(runbook.module).SCRIPT  # type: ignore[attr-defined]
    result = run(script, events("orders-api", FixFunctionUrl=True), clients)
    assert result["status"] == "SKIPPED_EXEMPT"
    assert result["before"] == {} and result["after"] == {}
    assert result["function"] == arn
    assert calls.actions() == {"lambda:GetFunctionConfiguration", "lambda:ListTags"}
