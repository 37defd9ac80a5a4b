"""The deployment's CloudWatch dashboard graphs exactly the metrics the handler emits, under the
deployment's own ``service`` dimension, and never another instance's."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import aws_cdk as cdk
import pytest

from app import STACK_NAME
from infra.dashboard import (
    FAILURE_METRICS,
    FINDING_METRICS,
    INVOCATIONS_METRIC,
    RULE_DIMENSION,
    SERVICE_DIMENSION,
)
from infra.rule_construct import POWERTOOLS_METRICS_NAMESPACE
from infra.settings import load_settings
from infra.stack import GuardrailsStack, construct_id
from rules import observability
from rules.aws.clients import Clients
from rules.handler import METRIC_FOR
from rules.model import Compliance
from rules.registry import ENABLED_BY_DEFAULT as RULES  # the rules `enabledRules: all` deploys
from tests.aws.fixtures import change_event, config_item, load, run
from tests.infra.conftest import ROOT, Synth
from tests.infra.helpers import logical_id, rule_resource

REGION = "eu-west-1"
ACCOUNT = "111122223333"
PUBLIC = "lambda-function-public-access-prohibited"


def render(value: Any, stack_name: str, region: str = REGION) -> Any:
    """``value`` with CloudFormation's intrinsics resolved: the pseudo parameters to the given
    stack name and region, a resource's Ref to ``ref:<logical id>``, Fn::GetAtt to
    ``<logical id>.<attribute>``."""
    if isinstance(value, list):
        return [render(item, stack_name, region) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        pseudo = {"AWS::StackName": stack_name, "AWS::Region": region, "AWS::AccountId": ACCOUNT}
        return pseudo.get(value["Ref"], f"ref:{value['Ref']}")
    if set(value) == {"Fn::GetAtt"}:
        return ".".join(value["Fn::GetAtt"])
    if set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(render(part, stack_name, region) for part in parts)
    return {key: render(item, stack_name, region) for key, item in value.items()}


def dashboard_of(resources: dict[str, Any], stack_name: str, region: str = REGION) -> Any:
    (dashboard,) = [r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    properties = render(dashboard["Properties"], stack_name, region)
    return properties["DashboardName"], json.loads(properties["DashboardBody"])


def widget(body: dict[str, Any], title: str) -> dict[str, Any]:
    (found,) = [w for w in body["widgets"] if w["properties"].get("title") == title]
    return found


def emf_metrics(body: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    """(metric name, dimensions) of every graphed metric in the handler's namespace."""
    found = []
    for item in body["widgets"]:
        for metric in item["properties"].get("metrics", []):
            namespace, name, *rest = metric
            if namespace == POWERTOOLS_METRICS_NAMESPACE:
                pairs = [part for part in rest if isinstance(part, str)]
                found.append((name, dict(zip(pairs[::2], pairs[1::2], strict=True))))
    return found


