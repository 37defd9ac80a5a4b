"""Security Hub insights select exactly one deployment's failing Lambda function findings, and
the cross-region finding aggregator exists only when the context asks for it.

moto gap: moto neither evaluates an insight's filters (GetInsightResults is not implemented)
nor applies GetFindings filters, so the filters in the synthesized template are run here
through a small matcher of Security Hub's documented semantics for the comparisons they use
(EQUALS and PREFIX on one field joined by OR, fields joined by AND), against findings built by
``rules.aws.findings.build_finding``, the builder the handler and ``scan`` use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from cfnlint.api import ManualArgs, lint_file

from app import STACK_NAME
from infra.nag import add_checks
from infra.security_hub import (
    FINDING_AGGREGATOR_WARNING,
    MEMBER_RULE_PREFIX,
    FindingAggregator,
    GuardrailsInsights,
)
from infra.settings import SINGLETON_AGGREGATOR, SettingsError, load_settings
from infra.stack import GuardrailsStack
from rules.aws.findings import build_finding
from rules.model import LAMBDA_FUNCTION, Compliance, Evaluation
from rules.naming import config_rule_name
from rules.registry import ENABLED_BY_DEFAULT as RULES  # the rules `enabledRules: all` deploys
from rules.registry import get_rule
from tests.factories import function
from tests.infra.conftest import Synth
from tests.infra.test_checks import CFN_LINT_IGNORED, CFN_LINT_REGIONS
from tests.infra.test_dashboard import render

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ACCOUNT = "111122223333"
MEMBER = "444455556666"
DLQ = "lambda-dlq-check"

# ASFF filter field -> the finding's value(s) (a list: any element may match).
FIELDS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "Id": lambda f: [f["Id"]],
    "GeneratorId": lambda f: [f["GeneratorId"]],
    "AwsAccountId": lambda f: [f["AwsAccountId"]],
    "ComplianceStatus": lambda f: [f.get("Compliance", {}).get("Status", "")],
    "RecordState": lambda f: [f["RecordState"]],
    "ResourceType": lambda f: [resource["Type"] for resource in f["Resources"]],
    # Security Hub sets NEW on import when the finding names no workflow status.
    "WorkflowStatus": lambda f: [f.get("Workflow", {}).get("Status", "NEW")],
}
COMPARISONS: dict[str, Callable[[str, str], bool]] = {
    "EQUALS": lambda value, wanted: value == wanted,
    "PREFIX": lambda value, wanted: value.startswith(wanted),
}
NEGATIONS: dict[str, Callable[[str, str], bool]] = {
    "NOT_EQUALS": lambda value, wanted: value != wanted,
}


def matches(filters: dict[str, list[dict[str, str]]], finding: dict[str, Any]) -> bool:
    """Security Hub's semantics for the comparisons used: every field must match (AND); a
    field matches when any of its EQUALS/PREFIX filters does (OR) and all of its NOT_EQUALS
    filters do (AND). A field or comparison this matcher does not know fails the test rather
    than being skipped."""
    for field, conditions in filters.items():
        values = FIELDS[field](finding)
        positive = [c for c in conditions if c["Comparison"] not in NEGATIONS]
        negative = [c for c in conditions if c["Comparison"] in NEGATIONS]
        if positive and not any(
            COMPARISONS[c["Comparison"]](value, c["Value"]) for c in positive for value in values
        ):
            return False
        if not all(
            NEGATIONS[c["Comparison"]](value, c["Value"]) for c in negative for value in values
        ):
            return False
    return True


def finding(
    rule_id: str,
    compliance: Compliance = Compliance.NON_COMPLIANT,
    *,
    rule_name: str | None = None,
    account: str = ACCOUNT,
    name: str = "orders-api",
) -> dict[str, Any]:
    rule = get_rule(rule_id)
    subject = function(
        name=name,
        arn=f"arn:aws:lambda:eu-west-1:{account}:function:{name}",
        account_id=account,
        region="eu-west-1",
    )
    evaluation = Evaluation(rule.id, name, LAMBDA_FUNCTION, compliance, "because")
    return build_finding(
        rule,
        evaluation,
        subject,
        account=account,
        region="eu-west-1",
        partition="aws",
        now=NOW,
        observed_at=NOW,
        config_rule_name=rule_name,
    )


def insights_of(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """GroupByAttribute -> the insight's rendered properties."""
    found = [r for r in resources.values() if r["Type"] == "AWS::SecurityHub::Insight"]
    return {r["Properties"]["GroupByAttribute"]: render(r["Properties"], STACK_NAME) for r in found}


