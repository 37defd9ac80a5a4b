"""``LambdaGuardrailsChecks`` on small CDK apps: one violation per rule, a compliant app,
acknowledgments, the context's rules and parameters, UNKNOWN on request, importable alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs

from infra.pack import PACK_NAME, LambdaGuardrailsChecks, acknowledgment_id
from rules.registry import DEFAULT_RULES

ROOT = Path(__file__).resolve().parents[2]
SUBNET = "subnet-0123456789abcdef0"
PUBLIC = "lambda-function-public-access-prohibited"
DLQ = "lambda-dlq-check"
ACK_REASON = "The queue is added by the platform team's aspect after synth"
# Construct id -> the one rule its function breaks.
BROKEN = {
    "Public": PUBLIC,
    "OutsideVpc": "lambda-inside-vpc",
    "PlainVariables": "lambda-env-vars-cmk-encrypted",
    "NoDeadLetters": DLQ,
    "Unreserved": "lambda-concurrency-check",
    # issue 11 (rules-a); lambda-tagged is off by default, so the pack does not run it.
    "OldRuntime": "lambda-runtime-supported",
    "NotTraced": "lambda-xray-tracing-active",
    "OneZone": "lambda-vpc-multi-az",
    "OpenUrl": "lambda-function-url-auth-required",
    "LiteralSecret": "lambda-no-secrets-in-env-vars",
    "SharedRoleA": "lambda-unique-execution-role",
    "SharedRoleB": "lambda-unique-execution-role",
}
SHARED_ROLE = "arn:aws:iam::111122223333:role/shared"


def compliant_function(
    stack: cdk.Stack, construct_id: str, **overrides: Any
) -> lambda_.CfnFunction:
    """A function every rule passes (L1: no role or log group of its own to judge)."""
    key = stack.node.try_find_child("Key") or kms.Key(stack, "Key", enable_key_rotation=True)
    queue = stack.node.try_find_child("Dlq") or sqs.Queue(stack, "Dlq")
    # Two subnets of the template with literal zones: lambda-vpc-multi-az can tell they differ.
    subnets = [
        stack.node.try_find_child(name)
        or ec2.CfnSubnet(
            stack, name, vpc_id="vpc-0123456789abcdef0", cidr_block=cidr, availability_zone=zone
        )
        for name, cidr, zone in (
            ("SubnetA", "10.0.0.0/24", "eu-west-1a"),
            ("SubnetB", "10.0.1.0/24", "eu-west-1b"),
        )
    ]
    properties: dict[str, Any] = {
        # One role each (lambda-unique-execution-role).
        "role": f"arn:aws:iam::111122223333:role/{construct_id}",
        "runtime": "python3.12",
        "handler": "index.handler",
        "code": lambda_.CfnFunction.CodeProperty(zip_file="def handler(e, c): pass"),
        "vpc_config": lambda_.CfnFunction.VpcConfigProperty(
            subnet_ids=[subnet.ref for subnet in subnets],
            security_group_ids=["sg-0123456789abcdef0"],
        ),
        "tracing_config": lambda_.CfnFunction.TracingConfigProperty(mode="Active"),
        "dead_letter_config": lambda_.CfnFunction.DeadLetterConfigProperty(
            target_arn=queue.queue_arn
        ),
        "reserved_concurrent_executions": 5,
        "kms_key_arn": key.key_arn,
        "environment": lambda_.CfnFunction.EnvironmentProperty(variables={"LEVEL": "INFO"}),
    }
    properties.update(overrides)
    return lambda_.CfnFunction(stack, construct_id, **properties)


def synth(
    tmp_path: Path,
    build: Callable[[cdk.Stack], None],
    *,
    context: dict[str, Any] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Synthesize an app with the pack; our plugin's report (the synth may fail: the report is
    written first)."""
    app = cdk.App(outdir=str(tmp_path), context=context)
    build(cdk.Stack(app, "App"))
    cdk.Validations.of(app).add_plugins(LambdaGuardrailsChecks(app, **options))
    try:
        app.synth()
    except RuntimeError as error:
        assert "ValidationFailed" in str(error)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    ours = [r for r in report["pluginReports"] if r["pluginName"] == PACK_NAME]
    # CDK lists only the plugins that reported something.
    return ours[0] if ours else {"conclusion": "success"}  # type: ignore[no-any-return]


