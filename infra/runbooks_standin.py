"""TEMPORARY stand-in for ``rules.remediation.runbooks`` (written on branch r1-runbooks), with
the interface agreed for issue 10; deleted when that registry lands."""

from __future__ import annotations

from dataclasses import dataclass

from rules.permissions import Grant


@dataclass(frozen=True, slots=True)
class RunbookParameter:
    name: str
    type: str  # an SSM Automation parameter type: String, Integer, Boolean, StringList
    description: str
    default: str | None = None  # None: required

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True, slots=True)
class Runbook:
    rule_id: str
    module: str
    description: str
    parameters: tuple[RunbookParameter, ...]
    automatic_allowed: bool
    grants: tuple[Grant, ...]


FUNCTION = RunbookParameter("FunctionName", "String", "The Lambda function to fix")
DRY_RUN = RunbookParameter("DryRun", "Boolean", "Report only", "true")
FUNCTIONS = "arn:{partition}:lambda:{region}:{account}:function:*"
READ = Grant(("lambda:GetFunctionConfiguration",), FUNCTIONS, "re-read the function")

RUNBOOKS: tuple[Runbook, ...] = (
    Runbook(
        "lambda-function-public-access-prohibited",
        "infra.runbooks_standin",
        "Remove public statements",
        (FUNCTION, DRY_RUN, RunbookParameter("FixFunctionUrl", "Boolean", "url", "false")),
        True,
        (READ, Grant(("lambda:GetPolicy", "lambda:RemovePermission"), FUNCTIONS, "policy")),
    ),
    Runbook(
        "lambda-inside-vpc",
        "infra.runbooks_standin",
        "Attach subnets",
        (
            FUNCTION,
            DRY_RUN,
            RunbookParameter("SubnetIds", "StringList", "subnets"),
            RunbookParameter("SecurityGroupIds", "StringList", "groups"),
        ),
        False,
        (READ, Grant(("ec2:DescribeSubnets",), "*", "no resource-level permissions")),
    ),
    Runbook(
        "lambda-concurrency-check",
        "infra.runbooks_standin",
        "Reserve concurrency",
        (FUNCTION, DRY_RUN, RunbookParameter("ReservedConcurrency", "Integer", "value", "5")),
        True,
        (READ, Grant(("lambda:PutFunctionConcurrency",), FUNCTIONS, "set it")),
    ),
)


def script_handler(events: dict[str, object], context: object) -> dict[str, object]:
    return {"changed": False, "function": events.get("FunctionName")}