def test_two_insights_by_rule_and_by_account(default_synth: Synth) -> None:
    insights = insights_of(default_synth.resources)
    assert set(insights) == {"GeneratorId", "AwsAccountId"}
    assert insights["GeneratorId"]["Name"] == (
        f"Lambda Guardrails ({STACK_NAME}): non-compliant Lambda functions by rule"
    )
    assert insights["AwsAccountId"]["Name"].endswith("by account")
    assert insights["GeneratorId"]["Filters"] == insights["AwsAccountId"]["Filters"]
    filters = insights["GeneratorId"]["Filters"]
    assert {v["Value"] for v in filters["GeneratorId"]} == {rule.id for rule in RULES}


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_insights_select_this_deployments_failing_functions_only(
    default_synth: Synth, rule: Any
) -> None:
    for insight in insights_of(default_synth.resources).values():
        filters = insight["Filters"]
        ours = config_rule_name(rule.id)  # the default deployment's Config rule name
        assert matches(filters, finding(rule.id, rule_name=ours))
        assert matches(filters, finding(rule.id, rule_name=ours, account=MEMBER))
        # `scan --publish` writes the default deployment's finding Ids (no rule name given).
        assert matches(filters, finding(rule.id))
        # Passing: PASSED; deleted or out of scope: ARCHIVED with NOT_AVAILABLE.
        assert not matches(filters, finding(rule.id, Compliance.COMPLIANT, rule_name=ours))
        assert not matches(filters, finding(rule.id, Compliance.NOT_APPLICABLE, rule_name=ours))
        # Another instance beside this one (ruleNamePrefix team-b-) in the same account.
        other = config_rule_name(rule.id, "team-b-")
        assert not matches(filters, finding(rule.id, rule_name=other))
        # A prefix that extends ours (guardrails-x-...) is not ours either.
        assert not matches(filters, finding(rule.id, rule_name=f"guardrails-x-{rule.id}"))
        # A suppressed finding is an accepted risk, not a non-compliant function to fix.
        suppressed = {**finding(rule.id, rule_name=ours), "Workflow": {"Status": "SUPPRESSED"}}
        assert not matches(filters, suppressed)
        notified = {**finding(rule.id, rule_name=ours), "Workflow": {"Status": "NOTIFIED"}}
        assert matches(filters, notified)


def test_a_finding_of_another_product_does_not_match(default_synth: Synth) -> None:
    filters = insights_of(default_synth.resources)["GeneratorId"]["Filters"]
    foreign = finding(DLQ, rule_name=config_rule_name(DLQ))
    foreign["GeneratorId"] = "aws-foundational-security-best-practices/v/1.0.0/Lambda.1"
    assert not matches(filters, foreign)
    other_resource = finding(DLQ, rule_name=config_rule_name(DLQ))
    other_resource["Resources"][0]["Type"] = "AwsS3Bucket"
    assert not matches(filters, other_resource)


def test_without_security_hub_export_there_is_no_insight(full_synth: Synth) -> None:
    assert not full_synth.of_type("AWS::SecurityHub::Insight")


def test_organization_insights_match_the_member_accounts_rule_copies() -> None:
    """AWS Config names an organization rule's copy in a member account
    OrgConfigRule-<name>-<suffix>, which is the rule name in the events and so in the Ids."""
    stack = cdk.Stack(cdk.App(), "Org")
    names = {rule.id: config_rule_name(rule.id) for rule in RULES}
    insights = GuardrailsInsights(stack, "Insights", config_rule_names=names, organization=True)
    for rule in RULES:
        copy = f"{MEMBER_RULE_PREFIX}{config_rule_name(rule.id)}-ab12cd34"
        assert matches(insights.filters, finding(rule.id, rule_name=copy, account=MEMBER))
        # The account-mode Id of the same rule name is another deployment's.
        assert not matches(insights.filters, finding(rule.id, rule_name=names[rule.id]))
        team = f"{MEMBER_RULE_PREFIX}{config_rule_name(rule.id, 'team-b-')}-ab12cd34"
        assert not matches(insights.filters, finding(rule.id, rule_name=team, account=MEMBER))


def test_too_many_rules_for_one_insight_are_refused() -> None:
    stack = cdk.Stack(cdk.App(), "Many")
    names = {f"rule-{n}": f"guardrails-rule-{n}" for n in range(21)}
    with pytest.raises(ValueError, match="20"):
        GuardrailsInsights(stack, "Insights", config_rule_names=names)


# --- cross-region finding aggregation -------------------------------------------------------


