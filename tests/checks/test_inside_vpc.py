from __future__ import annotations

import pytest

from rules.checks.inside_vpc import RULE, check_inside_vpc
from rules.model import Compliance
from rules.parameters import parse_parameters
from tests.factories import function

A, B, C = "subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788", "subnet-11112222"


@pytest.mark.parametrize(
    ("subnets", "raw", "expected", "fragment"),
    [
        ((), {}, Compliance.NON_COMPLIANT, "not connected to a VPC"),
        ((), {"subnetIds": A}, Compliance.NON_COMPLIANT, "not connected to a VPC"),
        ((A, B), {}, Compliance.COMPLIANT, f"{A}, {B}"),
        ((A, B), {"subnetIds": f" {A} , {B} "}, Compliance.COMPLIANT, A),
        (
            (A, B),
            {"subnetIds": f"{A},{C}"},
            Compliance.NON_COMPLIANT,
            f"subnet(s) {B} not in subnetIds",
        ),
        ((A,), {"subnetIds": ""}, Compliance.COMPLIANT, A),
    ],
    ids=[
        "no-subnets",
        "no-subnets-with-list",
        "any-subnet",
        "trimmed-list",
        "subnet-outside",
        "empty-list-unset",
    ],
)
def test_verdicts(subnets: tuple[str, ...], raw: dict, expected: Compliance, fragment: str) -> None:
    result = check_inside_vpc(function(subnet_ids=subnets), parse_parameters(RULE, raw))
    assert result.compliance is expected
    assert fragment in result.annotation
