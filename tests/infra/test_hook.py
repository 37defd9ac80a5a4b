"""deploymentHook: the CloudFormation Lambda hook in the template (targets, failure mode, roles),
its function passing the rules it runs, and nothing at all when the key is off."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file

from app import build_app
from infra.hook import HANDLER, hook_environment
from infra.rule_construct import DLQ_ACTIONS, KMS_ACTIONS, LOG_ACTIONS, VPC_ACTIONS, XRAY_ACTIONS
from infra.settings import SettingsError, load_settings
from rules.adapters.cloudformation import functions_from_template
from rules.hook import MODE_VARIABLE, PARAMETERS_VARIABLE, RULES_VARIABLE, handle
from rules.model import Compliance
from rules.parameters import NO_PARAMETERS
from rules.permissions import EC2_DESCRIBE_SUBNETS, KMS_DESCRIBE_KEY
from rules.policy import unresolved_sources
from rules.registry import DEFAULT_RULES
from tests.infra.conftest import FULL_OVERRIDES, SUBNETS, Synth, synthesize
from tests.infra.helpers import logical_id
from tests.infra.test_checks import CFN_LINT_IGNORED, CFN_LINT_REGIONS, EXPECTED_ACKNOWLEDGMENTS
from tests.infra.test_stacksets import STACKSETS, context, of_type, synthesized
from tests.test_hook import FakeEc2, FakeKms, FakeLambda

HOOK = "AWS::CloudFormation::LambdaHook"
HOOK_SERVICE = "hooks.cloudformation.amazonaws.com"
EVENTS = Path(__file__).resolve().parents[1] / "events"
# AWS::CloudFormation::LambdaHook's Alias (its resource schema).
ALIAS = re.compile(r"(?!(?i:aws))[A-Za-z0-9]{2,64}::[A-Za-z0-9]{2,64}::[A-Za-z0-9]{2,64}")
ACCOUNT = "111122223333"
STACK_IDS = (
    f"arn:aws:cloudformation:eu-west-1:{ACCOUNT}:stack/LambdaGuardrails/"
    "5b3f1c60-2f1a-11ef-9a5e-0a1b2c3d4e5f",
    f"arn:aws:cloudformation:eu-west-1:{ACCOUNT}:stack/LambdaGuardrails/"
    "0c0ffee0-aaaa-4bbb-8ccc-0123456789ab",
)
TARGETS = {
    (name, action, "PRE_PROVISION")
    for name in ("AWS::Lambda::Function", "AWS::Lambda::Permission", "AWS::Lambda::Url")
    for action in ("CREATE", "UPDATE")
}


@pytest.fixture(scope="module")
def fail_synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    """The defaults (no VPC) with the hook in fail mode."""
    yield synthesize(tmp_path_factory.mktemp("cdk-hook-fail"), {"deploymentHook": "fail"})


@pytest.fixture(scope="module")
def warn_synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    """Every other key away from its default (subnets, parameters, ...), the hook in warn mode."""
    overrides = {**FULL_OVERRIDES, "deploymentHook": "warn"}
    yield synthesize(tmp_path_factory.mktemp("cdk-hook-warn"), overrides)


@pytest.fixture(params=["fail", "warn"])
def synth(request: pytest.FixtureRequest) -> Synth:
    result: Synth = request.getfixturevalue(f"{request.param}_synth")
    return result


def part(synth: Synth, path: str) -> tuple[str, dict[str, Any]]:
    key = logical_id(synth.resources, f"DeploymentHook/{path}")
    return key, synth.resources[key]


def evaluate(value: Any, stack_id: str) -> Any:
    """The few intrinsic functions the hook's alias and ARNs use, as CloudFormation resolves
    them for ``stack_id`` (account 111122223333, eu-west-1)."""
    refs = {
        "AWS::StackId": stack_id,
        "AWS::AccountId": ACCOUNT,
        "AWS::Region": "eu-west-1",
        "AWS::Partition": "aws",
    }
    if isinstance(value, list):
        return [evaluate(item, stack_id) for item in value]
    if not isinstance(value, dict):
        return value
    ((function, argument),) = value.items()
    if function == "Ref":
        return refs[argument]
    if function == "Fn::Join":
        separator, items = argument
        return separator.join(evaluate(items, stack_id))
    if function == "Fn::Split":
        separator, source = argument
        return evaluate(source, stack_id).split(separator)
    if function == "Fn::Select":
        index, items = argument
        return evaluate(items, stack_id)[index]
    raise AssertionError(f"unexpected {function}")


def test_off_creates_nothing(default_synth: Synth) -> None:
    assert load_settings({}.get).deployment_hook == "off"
    assert default_synth.of_type(HOOK) == {}
    handlers = {
        f["Properties"]["Handler"] for f in default_synth.of_type("AWS::Lambda::Function").values()
    }
    assert HANDLER not in handlers
    assert not [key for key in default_synth.resources if "DeploymentHook" in key], (
        "a hook resource without deploymentHook"
    )
    assert HOOK_SERVICE not in json.dumps(default_synth.resources)


def test_the_hook_gates_lambda_resources_before_provisioning(synth: Synth) -> None:
    (hook,) = synth.of_type(HOOK).values()
    properties = hook["Properties"]
    assert properties["TargetOperations"] == ["RESOURCE", "CLOUD_CONTROL"]
    targets = {
        (t["TargetName"], t["Action"], t["InvocationPoint"])
        for t in properties["TargetFilters"]["Targets"]
    }
    assert targets == TARGETS
    assert len(properties["TargetFilters"]["Targets"]) == len(TARGETS)
    assert properties["HookStatus"] == "ENABLED"
    function_key, _ = part(synth, "Function/Resource")
    assert properties["LambdaFunction"] == {"Fn::GetAtt": [function_key, "Arn"]}
    role_key, _ = part(synth, "ExecutionRole/Resource")
    assert properties["ExecutionRole"] == {"Fn::GetAtt": [role_key, "Arn"]}


def test_failure_mode_follows_the_context(fail_synth: Synth, warn_synth: Synth) -> None:
    for synth, mode in ((fail_synth, "FAIL"), (warn_synth, "WARN")):
        (hook,) = synth.of_type(HOOK).values()
        assert hook["Properties"]["FailureMode"] == mode


def test_the_alias_is_valid_and_unique_per_stack(fail_synth: Synth) -> None:
    (hook,) = fail_synth.of_type(HOOK).values()
    aliases = {evaluate(hook["Properties"]["Alias"], stack_id) for stack_id in STACK_IDS}
    assert len(aliases) == len(STACK_IDS)
    for alias in aliases:
        assert ALIAS.fullmatch(alias), alias
    assert evaluate(hook["Properties"]["Alias"], STACK_IDS[0]) == (
        "LambdaGuardrails::DeploymentHook::Stack5b3f1c602f1a11ef9a5e0a1b2c3d4e5f"
    )


def documented_trust(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (EVENTS / f"hook_execution_role_trust_{name}.json").read_text()
    )
    (statement,) = loaded["Statement"]
    return statement  # type: ignore[no-any-return]


def test_the_execution_role_trusts_only_hooks_of_this_account_as_aws_documents(
    synth: Synth,
) -> None:
    _, role = part(synth, "ExecutionRole/Resource")
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Principal"] == {"Service": HOOK_SERVICE}
    # The account as source, the one condition AWS documents for this principal that fits a
    # Lambda hook: an undocumented aws:SourceArn form would block every Lambda deployment.
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }
    lambda_hook = documented_trust("lambda_hook")
    registered = documented_trust("registered_hook")
    assert HOOK_SERVICE in lambda_hook["Principal"]["Service"]
    assert "Condition" not in lambda_hook
    assert registered["Condition"]["StringEquals"].keys() == {"aws:SourceAccount"}
    assert "Policies" not in role["Properties"]


def test_the_execution_role_may_only_invoke_the_hook_function(synth: Synth) -> None:
    _, role = part(synth, "ExecutionRole/Resource")
    (policy_ref,) = role["Properties"]["ManagedPolicyArns"]
    policy = synth.resources[policy_ref["Ref"]]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    function_key, _ = part(synth, "Function/Resource")
    assert statement == {
        "Action": "lambda:InvokeFunction",
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [function_key, "Arn"]},
    }
    # Nothing else in the template grants on the hook's roles or lets anyone else invoke it.
    permissions = synth.of_type("AWS::Lambda::Permission").values()
    assert not [
        p
        for p in permissions
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [function_key, "Arn"]}
    ]


def rule_function(synth: Synth) -> dict[str, Any]:
    return next(
        f
        for f in synth.of_type("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "rules.handler.lambda_handler"
    )


def test_the_hook_function_shares_the_rule_functions_code_and_reads_only_keys_and_subnets(
    synth: Synth, request: pytest.FixtureRequest
) -> None:
    _, function = part(synth, "Function/Resource")
    properties = function["Properties"]
    reference = rule_function(synth)
    assert properties["Handler"] == HANDLER
    for key in ("Code", "Layers", "Runtime", "Architectures", "KmsKeyArn", "DeadLetterConfig"):
        assert properties[key] == reference["Properties"][key], key
    assert function["Metadata"]["aws:asset:path"] == reference["Metadata"]["aws:asset:path"]
    assert (
        properties["ReservedConcurrentExecutions"]
        == (reference["Properties"]["ReservedConcurrentExecutions"])
    )
    assert properties["Timeout"] < 30  # CloudFormation waits 30 s for the answer
    _, role = part(synth, "Role/Resource")
    (policy_ref,) = role["Properties"]["ManagedPolicyArns"]
    statements = synth.resources[policy_ref["Ref"]]["Properties"]["PolicyDocument"]["Statement"]
    actions = {
        a
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    in_vpc = request.node.callspec.params["synth"] == "warn"
    expected = {
        *LOG_ACTIONS,
        *XRAY_ACTIONS,
        *DLQ_ACTIONS,
        *KMS_ACTIONS,
        *KMS_DESCRIBE_KEY.actions,
        *EC2_DESCRIBE_SUBNETS.actions,
    }
    assert actions == (expected | set(VPC_ACTIONS) if in_vpc else expected)
    assert ("VpcConfig" in properties) is in_vpc
    # Its reads: the subnets' zones (EC2 Describe* has no resource-level permission), and
    # DescribeKey (who manages a function's key) on this account's keys only.
    assert {s["Resource"] for s in statements if "ec2:DescribeSubnets" in s["Action"]} == {"*"}
    (describe,) = [s for s in statements if s["Action"] == "kms:DescribeKey"]
    assert describe["Resource"] == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":kms:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":key/*",
            ],
        ]
    }


def test_rule_ids_and_parameters_reach_the_hook_function(
    fail_synth: Synth, warn_synth: Synth
) -> None:
    _, function = part(fail_synth, "Function/Resource")
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables[RULES_VARIABLE] == ",".join(rule.id for rule in DEFAULT_RULES)
    assert json.loads(variables[PARAMETERS_VARIABLE]) == {}
    assert variables[MODE_VARIABLE] == "fail"
    _, function = part(warn_synth, "Function/Resource")
    variables = function["Properties"]["Environment"]["Variables"]
    assert "lambda-dlq-check" not in variables[RULES_VARIABLE].split(",")  # disabledRules
    assert json.loads(variables[PARAMETERS_VARIABLE]) == {
        "lambda-concurrency-check": {"ConcurrencyLimitLow": "1", "ConcurrencyLimitHigh": "10"},
        "lambda-inside-vpc": {"subnetIds": ",".join(SUBNETS)},
    }
    assert variables[MODE_VARIABLE] == "warn"


def test_the_synthesized_environment_drives_the_hook(warn_synth: Synth) -> None:
    """The function's variables as synthesized, given to the handler: the context's rules and
    parameters decide its answers."""
    _, function = part(warn_synth, "Function/Resource")
    env = dict(function["Properties"]["Environment"]["Variables"])
    event = json.loads((EVENTS / "hook_function_no_dlq.json").read_text())
    # The DLQ rule is disabled in this configuration: the function without one passes.
    answered = handle(
        event, env=env, invoked_arn=None, kms=FakeKms(), ec2=FakeEc2(), lambda_=FakeLambda()
    )
    assert answered["hookStatus"] == "SUCCESS"
    properties = event["requestData"]["targetModel"]["resourceProperties"]
    properties["ReservedConcurrentExecutions"] = "50"
    result = handle(
        event, env=env, invoked_arn=None, kms=FakeKms(), ec2=FakeEc2(), lambda_=FakeLambda()
    )
    assert (result["hookStatus"], result["errorCode"]) == ("FAILED", "NonCompliant")
    assert "above ConcurrencyLimitHigh 10" in result["message"]
    assert "deploymentHook=warn" in result["message"]


def test_the_hook_function_passes_the_rules(fail_synth: Synth, warn_synth: Synth) -> None:
    for synth, outside_vpc in ((fail_synth, True), (warn_synth, False)):
        template = json.loads(next(synth.outdir.glob("*.template.json")).read_text())
        key, _ = part(synth, "Function/Resource")
        function = functions_from_template(template)[key]
        for rule in DEFAULT_RULES:
            if rule.id == "lambda-vpc-multi-az" and not outside_vpc:
                # Subnets given by id: their zones are EC2's to tell, and the deployed rule
                # asks (tests/infra/test_pack_dogfood.py acknowledges the synth-time unknown).
                zones = function.subnet_zones or {}
                assert zones and all(unresolved_sources(zone) for zone in zones.values())
                continue
            verdict = rule.check(function, NO_PARAMETERS)
            expected = {
                "lambda-inside-vpc": Compliance.NON_COMPLIANT,
                "lambda-vpc-multi-az": Compliance.NOT_APPLICABLE,
            }.get(rule.id, Compliance.COMPLIANT)
            if not outside_vpc:
                expected = Compliance.COMPLIANT
            if rule.id == "lambda-unique-execution-role":
                # A template is not the account: the sweep compares roles.
                expected = Compliance.NOT_APPLICABLE
            assert verdict.compliance is expected, (rule.id, verdict.annotation)


@pytest.mark.parametrize(("name", "expected"), [("fail", "default"), ("warn", "full")])
def test_cdk_nag_passes_with_no_new_acknowledgment(
    name: str, expected: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(f"{name}_synth")
    reports = {r["pluginName"]: r for r in synth.report["pluginReports"]}
    for pack in ("AwsSolutions", "NIST.800.53.R5"):
        assert reports[pack]["conclusion"] == "success"
        assert reports[pack].get("violations", []) == []
    acknowledged = {
        violation["acknowledgedId"]
        for report in reports.values()
        for violation in report.get("suppressedViolations", [])
        if not violation["acknowledgedId"].startswith("Annotation::")
    }
    assert acknowledged == EXPECTED_ACKNOWLEDGMENTS[expected]


def test_cfn_lint_knows_the_hook_and_is_clean(synth: Synth) -> None:
    template = next(synth.outdir.glob("*.template.json"))
    config = ManualArgs(ignore_checks=CFN_LINT_IGNORED, regions=CFN_LINT_REGIONS)
    assert [str(match) for match in lint_file(template, config=config)] == []
    # cfn-lint validates the LambdaHook's properties (its schema is bundled): a wrong value fails.
    broken = json.loads(template.read_text())
    for resource in broken["Resources"].values():
        if resource["Type"] == HOOK:
            resource["Properties"]["FailureMode"] = "IGNORE"
    path = template.with_name("broken.json")
    path.write_text(json.dumps(broken))
    assert [m for m in lint_file(path, config=config) if "IGNORE" in str(m)]


def test_stacksets_put_the_hook_in_every_member_stack(tmp_path: Path) -> None:
    overrides = {**STACKSETS, "deploymentHook": "fail"}
    deployment = synthesized(build_app(context(overrides), str(tmp_path)), tmp_path)
    (hook,) = of_type(deployment.embedded_member(), HOOK)
    assert hook["Properties"]["FailureMode"] == "FAIL"
    reports = {r["pluginName"]: r for r in deployment.report["pluginReports"]}
    assert all(r["conclusion"] == "success" for r in reports.values())


@pytest.mark.parametrize(
    ("context_", "problem"),
    [
        ({"deploymentHook": "block"}, "deploymentHook"),
        (
            {
                "deploymentHook": "warn",
                "deploymentMode": "organization",
                "organizationId": "o-a1b2c3d4e5",
                "targetOuIds": "ou-ab12-cdef3456",
            },
            "organization mode",
        ),
    ],
)
def test_bad_hook_settings_fail_the_synth(context_: dict[str, str], problem: str) -> None:
    with pytest.raises(SettingsError, match=problem):
        load_settings(context_.get)


def test_modes_are_read_case_insensitively() -> None:
    assert load_settings({"deploymentHook": "WARN"}.get).deployment_hook == "warn"
    assert load_settings({"deploymentHook": "fail"}.get).deployment_hook == "fail"


def test_parameters_beyond_lambdas_environment_limit_fail_the_synth() -> None:
    ids = [rule.id for rule in DEFAULT_RULES]
    huge = {rule_id: {"dlqArns": "x" * 1000} for rule_id in ids}
    with pytest.raises(ValueError, match="4096"):
        hook_environment(ids, huge, "fail")


def test_with_every_rule_the_hook_reads_code_signing_configurations_and_nag_passes(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    every = synthesize(
        tmp_path_factory.mktemp("cdk-hook-every-rule"),
        {"deploymentHook": "fail", "enabledRules": "all"},
    )
    _, role = part(every, "Role/Resource")
    (policy_ref,) = role["Properties"]["ManagedPolicyArns"]
    statements = every.resources[policy_ref["Ref"]]["Properties"]["PolicyDocument"]["Statement"]
    (signing,) = [s for s in statements if s["Action"] == "lambda:GetCodeSigningConfig"]
    assert signing["Resource"]["Fn::Join"][1][-1] == ":code-signing-config:*"
    reports = {r["pluginName"]: r for r in every.report["pluginReports"]}
    for pack in ("AwsSolutions", "NIST.800.53.R5"):
        assert reports[pack]["conclusion"] == "success"
    reasons = [
        v["reason"]
        for v in reports["AwsSolutions"].get("suppressedViolations", [])
        if "code-signing-config" in v["acknowledgedId"] and "DeploymentHook" in json.dumps(v)
    ]
    assert reasons and all("signing profiles" in reason for reason in reasons)