def flagged(report: dict[str, Any], key: str = "violations") -> set[tuple[str, str]]:
    """(construct path, rule id) of every violation (or suppressed violation)."""
    return {
        (construct["constructPath"], violation["ruleName"])
        for violation in report.get(key, [])
        for construct in violation["violatingConstructs"]
    }


def broken_app(stack: cdk.Stack) -> None:
    compliant_function(stack, "Compliant")
    public = compliant_function(stack, "Public")
    lambda_.CfnPermission(
        stack,
        "PublicInvoke",
        function_name=public.attr_arn,
        action="lambda:InvokeFunction",
        principal="*",
    )
    compliant_function(stack, "OutsideVpc", vpc_config=None)
    compliant_function(stack, "PlainVariables", kms_key_arn=None)
    compliant_function(stack, "NoDeadLetters", dead_letter_config=None)
    compliant_function(stack, "Unreserved", reserved_concurrent_executions=None)
    compliant_function(stack, "OldRuntime", runtime="python3.9")
    compliant_function(stack, "NotTraced", tracing_config=None)
    one_zone = ec2.CfnSubnet(
        stack,
        "SubnetA2",
        vpc_id="vpc-0123456789abcdef0",
        cidr_block="10.0.2.0/24",
        availability_zone="eu-west-1a",
    )
    compliant_function(
        stack,
        "OneZone",
        vpc_config=lambda_.CfnFunction.VpcConfigProperty(
            subnet_ids=[stack.node.find_child("SubnetA").ref, one_zone.ref],  # type: ignore[attr-defined]
            security_group_ids=["sg-0123456789abcdef0"],
        ),
    )
    open_url = compliant_function(stack, "OpenUrl")
    lambda_.CfnUrl(stack, "OpenUrlUrl", target_function_arn=open_url.attr_arn, auth_type="NONE")
    compliant_function(
        stack,
        "LiteralSecret",
        environment=lambda_.CfnFunction.EnvironmentProperty(
            variables={"LEVEL": "INFO", "DB_PASSWORD": "pack-test-literal-password"}
        ),
    )
    compliant_function(stack, "SharedRoleA", role=SHARED_ROLE)
    compliant_function(stack, "SharedRoleB", role=SHARED_ROLE)
    # A second DLQ violation, acknowledged: exactly this one disappears.
    acknowledged = compliant_function(stack, "AcknowledgedNoDeadLetters", dead_letter_config=None)
    cdk.Validations.of(acknowledged).acknowledge(
        cdk.Acknowledgment(id=acknowledgment_id(DLQ), reason=ACK_REASON)
    )


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synth(tmp_path_factory.mktemp("pack-broken"), broken_app)


def test_each_rule_is_flagged_on_its_function_with_path_and_annotation(
    broken: dict[str, Any],
) -> None:
    assert broken["conclusion"] == "failure"
    # OpenUrl's URL of auth type NONE without a public permission: no one may call it yet, so
    # only the URL rule flags it (the public-access rule judges the permission that adds it).
    assert flagged(broken) == {(f"App/{cid}", rule) for cid, rule in BROKEN.items()}
    assert {rule.id for rule in DEFAULT_RULES} == set(BROKEN.values())
    descriptions = {v["ruleName"]: v["description"] for v in broken["violations"]}
    assert "Principal '*'" in descriptions[PUBLIC]
    assert "no dead-letter queue" in descriptions[DLQ]
    # The secret's variable is named, its value never reported.
    assert "DB_PASSWORD" in descriptions["lambda-no-secrets-in-env-vars"]
    assert "pack-test-literal-password" not in json.dumps(broken)
    for violation in broken["violations"]:
        assert violation["severity"] == "error"
        (construct,) = violation["violatingConstructs"]
        assert construct["cloudFormationResource"]["logicalId"].startswith(
            construct["constructPath"].removeprefix("App/")
        )


def test_an_acknowledgment_suppresses_exactly_its_finding_and_keeps_the_reason(
    broken: dict[str, Any],
) -> None:
    (suppressed,) = broken["suppressedViolations"]
    assert flagged(broken, "suppressedViolations") == {("App/AcknowledgedNoDeadLetters", DLQ)}
    assert suppressed["acknowledgedId"] == f"{PACK_NAME}::{DLQ}"
    assert suppressed["reason"] == ACK_REASON
    assert ("App/NoDeadLetters", DLQ) in flagged(broken)


