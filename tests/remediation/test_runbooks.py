"""The runbook registry: one runbook per core rule, each script embeddable as an inline
aws:executeScript ``Script`` (runs as a fresh module that imports only what SSM's Python runtime
and the attached rules package give), and grants that are exactly what each script calls."""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from collections.abc import Callable
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import boto3
import pytest

from rules.aws.clients import Clients
from rules.permissions import Grant
from rules.registry import CORE_RULES
from rules.remediation import (
    concurrency,
    dead_letter_queue,
    env_vars_key,
    public_access,
    vpc,
)
from rules.remediation.common import run
from rules.remediation.runbooks import (
    COMMON_PARAMETERS,
    DEAD_LETTER_QUEUE,
    ENVIRONMENT_KEY,
    HANDLER,
    OUTPUTS,
    QUEUE_KEY_USE,
    RUNBOOKS,
    RUNBOOKS_BY_RULE,
    ParameterType,
    Runbook,
    runbook_for,
)
from tests.aws.fixtures import ACCOUNT, REGION, CallLog, create_function, setup_clients
from tests.remediation.conftest import (
    add_permission,
    dlq_events,
    events,
    render,
    simulated,
    unreserved,
)

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDERS = ("{partition}", "{region}", "{account}", "{queue_prefix}")


def test_every_core_rule_has_exactly_one_runbook() -> None:
    # Issue 10's scope; issue 11's rules have none yet (docs/rules.md says so per rule).
    assert sorted(RUNBOOKS_BY_RULE) == sorted(rule.id for rule in CORE_RULES)
    assert len(RUNBOOKS) == len(CORE_RULES)
    with pytest.raises(KeyError, match="no runbook for rule"):
        runbook_for("nope")


@pytest.mark.parametrize("runbook", RUNBOOKS, ids=lambda runbook: runbook.rule_id)
def test_the_script_is_the_module_byte_for_byte(runbook: Runbook) -> None:
    path = ROOT / (runbook.module.replace(".", "/") + ".py")
    assert runbook.source_path == path
    assert runbook.script().encode("utf-8") == path.read_bytes()


@pytest.mark.parametrize("runbook", RUNBOOKS, ids=lambda runbook: runbook.rule_id)
def test_the_inline_script_runs_as_a_fresh_module_and_has_the_handler(runbook: Runbook) -> None:
    """SSM runs the inline Script as its own module: it must define the handler by itself."""
    namespace: dict[str, object] = {"__name__": "ssm_inline_script"}
    exec(compile(runbook.script(), "<Script>", "exec"), namespace)
    handler = namespace[HANDLER]
    assert callable(handler)
    assert list(inspect.signature(handler).parameters) == ["events", "context"]
    module = importlib.import_module(runbook.module)
    assert module.SCRIPT.rule_id == runbook.rule_id