def lambda_metrics(item: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(metric name, FunctionName, statistic) of a widget's AWS/Lambda metrics."""
    return [
        (metric[1], metric[3], metric[4].get("stat", "Average"))
        for metric in item["properties"]["metrics"]
        if metric[0] == "AWS/Lambda"
    ]


def handler_counted_metrics() -> set[str]:
    """Every metric name rules/handler.py passes to ``count(...)`` as a literal, plus the
    METRIC_FOR names it counts through a variable."""
    tree = ast.parse((ROOT / "rules" / "handler.py").read_text())
    names = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "count"
        and isinstance(node.args[0], ast.Constant)
    }
    return names | set(METRIC_FOR.values())


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_each_rule_has_its_evaluations_findings_errors_throttles_and_duration(
    default_synth: Synth, rule: Any
) -> None:
    _, body = dashboard_of(default_synth.resources, STACK_NAME)
    dimensions = {SERVICE_DIMENSION: STACK_NAME, RULE_DIMENSION: rule.id}
    evaluations = widget(body, f"{rule.id}: evaluations by compliance")
    assert [(m[1], m[-1]["label"]) for m in evaluations["properties"]["metrics"]] == [
        (METRIC_FOR[compliance], compliance.value) for compliance in Compliance
    ]
    assert emf_metrics({"widgets": [evaluations]}) == [
        (METRIC_FOR[compliance], dimensions) for compliance in Compliance
    ]
    findings = widget(body, f"{rule.id}: Security Hub findings")
    assert emf_metrics({"widgets": [findings]}) == [
        (name, dimensions) for name in ("FindingsImported", "FindingsFailed")
    ]
    function_id, _ = rule_resource(default_synth.resources, rule.id, "Function/Resource")
    function = f"ref:{function_id}"
    errors = widget(body, f"{rule.id}: invocations, errors, throttles")
    assert lambda_metrics(errors) == [
        ("Invocations", function, "Sum"),
        ("Errors", function, "Sum"),
        ("Throttles", function, "Sum"),
    ]
    duration = widget(body, f"{rule.id}: duration (ms)")
    assert lambda_metrics(duration) == [
        ("Duration", function, "Average"),
        ("Duration", function, "p99"),
        ("Duration", function, "Maximum"),
    ]
    # Every EMF metric of the rule's block carries the rule's own dimensions.
    block = [w for w in body["widgets"] if w["properties"].get("title", "").startswith(rule.id)]
    assert {dims[RULE_DIMENSION] for _, dims in emf_metrics({"widgets": block})} == {rule.id}


def test_the_dashboard_graphs_every_metric_the_handler_counts(default_synth: Synth) -> None:
    _, body = dashboard_of(default_synth.resources, STACK_NAME)
    for rule in RULES:
        graphed = {name for name, dims in emf_metrics(body) if dims[RULE_DIMENSION] == rule.id}
        assert graphed == handler_counted_metrics()
    assert {*FINDING_METRICS, *FAILURE_METRICS, INVOCATIONS_METRIC} <= handler_counted_metrics()


def test_the_dead_letter_queue_and_the_alarms_are_on_top(default_synth: Synth) -> None:
    resources = default_synth.resources
    _, body = dashboard_of(resources, STACK_NAME)
    queue = logical_id(resources, "DeadLetterQueue/Resource")
    depth = widget(body, "Dead-letter queue: events the functions gave up on")
    assert [m[:4] for m in depth["properties"]["metrics"]] == [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f"{queue}.QueueName"]
    ]
    assert depth["properties"]["metrics"][0][-1]["stat"] == "Maximum"
    alarms = widget(body, "Alarms")
    assert alarms["type"] == "alarm"
    expected = {
        f"{logical_id(resources, f'Alarms/{construct_id(rule.id)}Errors/Resource')}.Arn"
        for rule in RULES
    } | {f"{logical_id(resources, 'Alarms/DeadLetterMessages/Resource')}.Arn"}
    assert set(alarms["properties"]["alarms"]) == expected
    assert len(default_synth.of_type("AWS::CloudWatch::Alarm")) == len(expected)
    assert (
        depth["y"]
        == alarms["y"]
        < min(
            w["y"] for w in body["widgets"] if w["properties"].get("title", "").startswith(PUBLIC)
        )
    )


def test_the_functions_emit_under_the_service_the_dashboard_graphs(default_synth: Synth) -> None:
    """The functions' POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE are the
    dimension and namespace of every handler metric on the dashboard, for any stack name."""
    for stack_name in (STACK_NAME, "StackSet-guardrails-0a1b2c3d"):
        _, body = dashboard_of(default_synth.resources, stack_name)
        for rule in RULES:
            _, function = rule_resource(default_synth.resources, rule.id, "Function/Resource")
            variables = render(function["Properties"]["Environment"]["Variables"], stack_name)
            assert variables["POWERTOOLS_SERVICE_NAME"] == stack_name
            assert variables["POWERTOOLS_METRICS_NAMESPACE"] == POWERTOOLS_METRICS_NAMESPACE
            graphed = [dims for _, dims in emf_metrics(body) if dims[RULE_DIMENSION] == rule.id]
            assert graphed
            assert all(
                dims == {SERVICE_DIMENSION: stack_name, RULE_DIMENSION: variables["RULE_ID"]}
                for dims in graphed
            )


