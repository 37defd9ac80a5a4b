"""Change, deleted, out-of-scope and oversized notifications: what reaches Config and SecHub."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from rules.aws.clients import Clients
from rules.aws.findings import finding_id
from rules.naming import config_rule_name
from tests.aws.fixtures import (
    ACCOUNT,
    REGION,
    CallLog,
    all_findings,
    change_event,
    config_item,
    create_function,
    load,
    oversized_event,
    run,
)

PUBLIC = "lambda-function-public-access-prohibited"
ENV_CMK = "lambda-env-vars-cmk-encrypted"
VPC = "lambda-inside-vpc"
CAPTURED = datetime(2025, 6, 2, 9, 16, 41, 517000, tzinfo=UTC)
ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-api"


def _evaluations(calls: CallLog) -> list[dict[str, Any]]:
    return [e for call in calls.of("config:PutEvaluations") for e in call["Evaluations"]]


def _finding(rule_id: str, arn: str = ARN) -> dict[str, Any]:
    [finding] = [f for f in all_findings() if f["Id"] == finding_id(config_rule_name(rule_id), arn)]
    return finding


def test_a_change_reaches_config_and_security_hub(clients: Clients, calls: CallLog) -> None:
    summary = run(change_event(config_item("lambda_ci_noncompliant.json")), clients, PUBLIC)

    assert summary["evaluations"]["NON_COMPLIANT"] == 1
    [evaluation] = _evaluations(calls)
    assert evaluation["ComplianceResourceId"] == "orders-api"
    assert evaluation["ComplianceResourceType"] == "AWS::Lambda::Function"
    assert evaluation["ComplianceType"] == "NON_COMPLIANT"
    assert evaluation["OrderingTimestamp"] == CAPTURED  # the item's capture time
    assert "FunctionURLAllowPublicAccess" in evaluation["Annotation"]
    assert calls.of("config:PutEvaluations")[0]["TestMode"] is True
    finding = _finding(PUBLIC)
    assert finding["Compliance"]["Status"] == "FAILED"
    assert finding["Severity"]["Label"] == "CRITICAL"
    assert finding["ProductFields"]["LambdaGuardrails/ConfigRuleName"] == config_rule_name(PUBLIC)


def test_a_real_result_token_is_sent_without_test_mode(clients: Clients) -> None:
    # moto gap: PutEvaluations without TestMode is not implemented -> Stubber on Config.
    event = change_event(config_item("lambda_ci_compliant.json"), token="token-from-config")
    with Stubber(clients.client("config")) as stub:
        stub.add_response(
            "put_evaluations",
            {"FailedEvaluations": []},
            {
                "ResultToken": "token-from-config",
                "Evaluations": [
                    {
                        "ComplianceResourceType": "AWS::Lambda::Function",
                        "ComplianceResourceId": "orders-api",
                        "ComplianceType": "COMPLIANT",
                        "Annotation": ANY,
                        "OrderingTimestamp": CAPTURED,
                    }
                ],
            },
        )
        run(event, clients, PUBLIC)
        stub.assert_no_pending_responses()
    assert _finding(PUBLIC)["Compliance"]["Status"] == "PASSED"


# A key of another account is customer managed by definition: no DescribeKey needed.
FOREIGN_KEY = "arn:aws:kms:us-east-1:999988887777:key/5555abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize(
    ("rule_id", "item", "changes"),
    [
        (ENV_CMK, "lambda_ci_compliant.json", {"kmskeyArn": FOREIGN_KEY}),
        (VPC, "lambda_ci_noncompliant.json", {}),  # variables unknown, not needed
        (PUBLIC, "lambda_ci_noncompliant.json", {}),
    ],
)
def test_a_change_makes_one_put_evaluations_one_import_and_no_reads(
    clients: Clients, calls: CallLog, rule_id: str, item: str, changes: dict[str, str]
) -> None:
    run(change_event(config_item(item, **changes)), clients, rule_id)
    # GetFindings: which findings this product suppressed for an exemption (rules.aws.workflow).
    assert calls.counts() == {
        "config:PutEvaluations": 1,
        "securityhub:BatchImportFindings": 1,
        "securityhub:GetFindings": 1,
    }


def test_unknown_environment_is_read_once_and_values_never_logged(
    clients: Clients, calls: CallLog, log_lines: Any
) -> None:
    create_function("orders-api", environment={"DB_PASSWORD": "hunter2-secret"})
    run(change_event(config_item("lambda_ci_noncompliant.json")), clients, ENV_CMK)

    assert calls.counts()["lambda:GetFunctionConfiguration"] == 1
    [evaluation] = _evaluations(calls)
    assert evaluation["ComplianceType"] == "NON_COMPLIANT"
    assert "1 environment variable" in evaluation["Annotation"]
    logged = json.dumps(log_lines())
    assert "hunter2-secret" not in logged
    assert "hunter2-secret" not in json.dumps(all_findings())


def test_a_function_without_variables_is_compliant_after_the_read(
    clients: Clients, calls: CallLog
) -> None:
    create_function("orders-api")
    run(change_event(config_item("lambda_ci_noncompliant.json")), clients, ENV_CMK)
    assert [e["ComplianceType"] for e in _evaluations(calls)] == ["COMPLIANT"]


def test_a_function_deleted_before_the_read_is_not_applicable(
    clients: Clients, calls: CallLog
) -> None:
    run(change_event(config_item("lambda_ci_noncompliant.json")), clients, ENV_CMK)
    assert calls.counts()["lambda:GetFunctionConfiguration"] == 1
    [evaluation] = _evaluations(calls)
    assert evaluation["ComplianceType"] == "NOT_APPLICABLE"
    assert _finding(ENV_CMK)["RecordState"] == "ARCHIVED"


def test_a_fixed_function_turns_its_finding_passed(clients: Clients) -> None:
    run(change_event(config_item("lambda_ci_noncompliant.json")), clients, VPC)
    assert _finding(VPC)["Compliance"]["Status"] == "FAILED"
    run(change_event(config_item("lambda_ci_compliant.json")), clients, VPC)
    finding = _finding(VPC)  # the same Id: updated, not duplicated
    assert finding["Compliance"]["Status"] == "PASSED"
    assert finding["Severity"] == {"Label": "INFORMATIONAL", "Original": "LOW"}
    assert finding["FindingProviderFields"]["Severity"] == finding["Severity"]


def test_a_deleted_function_is_not_applicable_and_archives_its_finding(
    clients: Clients, calls: CallLog
) -> None:
    run(change_event(config_item("lambda_ci_noncompliant.json")), clients, PUBLIC)
    deleted = json.loads(load("event_deleted.json")["invokingEvent"])["configurationItem"]
    summary = run(change_event(deleted), clients, PUBLIC)

    assert summary["evaluations"]["NOT_APPLICABLE"] == 1
    evaluation = _evaluations(calls)[-1]
    assert evaluation["ComplianceType"] == "NOT_APPLICABLE"
    assert evaluation["OrderingTimestamp"] == datetime(2025, 6, 5, 12, 1, 7, 4000, tzinfo=UTC)
    finding = _finding(PUBLIC)
    assert finding["RecordState"] == "ARCHIVED"
    assert finding["Compliance"]["Status"] == "NOT_AVAILABLE"


@pytest.mark.parametrize("status", ["ResourceNotRecorded", "ResourceDeletedNotRecorded"])
def test_a_not_recorded_item_is_not_applicable(
    clients: Clients, calls: CallLog, status: str
) -> None:
    item = config_item()
    item.update(configurationItemStatus=status, configuration=None, supplementaryConfiguration={})
    run(change_event(item), clients, PUBLIC)
    assert [e["ComplianceType"] for e in _evaluations(calls)] == ["NOT_APPLICABLE"]
    assert _finding(PUBLIC)["RecordState"] == "ARCHIVED"


def test_an_item_that_left_the_scope_is_not_applicable(clients: Clients, calls: CallLog) -> None:
    run(change_event(config_item(), left_scope=True), clients, VPC)
    [evaluation] = _evaluations(calls)
    assert evaluation["ComplianceType"] == "NOT_APPLICABLE"
    assert "scope" in evaluation["Annotation"]
    assert _finding(VPC)["RecordState"] == "ARCHIVED"


def test_another_resource_type_is_not_applicable_without_a_finding(
    clients: Clients, calls: CallLog
) -> None:
    item = config_item()
    item.update(resourceType="AWS::S3::Bucket", resourceId="bucket", ARN="arn:aws:s3:::bucket")
    run(change_event(item), clients, PUBLIC)
    [evaluation] = _evaluations(calls)
    assert evaluation["ComplianceResourceType"] == "AWS::S3::Bucket"
    assert evaluation["ComplianceType"] == "NOT_APPLICABLE"
    assert "securityhub:BatchImportFindings" not in calls.counts()


def test_security_hub_export_can_be_switched_off(clients: Clients, calls: CallLog) -> None:
    summary = run(change_event(config_item()), clients, PUBLIC, export=False)
    assert calls.counts() == {"config:PutEvaluations": 1}
    assert summary["findingsImported"] == 0
    assert all_findings() == []


# Oversized notifications ------------------------------------------------------------------


def _history_shape(item: dict[str, Any]) -> dict[str, Any]:
    """The event-shaped item as GetResourceConfigHistory returns it (JSON text values)."""
    return {
        "version": "1.3",
        "accountId": item["awsAccountId"],
        "configurationItemCaptureTime": CAPTURED,
        "configurationItemStatus": item["configurationItemStatus"],
        "configurationStateId": "1748855801517",
        "arn": item["ARN"],
        "resourceType": item["resourceType"],
        "resourceId": item["resourceId"],
        "resourceName": item["resourceName"],
        "awsRegion": item["awsRegion"],
        "configuration": json.dumps(item["configuration"]),
        "supplementaryConfiguration": {
            key: value if isinstance(value, str) else json.dumps(value)
            for key, value in item["supplementaryConfiguration"].items()
        },
        "tags": item["tags"],
    }


HISTORY_REQUEST = {
    "resourceType": "AWS::Lambda::Function",
    "resourceId": "orders-api",
    "laterTime": CAPTURED,
    "limit": 1,
}
TESTMODE_PUT = {"Evaluations": ANY, "ResultToken": "TESTMODE", "TestMode": True}


def test_an_oversized_item_is_fetched_from_the_configuration_history(
    clients: Clients, calls: CallLog
) -> None:
    # moto gap: moto records no Lambda items (GetResourceConfigHistory raises
    # ResourceNotDiscovered) -> Stubber on Config.
    item = _history_shape(config_item("lambda_ci_noncompliant.json"))
    with Stubber(clients.client("config")) as stub:
        stub.add_response(
            "get_resource_config_history", {"configurationItems": [item]}, HISTORY_REQUEST
        )
        stub.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        run(oversized_event(), clients, PUBLIC)
        stub.assert_no_pending_responses()
    [evaluation] = _evaluations(calls)
    assert evaluation["ComplianceType"] == "NON_COMPLIANT"
    assert evaluation["OrderingTimestamp"] == CAPTURED
    assert _finding(PUBLIC)["Compliance"]["Status"] == "FAILED"
    assert calls.counts() == {
        "config:GetResourceConfigHistory": 1,
        "config:PutEvaluations": 1,
        "securityhub:BatchImportFindings": 1,
        "securityhub:GetFindings": 1,
    }


def test_an_oversized_item_whose_history_is_gone_is_read_from_lambda(
    clients: Clients, calls: CallLog
) -> None:
    arn = create_function("orders-api")
    with Stubber(clients.client("config")) as stub:
        stub.add_client_error(
            "get_resource_config_history",
            service_error_code="ResourceNotDiscoveredException",
            expected_params=HISTORY_REQUEST,
        )
        stub.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        run(oversized_event(), clients, VPC)
        stub.assert_no_pending_responses()
    [evaluation] = _evaluations(calls)
    assert evaluation["ComplianceType"] == "NON_COMPLIANT"  # moto's function has no VPC
    assert calls.counts()["lambda:GetFunctionConfiguration"] == 1
    assert _finding(VPC, arn)["Compliance"]["Status"] == "FAILED"


def test_an_oversized_item_gone_everywhere_is_not_applicable(
    clients: Clients, calls: CallLog
) -> None:
    with Stubber(clients.client("config")) as stub:
        stub.add_response("get_resource_config_history", {"configurationItems": []})
        stub.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        run(oversized_event(), clients, VPC)
    [evaluation] = _evaluations(calls)
    assert evaluation["ComplianceType"] == "NOT_APPLICABLE"
    assert _finding(VPC)["RecordState"] == "ARCHIVED"


def test_an_oversized_deleted_item_needs_no_history(clients: Clients, calls: CallLog) -> None:
    run(oversized_event(status="ResourceDeleted"), clients, VPC)
    assert calls.counts() == {"config:PutEvaluations": 1, "securityhub:BatchImportFindings": 1}
    assert [e["ComplianceType"] for e in _evaluations(calls)] == ["NOT_APPLICABLE"]


def test_every_log_line_names_the_rule_and_the_resource(clients: Clients, log_lines: Any) -> None:
    run(change_event(config_item("lambda_ci_noncompliant.json")), clients, PUBLIC)
    lines = log_lines()
    assert lines
    for line in lines:
        assert line["rule_id"] == PUBLIC
        assert line["resource_id"] == "orders-api"
        assert line["correlation_id"]
