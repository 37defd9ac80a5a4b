"""The handler honours exemption tags: NOT_APPLICABLE with the reason, findings suppressed with
a Note (and reinstated when the exemption ends), ignored and refused exemptions said in the
annotation, tags read from the Lambda API when Config has not recorded the function.

moto 5.2.5 lacks BatchUpdateFindings and ignores GetFindings' Filters: the workflow updates
are tested with botocore's Stubber on the Security Hub client."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from rules.aws.clients import Clients
from rules.aws.errors import PublishError
from rules.aws.findings import NOTE_AUTHOR, finding_id, product_arn
from rules.aws.workflow import REINSTATED_NOTE
from rules.handler import Settings, SettingsError, handle
from rules.naming import config_rule_name
from rules.registry import get_rule
from tests.aws.fixtures import (
    ACCOUNT,
    NOW,
    REGION,
    CallLog,
    all_findings,
    change_event,
    config_item,
    create_function,
    scheduled_event,
    setup_clients,
)

VPC = "lambda-inside-vpc"
DLQ = "lambda-dlq-check"
ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-api"
KEY = "guardrails:exempt"
# NOW is 2026-01-02: valid through 2026-01-02, expired on 2026-01-01.
VALID = f"rules={VPC}+{DLQ} reason=public webhook behind WAF until=2026-01-02"
EXPIRED = f"rules={VPC} reason=public webhook behind WAF until=2026-01-01"
NOTE = "exempted by tag guardrails:exempt: public webhook behind WAF (until 2026-01-02)."
FINDING = finding_id(config_rule_name(VPC), ARN)
PRODUCT = product_arn("aws", REGION, ACCOUNT)


def _run(
    event: dict[str, Any], clients: Clients, rule_id: str = VPC, **settings: Any
) -> dict[str, Any]:
    event = {**event, "configRuleName": config_rule_name(rule_id)}
    options = Settings(get_rule(rule_id), REGION, max_attempts=3, **settings)
    return handle(event, settings=options, clients=clients, now=NOW)


def _tagged(value: str | None, key: str = KEY) -> dict[str, Any]:
    item = config_item("lambda_ci_noncompliant.json")  # not in a VPC, no DLQ
    if value is not None:
        item["tags"] = {**item["tags"], key: value}
    return change_event(item)


def _evaluation(calls: CallLog) -> dict[str, Any]:
    [evaluation] = [e for c in calls.of("config:PutEvaluations") for e in c["Evaluations"]]
    return evaluation


def _finding() -> dict[str, Any]:
    [finding] = [f for f in all_findings() if f["Id"] == FINDING]
    return finding


def test_an_exempted_function_is_not_applicable_and_its_finding_suppressed(
    clients: Clients, calls: CallLog
) -> None:
    _run(_tagged(VALID), clients)
    evaluation = _evaluation(calls)
    assert evaluation["ComplianceType"] == "NOT_APPLICABLE"
    assert evaluation["Annotation"] == NOTE.rstrip(".")
    finding = _finding()
    assert finding["Workflow"] == {"Status": "SUPPRESSED"}
    assert finding["Note"] == {"Text": NOTE, "UpdatedBy": NOTE_AUTHOR, "UpdatedAt": ANY}
    assert finding["RecordState"] == "ACTIVE"  # visible as suppressed, not retired
    assert finding["Compliance"]["Status"] == "NOT_AVAILABLE"
    assert finding["ProductFields"]["LambdaGuardrails/Exemption"] == (
        "public webhook behind WAF (until 2026-01-02)"
    )
    # The new finding came suppressed from the import: no BatchUpdateFindings needed.
    assert "securityhub:BatchUpdateFindings" not in calls.counts()


@pytest.mark.parametrize(
    ("tag", "settings", "said"),
    [
        (EXPIRED, {}, "exemption ignored: expired 2026-01-01"),
        (
            f"{VPC},{DLQ}; webhook; until=2027-01-31",
            {},
            "exemption ignored: tag guardrails:exempt: ',' ';' not allowed",
        ),
        (f"rules={VPC}+lambda-nope reason=x", {}, "unknown rule 'lambda-nope'"),
        (
            VALID,
            {"exemptions_disabled": True},
            f"exemption not honoured: exemptions of {VPC} are disabled by policy",
        ),
        (VALID.replace(KEY, ""), {"exemption_tag_key": "team:exempt"}, None),
    ],
)
def test_an_exemption_not_honoured_judges_and_says_why(
    clients: Clients, calls: CallLog, tag: str, settings: dict[str, Any], said: str | None
) -> None:
    _run(_tagged(tag), clients, **settings)
    evaluation = _evaluation(calls)
    assert evaluation["ComplianceType"] == "NON_COMPLIANT"
    assert evaluation["Annotation"].startswith("function is not connected to a VPC")
    if said is None:
        assert "exempt" not in evaluation["Annotation"]
    else:
        assert said in evaluation["Annotation"]
    assert "Workflow" not in _finding()


def test_the_configured_tag_key_is_the_one_read(clients: Clients, calls: CallLog) -> None:
    _run(_tagged(VALID, key="team:exempt"), clients, exemption_tag_key="team:exempt")
    assert _evaluation(calls)["ComplianceType"] == "NOT_APPLICABLE"


def test_an_existing_finding_is_suppressed_with_batch_update_findings(clients: Clients) -> None:
    """The finding existed unsuppressed (a re-import cannot change Workflow or Note)."""
    with Stubber(clients.client("securityhub")) as stub:
        stub.add_response("batch_import_findings", {"SuccessCount": 1, "FailedCount": 0})
        stub.add_response("get_findings", {"Findings": []})
        stub.add_response(
            "batch_update_findings",
            {
                "ProcessedFindings": [{"Id": FINDING, "ProductArn": PRODUCT}],
                "UnprocessedFindings": [],
            },
            {
                "FindingIdentifiers": [{"Id": FINDING, "ProductArn": PRODUCT}],
                "Workflow": {"Status": "SUPPRESSED"},
                "Note": {"Text": NOTE, "UpdatedBy": NOTE_AUTHOR},
            },
        )
        _run(_tagged(VALID), clients)
        stub.assert_no_pending_responses()


def _suppressed_by(author: str) -> dict[str, Any]:
    return {
        "Findings": [
            {
                "SchemaVersion": "2018-10-08",
                "Id": FINDING,
                "ProductArn": PRODUCT,
                "GeneratorId": VPC,
                "AwsAccountId": ACCOUNT,
                "CreatedAt": "2026-01-01T00:00:00.000Z",
                "UpdatedAt": "2026-01-01T00:00:00.000Z",
                "Title": "t",
                "Description": "d",
                "Resources": [{"Type": "AwsLambdaFunction", "Id": ARN}],
                "Workflow": {"Status": "SUPPRESSED"},
                "Note": {"Text": NOTE, "UpdatedBy": author, "UpdatedAt": "2026-01-01"},
            }
        ]
    }


GET_SUPPRESSED = {
    "Filters": {
        "GeneratorId": [{"Value": VPC, "Comparison": "EQUALS"}],
        "WorkflowStatus": [{"Value": "SUPPRESSED", "Comparison": "EQUALS"}],
        "NoteUpdatedBy": [{"Value": NOTE_AUTHOR, "Comparison": "EQUALS"}],
    }
}


@pytest.mark.parametrize("tag", [EXPIRED, None], ids=["expired", "tag-removed"])
def test_an_ended_exemption_reinstates_the_finding(clients: Clients, tag: str | None) -> None:
    """Security Hub never leaves SUPPRESSED by itself: an exemption that ended would leave the
    failure hidden. The handler sets NEW with a note."""
    with Stubber(clients.client("securityhub")) as stub:
        stub.add_response("batch_import_findings", {"SuccessCount": 1, "FailedCount": 0})
        stub.add_response("get_findings", _suppressed_by(NOTE_AUTHOR), GET_SUPPRESSED)
        stub.add_response(
            "batch_update_findings",
            {
                "ProcessedFindings": [{"Id": FINDING, "ProductArn": PRODUCT}],
                "UnprocessedFindings": [],
            },
            {
                "FindingIdentifiers": [{"Id": FINDING, "ProductArn": PRODUCT}],
                "Workflow": {"Status": "NEW"},
                "Note": {"Text": REINSTATED_NOTE, "UpdatedBy": NOTE_AUTHOR},
            },
        )
        summary = _run(_tagged(tag), clients)
        stub.assert_no_pending_responses()
    assert summary["evaluations"]["NON_COMPLIANT"] == 1


def test_a_suppression_made_by_someone_else_is_left_alone(clients: Clients, calls: CallLog) -> None:
    with Stubber(clients.client("securityhub")) as stub:
        stub.add_response("batch_import_findings", {"SuccessCount": 1, "FailedCount": 0})
        stub.add_response("get_findings", _suppressed_by("analyst@example.com"))
        _run(_tagged(None), clients)
        stub.assert_no_pending_responses()
    assert "securityhub:BatchUpdateFindings" not in calls.counts()


def test_an_unprocessed_workflow_update_fails_the_invocation(clients: Clients) -> None:
    with Stubber(clients.client("securityhub")) as stub:
        stub.add_response("batch_import_findings", {"SuccessCount": 1, "FailedCount": 0})
        stub.add_response("get_findings", {"Findings": []})
        stub.add_response(
            "batch_update_findings",
            {
                "ProcessedFindings": [],
                "UnprocessedFindings": [
                    {
                        "FindingIdentifier": {"Id": FINDING, "ProductArn": PRODUCT},
                        "ErrorCode": "FindingNotFound",
                        "ErrorMessage": "not found",
                    }
                ],
            },
        )
        with pytest.raises(PublishError, match=r"workflow updates \(SUPPRESSED\).*FindingNotFound"):
            _run(_tagged(VALID), clients)


def test_without_export_nothing_is_sent_to_security_hub(clients: Clients, calls: CallLog) -> None:
    _run(_tagged(VALID), clients, security_hub_export=False)
    assert not [action for action in calls.counts() if action.startswith("securityhub:")]
    assert _evaluation(calls)["ComplianceType"] == "NOT_APPLICABLE"


def test_the_sweep_reads_tags_from_the_lambda_api(clients: Clients, calls: CallLog) -> None:
    """No recorder: ListFunctions carries no tags, so ListTags is read for each function."""
    exempt = create_function("exempt-fn")
    create_function("plain-fn")
    setup_clients()["lambda"].tag_resource(Resource=exempt, Tags={KEY: VALID})
    put = {"Evaluations": ANY, "ResultToken": "TESTMODE", "TestMode": True}
    with Stubber(clients.client("config")) as stub:  # moto lacks the compliance query
        stub.add_response("describe_configuration_recorders", {"ConfigurationRecorders": []})
        stub.add_response("get_compliance_details_by_config_rule", {"EvaluationResults": []})
        stub.add_response("put_evaluations", {"FailedEvaluations": []}, put)
        _run(scheduled_event(), clients)
    verdicts = {
        e["ComplianceResourceId"]: e
        for c in calls.of("config:PutEvaluations")
        for e in c["Evaluations"]
    }
    assert verdicts["exempt-fn"]["ComplianceType"] == "NOT_APPLICABLE"
    assert "public webhook behind WAF" in verdicts["exempt-fn"]["Annotation"]
    assert verdicts["plain-fn"]["ComplianceType"] == "NON_COMPLIANT"
    assert calls.counts()["lambda:ListTags"] == 2


def test_settings_from_the_environment() -> None:
    base = {"RULE_ID": VPC, "AWS_REGION": REGION}
    default = Settings.from_environment(base)
    assert (default.exemption_tag_key, default.exemptions_disabled) == (KEY, False)
    custom = Settings.from_environment(
        base | {"EXEMPTION_TAG_KEY": "team:exempt", "EXEMPTIONS_DISABLED": "true"}
    )
    assert (custom.exemption_tag_key, custom.exemptions_disabled) == ("team:exempt", True)
    assert custom.exemptions(NOW).disabled == frozenset({VPC})
    with pytest.raises(SettingsError, match=r"EXEMPTION_TAG_KEY.*reserved"):
        Settings.from_environment(base | {"EXEMPTION_TAG_KEY": "aws:exempt"})