def _emf_blobs(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith('{"_aws"')]


def test_the_handler_emits_with_exactly_the_dashboards_dimensions(
    clients: Clients, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real handler, on moto: a failing, a passing and a deleted function. Every EMF blob
    has exactly the dimension set {service, rule} (CloudWatch matches the whole set) and the
    namespace the dashboard reads."""
    capsys.readouterr()
    run(change_event(config_item("lambda_ci_noncompliant.json")), clients, PUBLIC)
    run(change_event(config_item("lambda_ci_compliant.json")), clients, PUBLIC)
    deleted = json.loads(load("event_deleted.json")["invokingEvent"])["configurationItem"]
    run(change_event(deleted), clients, PUBLIC)
    blobs = _emf_blobs(capsys.readouterr().out)
    emitted: set[str] = set()
    for blob in blobs:
        (directive,) = blob["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == observability.NAMESPACE == POWERTOOLS_METRICS_NAMESPACE
        (dimension_set,) = directive["Dimensions"]
        assert set(dimension_set) == {SERVICE_DIMENSION, RULE_DIMENSION}
        assert len(dimension_set) == 2
        assert (blob[SERVICE_DIMENSION], blob[RULE_DIMENSION]) == (observability.SERVICE, PUBLIC)
        emitted |= {metric["Name"] for metric in directive["Metrics"]}
    assert {INVOCATIONS_METRIC, "FindingsImported", *METRIC_FOR.values()} <= emitted
    assert emitted <= handler_counted_metrics()


def test_observability_takes_the_service_name_from_the_function_environment() -> None:
    """rules.observability reads POWERTOOLS_SERVICE_NAME at import (a fresh interpreter, as a
    Lambda container): the EMF `service` dimension is the deployment's."""
    script = (
        "from rules.observability import count, metrics\n"
        "metrics.add_dimension(name='rule', value='lambda-dlq-check')\n"
        "count('Invocations')\n"
        "metrics.flush_metrics()\n"
    )
    env = {
        **os.environ,
        "POWERTOOLS_SERVICE_NAME": "LambdaGuardrailsTeamB",
        "POWERTOOLS_METRICS_NAMESPACE": POWERTOOLS_METRICS_NAMESPACE,
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    (blob,) = _emf_blobs(result.stdout)
    assert blob[SERVICE_DIMENSION] == "LambdaGuardrailsTeamB"
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == POWERTOOLS_METRICS_NAMESPACE


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """The same stack in two regions, and a second team's instance beside the first."""
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("cdk-dashboards")))
    team = load_settings({"ruleNamePrefix": "team-b-"}.get)
    stacks = {
        ("eu", STACK_NAME, "eu-west-1"): load_settings({}.get),
        ("us", STACK_NAME, "us-east-1"): load_settings({}.get),
        ("team", "LambdaGuardrailsTeamB", "eu-west-1"): team,
    }
    built = {
        key: GuardrailsStack(
            app,
            key[0],
            stack_name=key[1],
            settings=settings,
            env=cdk.Environment(account=ACCOUNT, region=key[2]),
        )
        for key, settings in stacks.items()
    }
    assembly = app.synth()
    yield {
        key: assembly.get_stack_artifact(stack.artifact_id).template for key, stack in built.items()
    }


def test_two_instances_or_regions_share_no_dashboard_name_nor_metric(
    instances: dict[tuple[str, str, str], dict[str, Any]],
) -> None:
    names = set()
    metrics: dict[str, set[str]] = {}
    for (key, stack_name, region), template in instances.items():
        name, body = dashboard_of(template["Resources"], stack_name, region)
        names.add(name)
        metrics[key] = {json.dumps(m, sort_keys=True) for m in emf_metrics(body)}
        assert name == f"{stack_name}-{region}"
    # Dashboard names are global to the account: three deployments, three names.
    assert len(names) == 3
    # Same account and region: the second instance's handler metrics are its own.
    assert metrics["eu"] and metrics["team"]
    assert not metrics["eu"] & metrics["team"]