def test_no_finding_aggregator_by_default(default_synth: Synth, full_synth: Synth) -> None:
    for synth in (default_synth, full_synth):
        assert not synth.of_type("AWS::SecurityHub::FindingAggregator")
        assert not [w for w in synth.warnings if FINDING_AGGREGATOR_WARNING in w]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", None),
        ("off", None),
        ("ALL", "ALL"),
        ("all", "ALL"),
        ("us-east-1, ap-southeast-2", ("us-east-1", "ap-southeast-2")),
        ('["us-east-1"]', ("us-east-1",)),
        (["eu-central-1"], ("eu-central-1",)),
    ],
)
def test_aggregation_regions_setting(raw: Any, expected: Any) -> None:
    settings = load_settings({"securityHubAggregationRegions": raw}.get)
    assert settings.security_hub_aggregation_regions == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("us-east-1,Mars", "'Mars' is not a region name"),
        ("us-east-1,us-east-1", "listed twice"),
        (True, "expected a list"),
    ],
)
def test_bad_aggregation_regions_fail_the_synth(raw: Any, problem: str) -> None:
    with pytest.raises(SettingsError, match=f"securityHubAggregationRegions: .*{problem}"):
        load_settings({"securityHubAggregationRegions": raw}.get)


@pytest.fixture(scope="module")
def aggregating(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two accounts' stacks, one aggregating every region (and enabling Security Hub), the
    other two listed regions; cdk-nag runs on both."""
    outdir = tmp_path_factory.mktemp("cdk-aggregation")
    app = cdk.App(outdir=str(outdir))
    contexts = {
        "All": {"securityHubAggregationRegions": "ALL", "enableSecurityHub": "true"},
        "Listed": {"securityHubAggregationRegions": "us-east-1,ap-southeast-2"},
    }
    stacks = {
        key: GuardrailsStack(
            app,
            key,
            settings=load_settings(context.get),
            env=cdk.Environment(account=account, region="eu-west-1"),
        )
        for (key, context), account in zip(contexts.items(), (ACCOUNT, MEMBER), strict=True)
    }
    add_checks(app)
    assembly = app.synth()
    result = {}
    for key, stack in stacks.items():
        artifact = assembly.get_stack_artifact(stack.artifact_id)
        result[key] = {
            "template": artifact.template,
            "path": Path(outdir) / artifact.template_file,
            "warnings": [
                str(m.entry.data) for m in artifact.messages if m.entry.type == "aws:cdk:warning"
            ],
        }
    yield result


def _aggregators(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SecurityHub::FindingAggregator"
    ]


def test_all_regions_aggregate_into_the_stacks_region_after_the_hub(
    aggregating: dict[str, Any],
) -> None:
    template = aggregating["All"]["template"]
    (aggregator,) = _aggregators(template)
    assert aggregator["Properties"] == {"RegionLinkingMode": "ALL_REGIONS"}
    resources = template["Resources"]
    (hub_id,) = [k for k, r in resources.items() if r["Type"] == "AWS::SecurityHub::Hub"]
    assert hub_id in aggregator["DependsOn"]
    for insight in template["Resources"].values():
        if insight["Type"] == "AWS::SecurityHub::Insight":
            assert hub_id in insight["DependsOn"]
    # The singleton is said at synth time.
    (warning,) = [w for w in aggregating["All"]["warnings"] if FINDING_AGGREGATOR_WARNING in w]
    assert SINGLETON_AGGREGATOR in warning


def test_listed_regions_are_linked(aggregating: dict[str, Any]) -> None:
    (aggregator,) = _aggregators(aggregating["Listed"]["template"])
    assert aggregator["Properties"] == {
        "RegionLinkingMode": "SPECIFIED_REGIONS",
        "Regions": ["us-east-1", "ap-southeast-2"],
    }
    assert "DependsOn" not in aggregator  # no hub created by this stack


def test_aggregating_stacks_are_cfn_lint_clean(aggregating: dict[str, Any]) -> None:
    # cdk-nag ran in the fixture's synth: a finding would have failed it.
    for built in aggregating.values():
        config = ManualArgs(ignore_checks=CFN_LINT_IGNORED, regions=CFN_LINT_REGIONS)
        assert [str(match) for match in lint_file(built["path"], config=config)] == []


def test_the_home_region_cannot_be_a_linked_region() -> None:
    stack = cdk.Stack(cdk.App(), "Home", env=cdk.Environment(account=ACCOUNT, region="eu-west-1"))
    with pytest.raises(ValueError, match="eu-west-1 is the stack's region"):
        FindingAggregator(stack, "Aggregator", regions=["us-east-1", "eu-west-1"])
