"""``rules.permissions`` is exact: every call the handler makes, along every path, is granted,
and every granted action is called on some path (so the CDK roles derived from it carry
nothing unused). Calls are recorded with a botocore hook on the session."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from rules.aws.clients import Clients
from rules.checks.dlq import ACCEPT_ON_FAILURE_DESTINATION
from rules.parameters import CHECK_VERSIONS
from rules.permissions import actions_for
from rules.registry import RULES
from rules.rule import Rule
from tests.aws.fixtures import (
    MEMBER,
    REGION,
    CallLog,
    change_event,
    config_item,
    create_function,
    oversized_event,
    run,
    scheduled_event,
    setup_clients,
)
from tests.moto_gaps import answer_moto_gaps
from tests.test_handler import HISTORY_REQUEST, _history_shape
from tests.test_handler_sweep import _recorded, _stub_config_sweep

TESTMODE_PUT = {"Evaluations": ANY, "ResultToken": "TESTMODE", "TestMode": True}


def _fresh(clients: Clients) -> Clients:
    """A new container's clients on the same recorded session (no stubs left behind)."""
    return Clients(clients.session, clients.options)


def _change(clients: Clients, rule: Rule) -> None:
    run(change_event(config_item("lambda_ci_noncompliant.json")), _fresh(clients), rule.id)


def _change_with_own_account_key(clients: Clients, rule: Rule) -> None:
    """The CMK rule asks kms:DescribeKey who manages a key of the function's own account."""
    import boto3

    key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    item = config_item("lambda_ci_compliant.json", kmskeyArn=key)
    run(change_event(item), _fresh(clients), rule.id)


def _oversized(clients: Clients, rule: Rule) -> None:
    aws = _fresh(clients)
    item = _history_shape(config_item("lambda_ci_noncompliant.json"))
    with Stubber(aws.client("config")) as stub:
        stub.add_response("get_resource_config_history", {"configurationItems": [item]})
        stub.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        run(oversized_event(), aws, rule.id)


def _oversized_history_gone(clients: Clients, rule: Rule) -> None:
    aws = _fresh(clients)
    with Stubber(aws.client("config")) as stub:
        stub.add_client_error(
            "get_resource_config_history",
            service_error_code="ResourceNotDiscoveredException",
            expected_params=HISTORY_REQUEST,
        )
        stub.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        run(oversized_event(), aws, rule.id)


def _sweep_config(clients: Clients, rule: Rule) -> None:
    aws = _fresh(clients)
    names = ["orders-api"]
    items = {"orders-api": _recorded("orders-api", "lambda_ci_noncompliant.json")}
    with Stubber(aws.client("config")) as stub:
        _stub_config_sweep(stub, names, ["orders-api", "deleted-fn"], items)
        stub.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        run(scheduled_event(), aws, rule.id)


def _sweep_lambda(clients: Clients, rule: Rule) -> None:
    aws = _fresh(clients)
    with Stubber(aws.client("config")) as stub:
        stub.add_response("describe_configuration_recorders", {"ConfigurationRecorders": []})
        stub.add_response("get_compliance_details_by_config_rule", {"EvaluationResults": []})
        stub.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        run(scheduled_event(), aws, rule.id)


def _sweep_versions(clients: Clients, rule: Rule) -> None:
    """checkVersions: the periodic evaluation also reads each published version's policy."""
    if CHECK_VERSIONS not in rule.parameters:
        return
    aws = _fresh(clients)
    with Stubber(aws.client("config")) as stub:
        stub.add_response("describe_configuration_recorders", {"ConfigurationRecorders": []})
        stub.add_response("get_compliance_details_by_config_rule", {"EvaluationResults": []})
        stub.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        run(scheduled_event(parameters={CHECK_VERSIONS.name: "true"}), aws, rule.id)


def _change_accepting_on_failure_destination(clients: Clients, rule: Rule) -> None:
    """acceptOnFailureDestination: a function without a DLQ has its asynchronous invocation
    configuration read (GetFunctionEventInvokeConfig)."""
    if ACCEPT_ON_FAILURE_DESTINATION not in rule.parameters:
        return
    item = config_item("lambda_ci_compliant.json", deadLetterConfig=None)
    event = change_event(item, parameters={ACCEPT_ON_FAILURE_DESTINATION.name: "true"})
    run(event, _fresh(clients), rule.id)


def _sweep_stopped_recorder(clients: Clients, rule: Rule) -> None:
    """A recorder that records Lambda but is stopped: status read, then the Lambda API."""
    aws = _fresh(clients)
    recorders = {
        "ConfigurationRecorders": [{"name": "default", "recordingGroup": {"allSupported": True}}]
    }
    stopped = {"ConfigurationRecordersStatus": [{"name": "default", "recording": False}]}
    with Stubber(aws.client("config")) as stub:
        stub.add_response("describe_configuration_recorders", recorders)
        stub.add_response("describe_configuration_recorder_status", stopped)
        stub.add_response("get_compliance_details_by_config_rule", {"EvaluationResults": []})
        stub.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        run(scheduled_event(), aws, rule.id)
        stub.assert_no_pending_responses()


