"""Runbook script for lambda-inside-vpc: connect the function to the given subnets and security
groups. Manual only (``runbooks.VPC.automatic_allowed`` is False): it changes what the function
can reach. Lambda validates the subnets and groups (and that the execution role may create
network interfaces) while serving UpdateFunctionConfiguration; its error names what is wrong.
"""

from __future__ import annotations

import re
from typing import Any

from rules.aws.clients import Clients
from rules.checks.inside_vpc import SUBNET_IDS
from rules.model import LambdaFunction
from rules.remediation.common import (
    Change,
    Context,
    Plan,
    Script,
    handler,
    joined,
    list_input,
    wait_until_updated,
)

SUBNET_ID = re.compile(r"subnet-[0-9a-f]{8,17}")
SECURITY_GROUP_ID = re.compile(r"sg-[0-9a-f]{8,17}")
MAX_SUBNETS = 16  # Lambda's VpcConfig limits
MAX_SECURITY_GROUPS = 5


def describe(_clients: Clients, function: LambdaFunction) -> dict[str, str]:
    return {
        "subnetIds": joined(function.subnet_ids),
        "securityGroupIds": joined(function.security_group_ids),
    }


def input_problems(
    subnets: tuple[str, ...], groups: tuple[str, ...], allowed: tuple[str, ...] | None
) -> list[str]:
    problems = []
    if not subnets:
        problems.append("parameter SubnetIds is empty")
    if not groups:
        problems.append("parameter SecurityGroupIds is empty")
    problems += [f"{s!r} is not a subnet id" for s in subnets if not SUBNET_ID.fullmatch(s)]
    problems += [
        f"{g!r} is not a security group id" for g in groups if not SECURITY_GROUP_ID.fullmatch(g)
    ]
    if len(subnets) > MAX_SUBNETS:
        problems.append(f"{len(subnets)} subnets: Lambda takes at most {MAX_SUBNETS}")
    if len(groups) > MAX_SECURITY_GROUPS:
        problems.append(
            f"{len(groups)} security groups: Lambda takes at most {MAX_SECURITY_GROUPS}"
        )
    if allowed is not None:
        outside = [subnet for subnet in subnets if subnet not in allowed]
        if outside:
            problems.append(
                f"subnet(s) {', '.join(outside)} not in the rule's {SUBNET_IDS.name} "
                f"({', '.join(allowed)})"
            )
    return problems


def plan(context: Context) -> Plan:
    subnets = list_input(context.inputs.raw, "SubnetIds")
    groups = list_input(context.inputs.raw, "SecurityGroupIds")
    allowed = context.inputs.rule_parameters.csv(SUBNET_IDS.name)
    problems = input_problems(subnets, groups, allowed)
    function = context.function

    def attach() -> None:
        context.call(
            "lambda:UpdateFunctionConfiguration (VpcConfig)",
            context.clients.client("lambda").update_function_configuration,
            FunctionName=function.arn,
            VpcConfig={"SubnetIds": list(subnets), "SecurityGroupIds": list(groups)},
        )
        wait_until_updated(context)

    change = Change(
        f"connect to subnet(s) {joined(subnets)} with security group(s) {joined(groups)} "
        f"(was: subnets {joined(function.subnet_ids)})",
        attach,
    )
    return Plan((change,), tuple(problems))


SCRIPT = Script("lambda-inside-vpc", describe, plan)


def script_handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """The aws:executeScript entry point (Handler: script_handler)."""
    return handler(SCRIPT, events)
