"""The VPC runbook script against moto (it records VpcConfig; its VpcId is always vpc-123abc)."""

from __future__ import annotations

import json

import pytest

from rules.aws.clients import Clients
from rules.remediation import vpc
from rules.remediation.common import RemediationError, run
from rules.remediation.runbooks import VPC
from tests.aws.fixtures import create_function
from tests.remediation.conftest import configuration, events, tag

SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719"]
GROUPS = ["sg-0a1b2c3d4e5f60718"]


def _subnets(name: str) -> list[str]:
    return list(configuration(name).get("VpcConfig", {}).get("SubnetIds", []))


def test_the_vpc_runbook_is_manual_only() -> None:
    assert VPC.automatic_allowed is False


def test_a_dry_run_changes_nothing(clients: Clients) -> None:
    create_function("orders-api")
    result = run(
        vpc.SCRIPT,
        events("orders-api", DryRun=True, SubnetIds=SUBNETS, SecurityGroupIds=GROUPS),
        clients,
    )
    assert result["status"] == "DRY_RUN"
    assert (
        "connect to subnet(s) subnet-0a1b2c3d4e5f60718, subnet-0a1b2c3d4e5f60719"
        in (result["changes"][0])
    )
    assert _subnets("orders-api") == []


def test_a_real_run_attaches_and_the_check_passes(clients: Clients) -> None:
    create_function("orders-api")
    result = run(
        vpc.SCRIPT, events("orders-api", SubnetIds=SUBNETS, SecurityGroupIds=GROUPS), clients
    )
    assert result["status"] == "CHANGED"
    assert result["verdict"] == "COMPLIANT"
    assert result["before"]["subnetIds"] == "(none)"
    assert result["after"]["subnetIds"] == ", ".join(SUBNETS)
    assert _subnets("orders-api") == SUBNETS
    again = run(
        vpc.SCRIPT, events("orders-api", SubnetIds=SUBNETS, SecurityGroupIds=GROUPS), clients
    )
    assert again["status"] == "ALREADY_COMPLIANT"


def test_comma_separated_text_is_read_as_a_list(clients: Clients) -> None:
    create_function("orders-api")
    run(
        vpc.SCRIPT,
        events("orders-api", SubnetIds=",".join(SUBNETS), SecurityGroupIds=GROUPS[0]),
        clients,
    )
    assert _subnets("orders-api") == SUBNETS


@pytest.mark.parametrize(
    ("subnets", "groups", "problem"),
    [
        ([], GROUPS, "SubnetIds is empty"),
        (SUBNETS, [], "SecurityGroupIds is empty"),
        (["subnet-xyz"], GROUPS, "'subnet-xyz' is not a subnet id"),
        (SUBNETS, ["default"], "'default' is not a security group id"),
    ],
)
def test_bad_input_is_refused_before_any_change(
    clients: Clients, subnets: list[str], groups: list[str], problem: str
) -> None:
    create_function("orders-api")
    with pytest.raises(RemediationError, match=problem):
        run(vpc.SCRIPT, events("orders-api", SubnetIds=subnets, SecurityGroupIds=groups), clients)
    assert _subnets("orders-api") == []


def test_subnets_outside_the_rules_list_are_refused(clients: Clients) -> None:
    create_function("orders-api")
    allowed = json.dumps({"subnetIds": SUBNETS[0]})
    with pytest.raises(RemediationError, match="not in the rule's subnetIds"):
        given = events(
            "orders-api", SubnetIds=SUBNETS, SecurityGroupIds=GROUPS, RuleParameters=allowed
        )
        run(vpc.SCRIPT, given, clients)
    assert _subnets("orders-api") == []


def test_an_exempt_function_is_skipped(clients: Clients) -> None:
    arn = create_function("orders-api")
    tag(arn, **{"guardrails:exempt": "rules=lambda-inside-vpc reason=accepted risk"})
    result = run(
        vpc.SCRIPT, events("orders-api", SubnetIds=SUBNETS, SecurityGroupIds=GROUPS), clients
    )
    assert result["status"] == "SKIPPED_EXEMPT"
    assert _subnets("orders-api") == []
