"""Scheduled notifications: the periodic sweep over every function of the account and Region."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from rules.aws.clients import Clients
from rules.aws.errors import IncompleteEvaluationError
from rules.aws.findings import finding_id
from rules.naming import config_rule_name
from tests.aws.fixtures import (
    ACCOUNT,
    REGION,
    CallLog,
    all_findings,
    config_item,
    create_function,
    scheduled_event,
    setup_clients,
)

VPC = "lambda-inside-vpc"
PUBLIC = "lambda-function-public-access-prohibited"
NOTIFIED = datetime(2025, 6, 3, 0, 0, 0, 373000, tzinfo=UTC)
RECORDS_ALL = {
    "ConfigurationRecorders": [
        {
            "name": "default",
            "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config",
            "recordingGroup": {"allSupported": True},
        }
    ]
}
RECORDING = {
    "ConfigurationRecordersStatus": [
        {"name": "default", "recording": True, "lastStatus": "Success"}
    ]
}
TESTMODE_PUT = {"Evaluations": ANY, "ResultToken": "TESTMODE", "TestMode": True}
# The sample scheduled event's rule name is replaced by the rule's own (tests.aws.fixtures.run).
RULE_NAME = config_rule_name(PUBLIC)


def _recorded(name: str, template: str = "lambda_ci_compliant.json") -> dict[str, Any]:
    """A BatchGetResourceConfig base item (configuration values as JSON text) for ``name``."""
    item = config_item(template)
    configuration = copy.deepcopy(item["configuration"])
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    configuration.update(functionName=name, functionArn=arn)
    return {
        "version": "1.3",
        "accountId": ACCOUNT,
        "configurationItemCaptureTime": datetime(2025, 6, 2, tzinfo=UTC),
        "configurationItemStatus": "OK",
        "configurationStateId": "1",
        "arn": arn,
        "resourceType": "AWS::Lambda::Function",
        "resourceId": name,
        "resourceName": name,
        "awsRegion": REGION,
        "configuration": json.dumps(configuration),
        "supplementaryConfiguration": {
            key: value if isinstance(value, str) else json.dumps(value)
            for key, value in item["supplementaryConfiguration"].items()
        },
    }


def _compliance_page(ids: list[str], token: str | None) -> dict[str, Any]:
    page: dict[str, Any] = {
        "EvaluationResults": [
            {
                "EvaluationResultIdentifier": {
                    "EvaluationResultQualifier": {
                        "ConfigRuleName": RULE_NAME,
                        "ResourceType": "AWS::Lambda::Function",
                        "ResourceId": resource_id,
                    }
                },
                "ComplianceType": "COMPLIANT",
            }
            for resource_id in ids
        ]
    }
    if token:
        page["NextToken"] = token
    return page


def _stub_config_sweep(
    stub: Stubber, names: list[str], earlier: list[str], items: dict[str, dict[str, Any]]
) -> None:
    """Config as the sweep reads it (moto gap: moto records no Lambda items and has no
    compliance queries, so the whole Config client is stubbed)."""
    stub.add_response("describe_configuration_recorders", RECORDS_ALL, {})
    stub.add_response("describe_configuration_recorder_status", RECORDING, {})
    pages = [names[i : i + 100] for i in range(0, len(names), 100)]
    for number, page in enumerate(pages):
        listing: dict[str, Any] = {
            "resourceIdentifiers": [
                {"resourceType": "AWS::Lambda::Function", "resourceId": n} for n in page
            ]
        }
        if number + 1 < len(pages):
            listing["nextToken"] = f"list-{number + 1}"
        expected: dict[str, Any] = {"resourceType": "AWS::Lambda::Function", "limit": 100}
        if number:
            expected["nextToken"] = f"list-{number}"
        stub.add_response("list_discovered_resources", listing, expected)
        stub.add_response(
            "batch_get_resource_config",
            {"baseConfigurationItems": [items[n] for n in page]},
            {
                "resourceKeys": [
                    {"resourceType": "AWS::Lambda::Function", "resourceId": n} for n in page
                ]
            },
        )
    earlier_pages = [earlier[i : i + 100] for i in range(0, len(earlier), 100)] or [[]]
    for number, page in enumerate(earlier_pages):
        token = f"c-{number + 1}" if number + 1 < len(earlier_pages) else None
        stub.add_response("get_compliance_details_by_config_rule", _compliance_page(page, token))


def test_a_sweep_of_250_functions_makes_o_n_over_100_calls(
    clients: Clients, calls: CallLog
) -> None:
    names = [f"fn-{i:03d}" for i in range(250)]
    items = {name: _recorded(name, "lambda_ci_noncompliant.json") for name in names}
    deleted = [f"old-{i}" for i in range(5)]
    with Stubber(clients.client("config")) as stub:
        _stub_config_sweep(stub, names, names + deleted, items)
        for _ in range(3):
            stub.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        summary = run_sweep(clients)
        stub.assert_no_pending_responses()

    assert calls.counts() == {
        "config:DescribeConfigurationRecorders": 1,
        "config:DescribeConfigurationRecorderStatus": 1,
        "config:ListDiscoveredResources": 3,
        "config:BatchGetResourceConfig": 3,
        "config:GetComplianceDetailsByConfigRule": 3,
        "config:PutEvaluations": 3,  # 255 evaluations
        "securityhub:BatchImportFindings": 3,
        # The findings suppressed for an exemption, one query; moto ignores its Filters and
        # pages through all 255 findings (Security Hub returns only the suppressed ones).
        "securityhub:GetFindings": 3,
    }
    assert summary["evaluations"] == {"COMPLIANT": 0, "NON_COMPLIANT": 250, "NOT_APPLICABLE": 5}
    evaluations = [e for c in calls.of("config:PutEvaluations") for e in c["Evaluations"]]
    assert {e["OrderingTimestamp"] for e in evaluations} == {NOTIFIED}
    gone = {
        e["ComplianceResourceId"] for e in evaluations if e["ComplianceType"] == "NOT_APPLICABLE"
    }
    assert gone == set(deleted)
    findings = {f["Id"]: f for f in all_findings()}
    assert len(findings) == 255
    old = findings[
        finding_id(config_rule_name(VPC), f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:old-0")
    ]
    assert old["RecordState"] == "ARCHIVED"


def run_sweep(clients: Clients, rule_id: str = VPC, **kwargs: Any) -> dict[str, Any]:
    from tests.aws.fixtures import run

    return run(scheduled_event(), clients, rule_id, **kwargs)


def test_without_a_lambda_recorder_the_sweep_reads_the_lambda_api(
    clients: Clients, calls: CallLog, log_lines: Any
) -> None:
    for name in ("api-a", "api-b", "worker"):
        create_function(name)
    setup_clients()["lambda"].add_permission(
        FunctionName="api-a",
        StatementId="everyone",
        Action="lambda:InvokeFunction",
        Principal="*",
    )
    with Stubber(clients.client("config")) as stub:
        stub.add_response("describe_configuration_recorders", {"ConfigurationRecorders": []})
        stub.add_response(
            "get_compliance_details_by_config_rule",
            _compliance_page(["api-a", "removed-fn"], None),
            {
                "ConfigRuleName": RULE_NAME,
                "ComplianceTypes": ["COMPLIANT", "NON_COMPLIANT"],
                "Limit": 100,
            },
        )
        stub.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        run_sweep(clients, PUBLIC)
        stub.assert_no_pending_responses()

    counts = calls.counts()
    assert counts["lambda:ListFunctions"] == 1
    assert counts["lambda:GetPolicy"] == 3  # the rule reads the policy; no other Lambda reads
    assert "lambda:GetFunctionConcurrency" not in counts
    evaluations = {
        e["ComplianceResourceId"]: e["ComplianceType"]
        for c in calls.of("config:PutEvaluations")
        for e in c["Evaluations"]
    }
    assert evaluations == {
        "api-a": "NON_COMPLIANT",
        "api-b": "COMPLIANT",
        "worker": "COMPLIANT",
        "removed-fn": "NOT_APPLICABLE",
    }
    states = {f["Resources"][0]["Id"].rsplit(":", 1)[1]: f for f in all_findings()}
    assert states["api-a"]["Compliance"]["Status"] == "FAILED"
    assert states["removed-fn"]["RecordState"] == "ARCHIVED"
    lines = log_lines()
    assert all(line["rule_id"] == PUBLIC and line["resource_id"] for line in lines)
    named = {line["resource_id"] for line in lines if line["message"] == "evaluation"}
    assert named == set(evaluations)


def test_an_unreadable_function_gets_no_verdict_the_others_are_published_and_it_fails(
    clients: Clients, calls: CallLog
) -> None:
    names = ["good", "broken"]
    for name in names:  # the rule reads their aliases' policies from Lambda
        create_function(name)
    items = {name: _recorded(name) for name in names}
    items["broken"]["supplementaryConfiguration"]["Policy"] = "{not json"
    with Stubber(clients.client("config")) as stub:
        _stub_config_sweep(stub, names, [], items)
        stub.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        with pytest.raises(IncompleteEvaluationError, match="broken"):
            run_sweep(clients, PUBLIC)
    evaluations = [e for c in calls.of("config:PutEvaluations") for e in c["Evaluations"]]
    assert [(e["ComplianceResourceId"], e["ComplianceType"]) for e in evaluations] == [
        ("good", "COMPLIANT")
    ]
    assert [f["Resources"][0]["Id"].rsplit(":", 1)[1] for f in all_findings()] == ["good"]


def test_an_empty_account_publishes_nothing(clients: Clients, calls: CallLog) -> None:
    with Stubber(clients.client("config")) as stub:
        stub.add_response("describe_configuration_recorders", {"ConfigurationRecorders": []})
        stub.add_response("get_compliance_details_by_config_rule", {"EvaluationResults": []})
        summary = run_sweep(clients)
    assert summary["evaluations"] == {"COMPLIANT": 0, "NON_COMPLIANT": 0, "NOT_APPLICABLE": 0}
    assert "config:PutEvaluations" not in calls.counts()


def test_a_stopped_recorder_makes_the_sweep_read_the_lambda_api_and_log_why(
    clients: Clients, calls: CallLog, log_lines: Any
) -> None:
    create_function("open-api")
    setup_clients()["lambda"].add_permission(
        FunctionName="open-api",
        StatementId="everyone",
        Action="lambda:InvokeFunction",
        Principal="*",
    )
    stopped = {"ConfigurationRecordersStatus": [{"name": "default", "recording": False}]}
    with Stubber(clients.client("config")) as stub:
        stub.add_response("describe_configuration_recorders", RECORDS_ALL, {})
        stub.add_response("describe_configuration_recorder_status", stopped, {})
        stub.add_response("get_compliance_details_by_config_rule", _compliance_page([], None))
        stub.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        summary = run_sweep(clients, PUBLIC)
        stub.assert_no_pending_responses()

    assert summary["evaluations"]["NON_COMPLIANT"] == 1
    counts = calls.counts()
    assert counts["lambda:ListFunctions"] == 1
    assert "config:ListDiscoveredResources" not in counts
    (line,) = [line for line in log_lines() if line["message"] == "inventory read"]
    assert (line["source"], line["source_reason"], line["functions"]) == (
        "lambda",
        "Config recorder 'default' is not recording",
        1,
    )


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        (
            {"recordingFrequency": "DAILY"},
            "Config recorder 'default' records AWS::Lambda::Function only daily "
            "(recordingFrequency DAILY)",
        ),
        (
            {
                "recordingFrequency": "CONTINUOUS",
                "recordingModeOverrides": [
                    {"resourceTypes": ["AWS::Lambda::Function"], "recordingFrequency": "DAILY"}
                ],
            },
            "Config recorder 'default' records AWS::Lambda::Function only daily "
            "(recordingModeOverrides: DAILY)",
        ),
    ],
)
def test_a_daily_recorder_makes_the_sweep_read_the_lambda_api(
    clients: Clients, calls: CallLog, log_lines: Any, mode: dict[str, Any], reason: str
) -> None:
    create_function("worker")
    daily = copy.deepcopy(RECORDS_ALL)
    daily["ConfigurationRecorders"][0]["recordingMode"] = mode
    with Stubber(clients.client("config")) as stub:
        stub.add_response("describe_configuration_recorders", daily, {})
        stub.add_response("get_compliance_details_by_config_rule", _compliance_page([], None))
        stub.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        run_sweep(clients, PUBLIC)
        stub.assert_no_pending_responses()
    assert calls.counts()["lambda:ListFunctions"] == 1
    (line,) = [line for line in log_lines() if line["message"] == "inventory read"]
    assert (line["source"], line["source_reason"]) == ("lambda", reason)