def test_the_scripts_import_no_powertools() -> None:
    """SSM's Python runtime has boto3, not Powertools: the scripts must not pull it in."""
    modules = [runbook.module for runbook in RUNBOOKS]
    code = (
        "import sys\n"
        + "".join(f"import {module}\n" for module in modules)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('aws_lambda_powertools', 'aws_xray_sdk', 'aws_cdk', 'moto'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


@pytest.mark.parametrize("runbook", RUNBOOKS, ids=lambda runbook: runbook.rule_id)
def test_parameters_are_well_formed(runbook: Runbook) -> None:
    names = [parameter.name for parameter in runbook.all_parameters]
    assert len(names) == len(set(names))
    assert runbook.all_parameters[: len(COMMON_PARAMETERS)] == COMMON_PARAMETERS
    for parameter in runbook.all_parameters:
        if parameter.type is ParameterType.BOOLEAN and not parameter.required:
            assert isinstance(parameter.default, bool)
    dry_run = next(p for p in runbook.all_parameters if p.name == "DryRun")
    assert dry_run.default is True


def test_only_the_vpc_runbook_is_manual_only() -> None:
    manual = {runbook.rule_id for runbook in RUNBOOKS if not runbook.automatic_allowed}
    assert manual == {"lambda-inside-vpc"}


def test_outputs_are_what_the_scripts_return(clients: Clients) -> None:
    create_function("orders-api")
    given = events(
        "orders-api", DryRun=True, SubnetIds="subnet-0a1b2c3d", SecurityGroupIds="sg-0a1b2c3d"
    )
    result = run(vpc.SCRIPT, given, clients)
    assert sorted(result) == sorted(output.name for output in OUTPUTS)
    assert all(output.selector == f"$.Payload.{output.name}" for output in OUTPUTS)


def test_script_handler_builds_its_own_clients(mocked: None) -> None:
    create_function("orders-api")
    network = {"SubnetIds": ["subnet-0a1b2c3d"], "SecurityGroupIds": ["sg-0a1b2c3d"]}
    result = vpc.script_handler({"FunctionName": "orders-api"} | network, None)
    assert result["status"] == "DRY_RUN"
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-api"
    by_arn = vpc.script_handler({"FunctionName": arn, "DryRun": True} | network, None)
    assert by_arn["function"] == arn


@pytest.mark.parametrize("runbook", RUNBOOKS, ids=lambda runbook: runbook.rule_id)
def test_grant_resources_use_only_the_known_placeholders(runbook: Runbook) -> None:
    for grant in runbook.grants:
        rest = grant.resource
        for placeholder in PLACEHOLDERS:
            rest = rest.replace(placeholder, "")
        assert "{" not in rest, grant
        for keys in grant.conditions.values():
            for value in keys.values():
                for text in [value] if isinstance(value, str) else value:
                    left = text
                    for placeholder in PLACEHOLDERS:
                        left = left.replace(placeholder, "")
                    assert "{" not in left, grant
        assert grant.why
        assert grant.resource == "*" or grant.resource.startswith("arn:{partition}:")


# --- exact permissions: what each script calls, along every path, is what it is granted -----


def _public_access(clients: Clients) -> None:
    create_function("orders-api")
    lambda_client = setup_clients()["lambda"]
    lambda_client.create_alias(FunctionName="orders-api", Name="live", FunctionVersion="$LATEST")
    add_permission("orders-api", "alias-public", Qualifier="live")
    lambda_client.create_function_url_config(FunctionName="orders-api", AuthType="NONE")
    add_permission(
        "orders-api", "url", Action="lambda:InvokeFunctionUrl", FunctionUrlAuthType="NONE"
    )
    run(public_access.SCRIPT, events("orders-api", FixFunctionUrl=True), clients)


def _dead_letter_queue(clients: Clients) -> None:
    """Every path: a given target, a created queue with aws/sqs, and with a customer-managed
    key the simulation denies and a grant allows (every check of the key is called)."""
    simulated(clients, "implicitDeny", QUEUE_KEY_USE)  # before the IAM client exists
    create_function("orders-api")
    given = f"arn:aws:sqs:{REGION}:{ACCOUNT}:team-dlq"
    run(dead_letter_queue.SCRIPT, events("orders-api", DeadLetterTargetArn=given), clients)
    create_function("billing")
    run(dead_letter_queue.SCRIPT, dlq_events("billing"), clients)
    create_function("audit")
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key()["KeyMetadata"]["Arn"]
    kms.create_grant(
        KeyId=key,
        GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:role/fn-role",
        Operations=["GenerateDataKey", "Decrypt"],
    )
    run(dead_letter_queue.SCRIPT, dlq_events("audit", QueueKmsKeyId=key), clients)


def _concurrency(clients: Clients) -> None:
    create_function("orders-api")
    unreserved(clients, 1000)
    run(concurrency.SCRIPT, events("orders-api"), clients)


def _environment_key(clients: Clients) -> None:
    """The simulation denies and a grant allows: every check of the key is called."""
    create_function("orders-api", environment={"STAGE": "prod"})
    key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    boto3.client("kms", region_name=REGION).create_grant(
        KeyId=key, GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:role/fn-role", Operations=["Decrypt"]
    )
    simulated(clients, "implicitDeny")
    run(env_vars_key.SCRIPT, events("orders-api", KmsKeyArn=key), clients)


def _vpc(clients: Clients) -> None:
    create_function("orders-api")
    run(
        vpc.SCRIPT,
        events("orders-api", SubnetIds=["subnet-0a1b2c3d"], SecurityGroupIds=["sg-0a1b2c3d"]),
        clients,
    )


SCENARIOS: dict[str, Callable[[Clients], None]] = {
    "lambda-function-public-access-prohibited": _public_access,
    "lambda-dlq-check": _dead_letter_queue,
    "lambda-concurrency-check": _concurrency,
    "lambda-env-vars-cmk-encrypted": _environment_key,
    "lambda-inside-vpc": _vpc,
}


def _touched(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """The ARNs a recorded call acts on (what IAM authorizes it against)."""
    if service == "lambda":
        if operation == "GetAccountSettings":
            return ["*"]
        name = str(params.get("FunctionName") or params.get("Resource"))
        if name.startswith("arn:"):
            return [name]
        return [f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"]
    if service == "sqs":
        name = str(params.get("QueueName") or str(params["QueueUrl"]).rsplit("/", 1)[1])
        return [f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"]
    if service == "kms":
        return [str(params["KeyId"])]
    if service == "iam":
        if "RoleName" in params:
            return [f"arn:aws:iam::{ACCOUNT}:role/{params['RoleName']}"]
        return [str(params["PolicySourceArn"])]
    raise AssertionError(f"no resource known for {service}:{operation}")


# Condition keys of a directly called action -> the request value IAM compares.
CONDITION_VALUES: dict[str, Callable[[dict[str, Any]], str]] = {
    "iam:PolicyARN": lambda params: str(params["PolicyArn"]),
}


def _conditions_hold(grant: Grant, params: dict[str, Any]) -> bool:
    for operator, keys in grant.conditions.items():
        assert operator == "ArnEquals", operator  # the only operator on a called action
        for key, value in keys.items():
            assert isinstance(value, str)
            if CONDITION_VALUES[key](params) != render(value):
                return False
    return True


@pytest.mark.parametrize("runbook", RUNBOOKS, ids=lambda runbook: runbook.rule_id)
def test_each_script_calls_exactly_what_its_runbook_grants(
    clients: Clients, calls: CallLog, runbook: Runbook
) -> None:
    SCENARIOS[runbook.rule_id](clients)
    called = calls.actions()
    assert called == set(runbook.actions - runbook.indirect_actions), json.dumps(
        sorted(called), indent=1
    )
    assert runbook.indirect_actions <= runbook.actions
    # Each call's resources fall under a grant of its action whose conditions the call meets.
    for service, operation, params in calls.calls:
        action = f"{service}:{operation}"
        grants = [grant for grant in runbook.grants if action in grant.actions]
        for arn in _touched(service, operation, params):
            assert any(
                fnmatchcase(arn, render(grant.resource)) and _conditions_hold(grant, params)
                for grant in grants
            ), f"{action} on {arn} ({params}) is not granted"


def test_indirect_kms_actions_are_granted_only_through_lambda() -> None:
    """Lambda creates the function's grant and encrypts with the caller's permissions: the
    automation role may do neither outside Lambda."""
    via = {"kms:ViaService": "lambda.{region}.amazonaws.com"}
    grants = {action: grant for grant in ENVIRONMENT_KEY.grants for action in grant.actions}
    assert grants["kms:CreateGrant"].conditions == {
        "StringEquals": via,
        "Bool": {"kms:GrantIsForAWSResource": "true"},
    }
    assert grants["kms:Encrypt"].conditions == {"StringEquals": via}


def test_no_runbook_may_write_a_role_policy_or_attach_any_policy() -> None:
    """The DLQ runbook's role edit is the stack's one policy: AttachRolePolicy only with
    iam:PolicyARN equal to it; no inline policy writes at all."""
    for runbook in RUNBOOKS:
        assert not runbook.actions & {"iam:PutRolePolicy", "iam:CreatePolicy", "iam:PassRole"}
        for grant in runbook.grants:
            if "iam:AttachRolePolicy" in grant.actions:
                assert grant.actions == ("iam:AttachRolePolicy",)
                assert runbook.function_role_policy is not None
                assert grant.conditions == {
                    "ArnEquals": {"iam:PolicyARN": runbook.function_role_policy.arn}
                }
    (send,) = DEAD_LETTER_QUEUE.function_role_policy.grants  # type: ignore[union-attr]
    assert send.actions == ("sqs:SendMessage",)
    assert render(send.resource) == f"arn:aws:sqs:{REGION}:{ACCOUNT}:guardrails-dlq-*"
