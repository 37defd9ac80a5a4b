"""The stack deploys beside anything: several instances in one app (two regions, two prefixes
in one account) without a name clash, and the same template in an app without this
repository's cdk.json (no feature flags)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from cfnlint.api import ManualArgs, lint_file

from app import STACK_NAME
from demo.synth import synthesize
from infra.nag import add_checks
from infra.settings import load_settings
from infra.stack import NO_SWEEP_WARNING, GuardrailsStack
from tests.infra.conftest import FULL_OVERRIDES, ROOT, Synth
from tests.infra.test_checks import CFN_LINT_IGNORED, CFN_LINT_REGIONS

ACCOUNT = "111122223333"
PUBLIC = "lambda-function-public-access-prohibited"
# Every name the template sets as a literal, and why it cannot clash: both are per account and
# region, and derive from ruleNamePrefix and the stack name, which CloudFormation keeps unique
# per account and region. A new literal name fails the audit below until it is added here.
REGIONAL_NAMES = {
    ("AWS::Config::ConfigRule", "ConfigRuleName"),
    ("AWS::KMS::Alias", "AliasName"),
    ("AWS::SSM::Document", "Name"),  # the runbooks: <ruleNamePrefix><rule id>-remediation
}
NOT_A_RESOURCE_NAME = {("AWS::CloudWatch::Alarm", "MetricName")}


@dataclass(frozen=True)
class Instance:
    stack: GuardrailsStack
    template: dict[str, Any]
    warnings: list[str]


def literal_names(template: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    """(resource type, property) -> the literal values of top-level ``...Name`` properties."""
    names: dict[tuple[str, str], set[str]] = {}
    for resource in template["Resources"].values():
        for key, value in resource.get("Properties", {}).items():
            where = (resource["Type"], key)
            if key.endswith("Name") and isinstance(value, str) and where not in NOT_A_RESOURCE_NAME:
                names.setdefault(where, set()).add(value)
    return names


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Instance]]:
    """One app, no context at all: the stack in two regions under the same name, and a second
    team's instance beside the first in one account and region."""
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("cdk-instances")))
    defaults = load_settings({}.get)
    team = load_settings(
        {"ruleNamePrefix": "team-b-", "rulePeriodicFrequency": {PUBLIC: "off"}}.get
    )
    stacks = {
        "eu": GuardrailsStack(
            app,
            "Eu",
            stack_name=STACK_NAME,
            settings=defaults,
            env=cdk.Environment(account=ACCOUNT, region="eu-west-1"),
        ),
        "us": GuardrailsStack(
            app,
            "Us",
            stack_name=STACK_NAME,
            settings=defaults,
            env=cdk.Environment(account=ACCOUNT, region="us-east-1"),
        ),
        "team": GuardrailsStack(
            app,
            "TeamB",
            stack_name="LambdaGuardrailsTeamB",
            settings=team,
            env=cdk.Environment(account=ACCOUNT, region="eu-west-1"),
        ),
    }
    add_checks(app)  # cdk-nag too: any finding fails the synth
    assembly = app.synth()
    result = {}
    for key, stack in stacks.items():
        artifact = assembly.get_stack_artifact(stack.artifact_id)
        warnings = [
            str(message.entry.data)
            for message in artifact.messages
            if message.entry.type == "aws:cdk:warning"
        ]
        result[key] = Instance(stack, artifact.template, warnings)
    yield result


def test_every_literal_name_is_regional_and_derived(instances: dict[str, Instance]) -> None:
    for instance in instances.values():
        assert set(literal_names(instance.template)) == REGIONAL_NAMES


def test_two_regions_share_only_regional_names(instances: dict[str, Instance]) -> None:
    eu, us = literal_names(instances["eu"].template), literal_names(instances["us"].template)
    # Same stack name and prefix: the same regional names, which cannot clash across regions,
    # and no global (IAM, S3) name at all (the audit above).
    assert eu == us
    assert eu[("AWS::KMS::Alias", "AliasName")] == {f"alias/{STACK_NAME}"}


def test_two_instances_in_one_account_and_region_share_no_name(
    instances: dict[str, Instance],
) -> None:
    first, team = literal_names(instances["eu"].template), literal_names(instances["team"].template)
    for where in REGIONAL_NAMES:
        assert first[where] and team[where]
        assert not first[where] & team[where], where
    assert team[("AWS::KMS::Alias", "AliasName")] == {"alias/LambdaGuardrailsTeamB"}
    assert all(
        name.startswith("team-b-") for name in team[("AWS::Config::ConfigRule", "ConfigRuleName")]
    )
    # SSM reserves aws*/amazon*/amzn* document names; ours never start so.
    for name in first[("AWS::SSM::Document", "Name")] | team[("AWS::SSM::Document", "Name")]:
        assert not name.lower().startswith(("aws", "amazon", "amzn")), name
    for instance in (instances["eu"], instances["team"]):
        for alarm in resources_of(instance.template, "AWS::CloudWatch::Alarm"):
            assert "AlarmName" not in alarm["Properties"]  # CloudFormation names them


