from __future__ import annotations

from rules.model import Compliance, LambdaFunction, Verdict
from rules.parameters import SUBNET_ID, ParameterKind, Parameters, ParameterSpec
from rules.rule import Rule, Severity

SUBNET_IDS = ParameterSpec(
    "subnetIds",
    ParameterKind.CSV,
    "Comma-separated subnet ids the function may use; any other subnet is NON_COMPLIANT.",
    SUBNET_ID,
)


def check_inside_vpc(function: LambdaFunction, parameters: Parameters) -> Verdict:
    """NON_COMPLIANT when the function has no subnets, or (with ``subnetIds``) when any of its
    subnets is not in the list."""
    if not function.subnet_ids:
        return Verdict(Compliance.NON_COMPLIANT, "function is not connected to a VPC (no subnets)")
    allowed = parameters.csv(SUBNET_IDS.name)
    if allowed is not None:
        outside = [subnet for subnet in function.subnet_ids if subnet not in allowed]
        if outside:
            return Verdict(
                Compliance.NON_COMPLIANT,
                f"subnet(s) {', '.join(outside)} not in subnetIds ({', '.join(allowed)})",
            )
    return Verdict(
        Compliance.COMPLIANT,
        f"function runs in VPC subnet(s) {', '.join(function.subnet_ids)}",
    )


RULE = Rule(
    id="lambda-inside-vpc",
    title="Lambda functions run inside a VPC",
    description=(
        "Checks that the function is connected to a VPC and, when subnetIds is set, uses only "
        "the listed subnets."
    ),
    severity=Severity.LOW,
    check=check_inside_vpc,
    remediation=(
        "Attach the function to private subnets and security groups (VpcConfig); its role needs "
        "the AWSLambdaVPCAccessExecutionRole permissions."
    ),
    documentation_url="https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html",
    parameters=(SUBNET_IDS,),
)
