"""``lambda-vpc-multi-az``: a VPC-attached function can run in several availability zones."""

from __future__ import annotations

from rules.errors import UnknownFieldError
from rules.model import Compliance, LambdaFunction, Verdict
from rules.parameters import ParameterKind, Parameters, ParameterSpec
from rules.policy import unresolved_sources
from rules.rule import Field, Rule, Severity

DEFAULT_AVAILABILITY_ZONES = 2

AVAILABILITY_ZONES = ParameterSpec(
    "availabilityZones",
    ParameterKind.INTEGER,
    "Fewest availability zones the subnets of a VPC-attached function must span.",
    minimum=1,
    default=str(DEFAULT_AVAILABILITY_ZONES),
)


def check_vpc_multi_az(function: LambdaFunction, parameters: Parameters) -> Verdict:
    """NOT_APPLICABLE outside a VPC. NON_COMPLIANT when the subnets' zones number fewer than
    ``availabilityZones``. A subnet whose zone is unknown (missing from ``subnet_zones``, or a
    value known only at deploy time) counts as no further zone: never COMPLIANT on a guess.
    The zones not read at all (``subnet_zones`` None) raise ``UnknownFieldError``, so the caller
    reads them (``ec2:DescribeSubnets``)."""
    subnets = function.subnet_ids
    if not subnets:
        return Verdict(Compliance.NOT_APPLICABLE, "function is not connected to a VPC")
    zones_of = function.subnet_zones
    if zones_of is None:
        raise UnknownFieldError(
            Field.SUBNET_ZONES.value,
            f"function {function.name}: the availability zones of subnet(s) "
            f"{', '.join(subnets)} are unknown (only ec2:DescribeSubnets tells)",
        )
    needed = parameters.integer(AVAILABILITY_ZONES.name) or DEFAULT_AVAILABILITY_ZONES
    zones = sorted({zone for s in subnets if (zone := _known(zones_of.get(s)))})
    unknown = [s for s in subnets if _known(zones_of.get(s)) is None]
    spanned = f"{len(zones)} availability zone(s) ({', '.join(zones) or 'none known'})"
    if len(zones) >= needed:
        return Verdict(
            Compliance.COMPLIANT,
            f"subnets span {spanned}, at least availabilityZones {needed}",
        )
    unknown_note = (
        f"; the zone of subnet(s) {', '.join(unknown)} is unknown, counted as no further zone"
        if unknown
        else ""
    )
    return Verdict(
        Compliance.NON_COMPLIANT,
        f"subnets span {spanned}, fewer than availabilityZones {needed}{unknown_note}",
    )


def _known(zone: str | None) -> str | None:
    """The zone, unless absent or a value known only at deploy time (a template's)."""
    if not zone or unresolved_sources(zone):
        return None
    return zone


RULE = Rule(
    id="lambda-vpc-multi-az",
    title="VPC-attached Lambda functions span several availability zones",
    description=(
        "Checks that the subnets of a function connected to a VPC lie in at least "
        "availabilityZones (default 2) availability zones, so an outage of one zone does not "
        "stop the function. Functions outside a VPC are NOT_APPLICABLE."
    ),
    severity=Severity.MEDIUM,
    check=check_vpc_multi_az,
    remediation=(
        "Add subnets in other availability zones of the VPC to the function's VpcConfig "
        "(aws lambda update-function-configuration --vpc-config SubnetIds=...)."
    ),
    documentation_url="https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html",
    parameters=(AVAILABILITY_ZONES,),
    may_need=frozenset({Field.SUBNET_ZONES}),
)
