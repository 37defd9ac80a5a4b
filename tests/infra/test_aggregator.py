"""The organization Config aggregator construct, in a small stack of its own (the
administrator stacks compose it): every account, the given regions or all, a role holding
exactly what AWS's AWSConfigRoleForOrganizations grants, names that never collide, cdk-nag and
cfn-lint clean."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from cfnlint.api import ManualArgs, lint_file

from infra.aggregator import OrganizationAggregator, aggregator_name
from infra.nag import add_checks
from tests.infra.conftest import ROOT
from tests.infra.test_checks import CFN_LINT_IGNORED, CFN_LINT_REGIONS

ACCOUNT = "111122223333"
REGIONS = ["eu-west-1", "us-east-1"]
# AWS's managed policy as its reference page shows it (v2), kept as a sample.
MANAGED_POLICY = json.loads(
    (ROOT / "tests/events/aws_managed_policy_AWSConfigRoleForOrganizations.json").read_text()
)


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One stack with two aggregators (two deployments' prefixes): listed regions, and all."""
    outdir = tmp_path_factory.mktemp("cdk-aggregator")
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(
        app, "Administrator", env=cdk.Environment(account=ACCOUNT, region="eu-west-1")
    )
    OrganizationAggregator(stack, "Listed", name=aggregator_name("guardrails-"), regions=REGIONS)
    OrganizationAggregator(stack, "All", name=aggregator_name("team-b-"), all_regions=True)
    add_checks(app)  # any unacknowledged cdk-nag finding fails this synth
    assembly = app.synth()
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    yield {
        "template": artifact.template,
        "path": Path(outdir) / artifact.template_file,
        "report": json.loads((Path(outdir) / "validation-report.json").read_text()),
    }


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def aggregators(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Aggregator name -> its resource."""
    return {
        r["Properties"]["ConfigurationAggregatorName"]: r
        for r in of_type(template, "AWS::Config::ConfigurationAggregator").values()
    }


def test_the_aggregator_reads_every_account_of_the_organization(
    synthesized: dict[str, Any],
) -> None:
    found = aggregators(synthesized["template"])
    assert set(found) == {"guardrails-organization", "team-b-organization"}
    listed = found["guardrails-organization"]["Properties"]
    assert set(listed) == {"ConfigurationAggregatorName", "OrganizationAggregationSource"}
    source = listed["OrganizationAggregationSource"]
    assert source["AwsRegions"] == REGIONS
    assert "AllAwsRegions" not in source
    every = found["team-b-organization"]["Properties"]["OrganizationAggregationSource"]
    assert every["AllAwsRegions"] is True
    assert "AwsRegions" not in every


def test_each_aggregator_has_its_own_role_with_exactly_the_managed_policys_actions(
    synthesized: dict[str, Any],
) -> None:
    template = synthesized["template"]
    roles = of_type(template, "AWS::IAM::Role")
    policies = of_type(template, "AWS::IAM::ManagedPolicy")
    (expected,) = MANAGED_POLICY["Statement"]
    for aggregator in aggregators(template).values():
        role_id = aggregator["Properties"]["OrganizationAggregationSource"]["RoleArn"][
            "Fn::GetAtt"
        ][0]
        role = roles[role_id]["Properties"]
        assert role["AssumeRolePolicyDocument"]["Statement"] == [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "config.amazonaws.com"},
            }
        ]
        assert "Policies" not in role  # no inline policy (NIST IAMNoInlinePolicy)
        (policy_ref,) = role["ManagedPolicyArns"]
        policy = policies[policy_ref["Ref"]]["Properties"]["PolicyDocument"]
        (statement,) = policy["Statement"]
        assert statement["Effect"] == expected["Effect"]
        assert sorted(statement["Action"]) == sorted(expected["Action"])
        assert statement["Resource"] == expected["Resource"]
        # Created once the role holds its permissions (Config checks them on creation).
        assert {role_id, policy_ref["Ref"]} <= set(aggregator["DependsOn"])
    assert len(roles) == 2  # one each: neither deployment depends on the other's


def test_cdk_nag_is_clean_with_one_reasoned_acknowledgment(synthesized: dict[str, Any]) -> None:
    reports = {r["pluginName"]: r for r in synthesized["report"]["pluginReports"]}
    acknowledged = set()
    for report in reports.values():
        assert report["conclusion"] == "success"
        assert report.get("violations", []) == []
        for violation in report.get("suppressedViolations", []):
            acknowledged.add(violation["acknowledgedId"])
            assert "no resource-level permissions" in violation["reason"]
    assert acknowledged == {"AwsSolutions::AwsSolutions-IAM5[Resource::*]"}


def test_cfn_lint_is_clean(synthesized: dict[str, Any]) -> None:
    config = ManualArgs(ignore_checks=CFN_LINT_IGNORED, regions=CFN_LINT_REGIONS)
    assert [str(match) for match in lint_file(synthesized["path"], config=config)] == []


def test_names_derive_from_the_rule_name_prefix() -> None:
    assert aggregator_name("guardrails-") == "guardrails-organization"
    assert aggregator_name("acme_") == "acme_organization"
    assert aggregator_name("team-b-") != aggregator_name("guardrails-")
    with pytest.raises(ValueError, match="not a Config aggregator name"):
        aggregator_name("bad prefix ")


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"name": "x"}, "not both"),
        ({"name": "x", "regions": REGIONS, "all_regions": True}, "not both"),
        ({"name": "x", "regions": ["eu-west-1", "Mars"]}, "'Mars' is not a region name"),
        ({"name": "has space", "regions": REGIONS}, "letters, digits"),
        ({"name": "x" * 257, "regions": REGIONS}, "letters, digits"),
    ],
)
def test_bad_arguments_are_refused(arguments: dict[str, Any], problem: str) -> None:
    stack = cdk.Stack(cdk.App(), "Bad")
    with pytest.raises(ValueError, match=problem):
        OrganizationAggregator(stack, "Aggregator", **arguments)
