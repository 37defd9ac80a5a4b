"""lambda-vpc-multi-az: the subnets' zones, read from EC2, never guessed."""

from __future__ import annotations

import pytest

from rules.checks.vpc_multi_az import RULE, check_vpc_multi_az
from rules.errors import InvalidParameterError, UnknownFieldError
from rules.model import Compliance
from rules.parameters import parse_parameters
from rules.policy import unresolved_value
from rules.rule import Field
from tests.factories import function

A, B, C = "subnet-0aaa1111", "subnet-0bbb2222", "subnet-0ccc3333"
ZONES = {A: "us-east-1a", B: "us-east-1b", C: "us-east-1a"}


@pytest.mark.parametrize(
    ("subnets", "zones", "raw", "expected", "fragment"),
    [
        (
            (A, B),
            ZONES,
            {},
            Compliance.COMPLIANT,
            "2 availability zone(s) (us-east-1a, us-east-1b)",
        ),
        (
            (A, C),
            ZONES,
            {},
            Compliance.NON_COMPLIANT,
            "1 availability zone(s) (us-east-1a), fewer than availabilityZones 2",
        ),
        ((A,), ZONES, {}, Compliance.NON_COMPLIANT, "fewer than availabilityZones 2"),
        (
            (A, B),
            ZONES,
            {"availabilityZones": "3"},
            Compliance.NON_COMPLIANT,
            "fewer than availabilityZones 3",
        ),
        (
            (A,),
            ZONES,
            {"availabilityZones": "1"},
            Compliance.COMPLIANT,
            "at least availabilityZones 1",
        ),
        # A subnet EC2 does not know (deleted): its zone is unknown, never a further zone.
        (
            (A, "subnet-0dead000"),
            {A: "us-east-1a"},
            {},
            Compliance.NON_COMPLIANT,
            "the zone of subnet(s) subnet-0dead000 is unknown",
        ),
        # ... but known zones that suffice decide.
        ((A, B, "subnet-0dead000"), ZONES, {}, Compliance.COMPLIANT, "2 availability zone(s)"),
        # A template's value known only at deploy time is no zone either.
        (
            (A, B),
            {A: "us-east-1a", B: unresolved_value("Fn::GetAZs")},
            {},
            Compliance.NON_COMPLIANT,
            "subnet-0bbb2222 is unknown",
        ),
    ],
)
def test_verdicts(subnets, zones, raw, expected, fragment) -> None:
    result = check_vpc_multi_az(
        function(subnet_ids=subnets, subnet_zones=zones), parse_parameters(RULE, raw)
    )
    assert result.compliance is expected, result.annotation
    assert fragment in result.annotation


def test_outside_a_vpc_is_not_applicable() -> None:
    result = check_vpc_multi_az(function(subnet_ids=()), parse_parameters(RULE, {}))
    assert result.compliance is Compliance.NOT_APPLICABLE


def test_zones_not_read_are_asked_for_never_guessed() -> None:
    with pytest.raises(UnknownFieldError) as error:
        check_vpc_multi_az(function(subnet_ids=(A, B)), parse_parameters(RULE, {}))
    assert error.value.field == Field.SUBNET_ZONES.value
    assert "ec2:DescribeSubnets" in error.value.reason


def test_at_least_one_zone_is_required() -> None:
    with pytest.raises(InvalidParameterError):
        parse_parameters(RULE, {"availabilityZones": "0"})
