from __future__ import annotations

import pytest

from rules.checks.concurrency import RULE, check_concurrency
from rules.errors import InvalidParameterError
from rules.model import Compliance
from rules.parameters import parse_parameters
from tests.factories import function


@pytest.mark.parametrize(
    ("reserved", "raw", "expected", "fragment"),
    [
        (None, {}, Compliance.NON_COMPLIANT, "no reserved concurrency"),
        (None, {"ConcurrencyLimitLow": "0"}, Compliance.NON_COMPLIANT, "no reserved concurrency"),
        (10, {}, Compliance.COMPLIANT, "is 10"),
        (0, {}, Compliance.COMPLIANT, "throttled"),
        (0, {"ConcurrencyLimitLow": "1"}, Compliance.NON_COMPLIANT, "below ConcurrencyLimitLow 1"),
        (
            5,
            {"ConcurrencyLimitLow": "5", "ConcurrencyLimitHigh": "5"},
            Compliance.COMPLIANT,
            "is 5",
        ),
        (4, {"ConcurrencyLimitLow": "5"}, Compliance.NON_COMPLIANT, "below"),
        (
            11,
            {"ConcurrencyLimitHigh": "10"},
            Compliance.NON_COMPLIANT,
            "above ConcurrencyLimitHigh 10",
        ),
        (10, {"ConcurrencyLimitHigh": "10"}, Compliance.COMPLIANT, "is 10"),
        (0, {"ConcurrencyLimitHigh": "10"}, Compliance.COMPLIANT, "throttled"),
    ],
)
def test_verdicts(reserved: int | None, raw: dict, expected: Compliance, fragment: str) -> None:
    result = check_concurrency(function(reserved_concurrency=reserved), parse_parameters(RULE, raw))
    assert result.compliance is expected
    assert fragment in result.annotation


@pytest.mark.parametrize(
    ("raw", "name", "value"),
    [
        ({"ConcurrencyLimitLow": "ten"}, "ConcurrencyLimitLow", "ten"),
        ({"ConcurrencyLimitHigh": "1.5"}, "ConcurrencyLimitHigh", "1.5"),
        ({"ConcurrencyLimitLow": "-1"}, "ConcurrencyLimitLow", "-1"),
        ({"ConcurrencyLimitLow": "10", "ConcurrencyLimitHigh": "5"}, "ConcurrencyLimitLow", "10"),
        ({"ConcurrencyLimitLow": True}, "ConcurrencyLimitLow", True),
    ],
    ids=["not-integer", "fraction", "negative", "low-above-high", "boolean"],
)
def test_invalid_bounds_name_parameter_and_value(raw: dict, name: str, value: object) -> None:
    with pytest.raises(InvalidParameterError) as error:
        parse_parameters(RULE, raw)
    assert error.value.name == name
    assert error.value.value == value
    assert name in str(error.value) and repr(value) in str(error.value)