def _organization(clients: Clients, rule: Rule) -> None:
    if not rule.change_triggered:
        _organization_sweep(clients, rule)
        return
    item: dict[str, Any] = copy.deepcopy(config_item("lambda_ci_noncompliant.json"))
    arn = f"arn:aws:lambda:{REGION}:{MEMBER}:function:orders-api"
    item.update(awsAccountId=MEMBER, ARN=arn)
    item["configuration"]["functionArn"] = arn
    event = change_event(item, parameters={"ExecutionRoleName": "GuardrailsEvaluation"})
    run(event, _fresh(clients), rule.id)


def _exempted(rule: Rule) -> dict[str, str]:
    return {"guardrails:exempt": f"rules={rule.id} reason=permissions test"}


def _stub_suppression(stub: Stubber) -> None:
    stub.add_response("batch_import_findings", {"SuccessCount": 1, "FailedCount": 0})
    stub.add_response("get_findings", {"Findings": []})
    stub.add_response("batch_update_findings", {"ProcessedFindings": [], "UnprocessedFindings": []})


def _exempted_change(clients: Clients, rule: Rule) -> None:
    """An exempted function: its finding is suppressed with BatchUpdateFindings (moto 5.2.5
    lacks it, so the Security Hub client is stubbed). A periodic-only rule does not evaluate
    change events: its exempted function is met by the sweep instead."""
    if not rule.change_triggered:
        _exempted_sweep(clients, rule)
        return
    aws = _fresh(clients)
    item = config_item("lambda_ci_noncompliant.json")
    item["tags"] = _exempted(rule)
    with Stubber(aws.client("securityhub")) as stub:
        _stub_suppression(stub)
        run(change_event(item), aws, rule.id)
        stub.assert_no_pending_responses()


def _exempted_sweep(clients: Clients, rule: Rule) -> None:
    """The sweep meets an exempted function (its recorded Tags carry the exemption): the
    finding is suppressed as on a change event."""
    aws = _fresh(clients)
    item = _recorded("orders-api", "lambda_ci_noncompliant.json")
    item["supplementaryConfiguration"]["Tags"] = json.dumps(_exempted(rule))
    with Stubber(aws.client("config")) as config, Stubber(aws.client("securityhub")) as hub:
        _stub_config_sweep(config, ["orders-api"], [], {"orders-api": item})
        config.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        _stub_suppression(hub)
        run(scheduled_event(), aws, rule.id)
        config.assert_no_pending_responses()
        hub.assert_no_pending_responses()


def _organization_sweep(clients: Clients, rule: Rule) -> None:
    """A periodic-only rule in organization mode: the sweep of a member account."""
    aws = _fresh(clients)
    # moto lacks GetComplianceDetailsByConfigRule; the member account's clients are assumed.
    no_results = {"GetComplianceDetailsByConfigRule": {"EvaluationResults": []}}
    answer_moto_gaps(aws.session, no_results, service="config")
    role = {"ExecutionRoleName": "GuardrailsEvaluation"}
    run(scheduled_event(parameters=role, account=MEMBER), aws, rule.id)


SCENARIOS = (
    _change,
    _exempted_change,
    _change_with_own_account_key,
    _oversized,
    _oversized_history_gone,
    _sweep_config,
    _sweep_lambda,
    _sweep_versions,
    _change_accepting_on_failure_destination,
    _sweep_stopped_recorder,
    _organization,
)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_the_handler_calls_exactly_what_the_rule_is_granted(
    clients: Clients, calls: CallLog, rule: Rule
) -> None:
    # moto lacks the function URL and code signing APIs: canned answers (tests/moto_gaps.py).
    answer_moto_gaps(clients.session)
    create_function("orders-api", environment={"STAGE": "prod"})
    create_function("orders-api", account=MEMBER, environment={"STAGE": "prod"})
    # A published version behind an alias, so periodic evaluations read qualified policies.
    setup = setup_clients()["lambda"]
    version = setup.publish_version(FunctionName="orders-api")["Version"]
    setup.create_alias(FunctionName="orders-api", Name="prod", FunctionVersion=version)
    for scenario in SCENARIOS:
        scenario(clients, rule)
    called = calls.actions()
    granted = actions_for(rule, organization=True)
    assert called - granted == set(), "called but not granted"
    assert granted - called == set(), "granted but never called"


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_only_a_rule_that_may_ask_who_manages_a_key_may_describe_keys(rule: Rule) -> None:
    granted = "kms:DescribeKey" in actions_for(rule, organization=True)
    assert granted is (rule.id == "lambda-env-vars-cmk-encrypted")
    assert not any(
        action.startswith("kms:") and action != "kms:DescribeKey"
        for action in actions_for(rule, organization=True)
    )


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_organization_mode_only_adds_assume_role(rule: Rule) -> None:
    assert actions_for(rule, organization=True) - actions_for(rule) == {"sts:AssumeRole"}