def test_a_compliant_app_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def app(stack: cdk.Stack) -> None:
        function = compliant_function(stack, "Compliant")
        lambda_.CfnPermission(
            stack,
            "FromS3",
            function_name=function.ref,
            action="lambda:InvokeFunction",
            principal="s3.amazonaws.com",
            source_account=stack.account,
            source_arn="arn:aws:s3:::uploads",
        )

    seen: list[int] = []
    original = LambdaGuardrailsChecks.validate

    def counting(self: LambdaGuardrailsChecks, context: Any) -> Any:
        result = original(self, context)
        seen.append(len(context.stack_templates))
        return result

    monkeypatch.setattr(LambdaGuardrailsChecks, "validate", counting)
    report = synth(tmp_path, app)
    assert seen == [1]  # the pack did judge the stack
    assert report == {"conclusion": "success"}


def test_context_rules_and_parameters_are_honoured(tmp_path: Path) -> None:
    context = {
        "enabledRules": "lambda-inside-vpc,lambda-dlq-check",
        "disabledRules": DLQ,
        "ruleParameters": json.dumps(
            {"lambda-inside-vpc": {"subnetIds": "subnet-0fedcba987654321f"}}
        ),
    }
    report = synth(tmp_path, broken_app, context=context)
    # Only lambda-inside-vpc runs, and the compliant functions' subnet is not the allowed one.
    rules = {rule for _, rule in flagged(report)}
    assert rules == {"lambda-inside-vpc"}
    assert ("App/Compliant", "lambda-inside-vpc") in flagged(report)


def test_an_agnostic_stack_s_region_is_never_guessed(tmp_path: Path) -> None:
    listed = "arn:aws:sqs:us-east-1:111122223333:dlq"
    regional = f"arn:{cdk.Aws.PARTITION}:sqs:{cdk.Aws.REGION}:111122223333:dlq"

    def app(stack: cdk.Stack) -> None:
        compliant_function(
            stack,
            "Fn",
            dead_letter_config=lambda_.CfnFunction.DeadLetterConfigProperty(target_arn=regional),
        )

    context = {"ruleParameters": json.dumps({DLQ: {"dlqArns": listed}})}
    report = synth(tmp_path, app, context=context, enabled_rules=[DLQ])
    # The stack's Region is known at deploy time only: us-east-1 is not assumed, so the listed
    # queue does not match by chance; the verdict names the Region as the deciding value.
    (violation,) = report["violations"]
    assert violation["ruleName"] == DLQ
    assert "Ref AWS::Region" in violation["description"]


def test_bad_context_fails_naming_the_key() -> None:
    app = cdk.App(context={"ruleParameters": json.dumps({"no-such-rule": {}})})
    with pytest.raises(ValueError, match="ruleParameters: unknown rule id 'no-such-rule'"):
        LambdaGuardrailsChecks(app)


def test_unknown_verdicts_fail_closed_or_warn_at_level_unknown(tmp_path: Path) -> None:
    def app(stack: cdk.Stack) -> None:
        principal = cdk.CfnParameter(stack, "Invoker", type="String")
        function = compliant_function(stack, "Fn")
        lambda_.CfnPermission(
            stack,
            "Invoke",
            function_name=function.ref,
            action="lambda:InvokeFunction",
            principal=principal.value_as_string,
        )

    closed = synth(tmp_path / "closed", app, enabled_rules=[PUBLIC])
    (violation,) = closed["violations"]
    assert closed["conclusion"] == "failure"
    assert violation["severity"] == "error" and "Ref Invoker" in violation["description"]
    warned = synth(tmp_path / "warned", app, enabled_rules=[PUBLIC], unknown="unknown")
    (violation,) = warned["violations"]
    assert warned["conclusion"] == "success"
    assert violation["severity"] == "warning"
    assert violation["ruleMetadata"]["level"] == "UNKNOWN"


def test_a_grant_on_an_imported_function_is_judged_on_its_own(tmp_path: Path) -> None:
    def app(stack: cdk.Stack) -> None:
        lambda_.CfnPermission(
            stack,
            "Anyone",
            function_name="arn:aws:lambda:us-east-1:111122223333:function:shared",
            action="lambda:InvokeFunction",
            principal="*",
        )

    report = synth(tmp_path, app)
    assert {rule for _, rule in flagged(report)} == {PUBLIC}
    (violation,) = report["violations"]
    assert "function:shared" in violation["description"]


def test_importable_without_the_rest_of_the_app() -> None:
    code = (
        "import sys, infra.pack; "
        "loaded = [m for m in ('app', 'infra.stack', 'infra.organization', 'infra.stacksets') "
        "if m in sys.modules]; assert not loaded, loaded"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)
