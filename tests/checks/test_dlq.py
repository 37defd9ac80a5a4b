from __future__ import annotations

import pytest

from rules.checks.dlq import RULE, check_dlq
from rules.model import Compliance
from rules.parameters import parse_parameters
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