def test_turning_the_default_sweep_off_warns(instances: dict[str, Instance]) -> None:
    (rule,) = [
        r
        for r in resources_of(instances["team"].template, "AWS::Config::ConfigRule")
        if r["Properties"]["ConfigRuleName"] == f"team-b-{PUBLIC}"
    ]
    assert [d["MessageType"] for d in rule["Properties"]["Source"]["SourceDetails"]] == [
        "ConfigurationItemChangeNotification",
        "OversizedConfigurationItemChangeNotification",
    ]
    assert [w for w in instances["team"].warnings if NO_SWEEP_WARNING in w and PUBLIC in w]
    assert not [w for w in instances["eu"].warnings if NO_SWEEP_WARNING in w]


def resources_of(template: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == resource_type]


def test_without_cdk_json_the_template_is_the_same(full_synth: Synth, tmp_path: Path) -> None:
    """`python app.py` with only our keys in CDK_CONTEXT_JSON (what an app without this
    repository's feature flags gives the stack), everything on, including
    createConfigRecorder's access-logged bucket, against the cdk.json synth: the same resources
    and properties, policies compared statement by statement (the flags may only regroup
    them)."""
    templates, problem = synthesize(ROOT, tmp_path, context=FULL_OVERRIDES)
    assert problem is None, problem
    path = tmp_path / f"{STACK_NAME}.template.json"
    assert path in templates
    bare = json.loads(path.read_text())
    flagged = json.loads(next(full_synth.outdir.glob("*.template.json")).read_text())
    assert normalized(bare) == normalized(flagged)
    # The access logs reach their bucket through its policy, never an ACL.
    buckets = resources_of(bare, "AWS::S3::Bucket")
    assert len(buckets) == 2
    assert not [b for b in buckets if "AccessControl" in b["Properties"]]
    assert [
        statement
        for policy in resources_of(bare, "AWS::S3::BucketPolicy")
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Principal") == {"Service": "logging.s3.amazonaws.com"}
        and statement["Action"] == "s3:PutObject"
        and set(statement["Condition"]) == {"ArnLike", "StringEquals"}
    ]
    matches = lint_file(
        path, config=ManualArgs(ignore_checks=CFN_LINT_IGNORED, regions=CFN_LINT_REGIONS)
    )
    assert [str(match) for match in matches] == []


def normalized(template: dict[str, Any]) -> dict[str, Any]:
    """The template without construct metadata, each policy document as its set of
    one-action, one-resource statements."""
    return {
        key: {
            logical_id: _normalized({k: v for k, v in resource.items() if k != "Metadata"})
            for logical_id, resource in value.items()
        }
        if key == "Resources"
        else value
        for key, value in template.items()
    }


def _normalized(value: Any) -> Any:
    if isinstance(value, dict):
        if "Statement" in value and "Version" in value:
            return _statements(value["Statement"])
        return {k: _normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalized(item) for item in value]
    return value


def _statements(statements: list[dict[str, Any]]) -> list[str]:
    expanded = set()
    for statement in statements:
        actions = statement["Action"]
        resources = statement.get("Resource", [None])  # trust policies have none
        for action in [actions] if isinstance(actions, str) else actions:
            for resource in resources if isinstance(resources, list) else [resources]:
                rest = {k: v for k, v in statement.items() if k not in ("Action", "Resource")}
                expanded.add(json.dumps([action, resource, rest], sort_keys=True))
    return sorted(expanded)


def test_an_alarm_topic_in_another_region_is_refused() -> None:
    app = cdk.App()
    settings = load_settings({"alarmTopicArn": "arn:aws:sns:eu-west-1:111122223333:alerts"}.get)
    with pytest.raises(ValueError, match="in eu-west-1, the stack in us-east-1"):
        GuardrailsStack(
            app,
            "Us",
            settings=settings,
            env=cdk.Environment(account=ACCOUNT, region="us-east-1"),
        )
    # Same region: accepted.
    GuardrailsStack(
        app,
        "Eu",
        settings=settings,
        env=cdk.Environment(account=ACCOUNT, region="eu-west-1"),
    )
