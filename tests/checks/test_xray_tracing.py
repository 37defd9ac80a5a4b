"""lambda-xray-tracing-active: TracingConfig.Mode is Active."""

from __future__ import annotations

import pytest

from rules.checks.xray_tracing import RULE, check_xray_tracing
from rules.model import Compliance
from rules.parameters import parse_parameters
from tests.factories import function


@pytest.mark.parametrize(
    ("mode", "expected", "fragment"),
    [
        ("Active", Compliance.COMPLIANT, "Active"),
        ("PassThrough", Compliance.NON_COMPLIANT, "tracing mode is PassThrough, not Active"),
        (None, Compliance.NON_COMPLIANT, "not set (PassThrough, Lambda's default)"),
        # Modes are case-sensitive in Lambda's API: anything else is not Active.
        ("active", Compliance.NON_COMPLIANT, "tracing mode is active"),
    ],
)
def test_verdicts(mode: str | None, expected: Compliance, fragment: str) -> None:
    result = check_xray_tracing(function(tracing_mode=mode), parse_parameters(RULE, {}))
    assert result.compliance is expected
    assert fragment in result.annotation
