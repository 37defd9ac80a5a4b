from __future__ import annotations

import pytest

from rules.checks.dlq import RULE, check_dlq
from rules.errors import InvalidParameterError, UnknownFieldError
from rules.model import Compliance, EventInvokeConfig
from rules.parameters import parse_parameters
from rules.rule import Field
from tests.factories import function

QUEUE = "arn:aws:sqs:us-east-1:111122223333:orders-dlq"
TOPIC = "arn:aws-us-gov:sns:us-gov-west-1:111122223333:failures"


@pytest.mark.parametrize(
    ("target", "raw", "expected", "fragment"),
    [
        (None, {}, Compliance.NON_COMPLIANT, "no dead-letter queue"),
        (None, {"dlqArns": QUEUE}, Compliance.NON_COMPLIANT, "no dead-letter queue"),
        (QUEUE, {}, Compliance.COMPLIANT, QUEUE),
        (QUEUE, {"dlqArns": f"{TOPIC},{QUEUE}"}, Compliance.COMPLIANT, QUEUE),
        (TOPIC, {"dlqArns": TOPIC}, Compliance.COMPLIANT, TOPIC),
        (QUEUE, {"dlqArns": TOPIC}, Compliance.NON_COMPLIANT, "not in dlqArns"),
    ],
)
def test_verdicts(target: str | None, raw: dict, expected: Compliance, fragment: str) -> None:
    result = check_dlq(function(dead_letter_target_arn=target), parse_parameters(RULE, raw))
    assert result.compliance is expected
    assert fragment in result.annotation


# --- acceptOnFailureDestination (issue 11) ------------------------------------------------------

LAMBDA_DESTINATION = "arn:aws:lambda:us-east-1:111122223333:function:on-failure"
BUS = "arn:aws:events:us-east-1:111122223333:event-bus/failures"
ACCEPT = {"acceptOnFailureDestination": "true"}


@pytest.mark.parametrize(
    ("target", "destination", "raw", "expected", "fragment"),
    [
        # Off (the default): a destination is no dead-letter queue.
        (None, QUEUE, {}, Compliance.NON_COMPLIANT, "no dead-letter queue"),
        (
            None,
            QUEUE,
            {"acceptOnFailureDestination": "false"},
            Compliance.NON_COMPLIANT,
            "no dead-letter",
        ),
        # On: any OnFailure destination type Lambda accepts counts.
        (None, QUEUE, ACCEPT, Compliance.COMPLIANT, f"OnFailure destination {QUEUE}"),
        (None, TOPIC, ACCEPT, Compliance.COMPLIANT, TOPIC),
        (None, LAMBDA_DESTINATION, ACCEPT, Compliance.COMPLIANT, LAMBDA_DESTINATION),
        (None, BUS, ACCEPT, Compliance.COMPLIANT, BUS),
        (None, None, ACCEPT, Compliance.NON_COMPLIANT, "no OnFailure destination is configured"),
        # A dead-letter queue still suffices on its own.
        (QUEUE, None, ACCEPT, Compliance.COMPLIANT, f"dead-letter target is {QUEUE}"),
        # dlqArns restricts both.
        (None, QUEUE, {**ACCEPT, "dlqArns": QUEUE}, Compliance.COMPLIANT, QUEUE),
        (
            None,
            QUEUE,
            {**ACCEPT, "dlqArns": TOPIC},
            Compliance.NON_COMPLIANT,
            f"OnFailure destination {QUEUE} is not in dlqArns",
        ),
        (
            TOPIC,
            QUEUE,
            {**ACCEPT, "dlqArns": QUEUE},
            Compliance.COMPLIANT,
            f"dead-letter target {TOPIC} is not in dlqArns",
        ),
        (
            None,
            LAMBDA_DESTINATION,
            {**ACCEPT, "dlqArns": QUEUE},
            Compliance.NON_COMPLIANT,
            "not in dlqArns",
        ),
    ],
)
def test_on_failure_destination(target, destination, raw, expected, fragment) -> None:
    fn = function(dead_letter_target_arn=target, event_invoke_config=EventInvokeConfig(destination))
    result = check_dlq(fn, parse_parameters(RULE, raw))
    assert result.compliance is expected, result.annotation
    assert fragment in result.annotation


def test_an_unread_invoke_config_is_asked_for_only_when_it_matters() -> None:
    # Config does not record it: with the option on and no acceptable DLQ, the check asks.
    with pytest.raises(UnknownFieldError) as error:
        check_dlq(function(), parse_parameters(RULE, ACCEPT))
    assert error.value.field == Field.EVENT_INVOKE_CONFIG.value
    assert "GetFunctionEventInvokeConfig" in error.value.reason
    # An acceptable DLQ, or the option off, needs no read.
    assert check_dlq(function(dead_letter_target_arn=QUEUE), parse_parameters(RULE, ACCEPT))
    assert check_dlq(function(), parse_parameters(RULE, {})).compliance is Compliance.NON_COMPLIANT


def test_the_option_is_a_boolean() -> None:
    with pytest.raises(InvalidParameterError):
        parse_parameters(RULE, {"acceptOnFailureDestination": "yes"})
