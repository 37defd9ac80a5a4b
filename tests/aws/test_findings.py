from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from rules.adapters.config_item import configuration_item_from_dict
from rules.aws.clients import Clients
from rules.aws.findings import DESCRIPTION_LIMIT, build_finding, discovered_at, finding_id
from rules.aws.times import iso
from rules.engine import evaluate_function
from rules.model import (
    LAMBDA_FUNCTION,
    CodeSigning,
    Compliance,
    ConfigurationItem,
    Evaluation,
    RolePeers,
    SecretFinding,
)
from rules.naming import config_rule_name
from rules.parameters import NO_PARAMETERS
from rules.policy import parse_policy
from rules.registry import RULES, get_rule
from rules.reports.common import Result
from rules.scan import RegionScan, findings_for
from rules.secrets import SECRET_NAME_LITERAL
from tests.aws.fixtures import (
    ACCOUNT,
    REGION,
    CallLog,
    all_findings,
    change_event,
    config_item,
    load,
    oversized_event,
    run,
)
from tests.aws.fixtures import NOW as HANDLER_NOW

NOW = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
OBSERVED = datetime(2025, 12, 31, 23, 0, 0, 125000, tzinfo=UTC)
CAPTURED = "2025-06-02T09:16:41.517Z"  # configurationItemCaptureTime of the sample items
PUBLIC = get_rule("lambda-function-public-access-prohibited")


def _function(name: str = "lambda_ci_noncompliant.json"):
    item = configuration_item_from_dict(config_item(name))
    assert item.function is not None
    return item.function


def _build(rule=PUBLIC, function=None, evaluation=None, partition="aws", **overrides):
    function = function or _function()
    evaluation = evaluation or evaluate_function(rule, function, NO_PARAMETERS)
    arguments = {
        "account": ACCOUNT,
        "region": REGION,
        "partition": partition,
        "now": NOW,
        "observed_at": OBSERVED,
        "config_rule_name": config_rule_name(rule.id),
        "config_rule_arn": "arn:aws:config:us-east-1:111122223333:config-rule/config-rule-1",
    }
    return build_finding(rule, evaluation, function, **(arguments | overrides))


def test_failed_finding_has_the_required_asff_fields_and_the_rule_severity() -> None:
    finding = _build()
    assert finding["SchemaVersion"] == "2018-10-08"
    assert finding["ProductArn"] == (
        f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
    )
    assert finding["GeneratorId"] == PUBLIC.id
    assert finding["AwsAccountId"] == ACCOUNT
    assert finding["Types"] == ["Software and Configuration Checks/AWS Security Best Practices"]
    assert finding["CreatedAt"] == finding["UpdatedAt"] == "2026-01-02T03:04:05.678Z"
    assert finding["Severity"] == {"Label": "CRITICAL", "Original": "CRITICAL"}
    assert finding["FindingProviderFields"] == {
        "Severity": {"Label": "CRITICAL", "Original": "CRITICAL"},
        "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
    }
    assert finding["ProductFields"]["LambdaGuardrails/RuleSeverity"] == "CRITICAL"
    assert finding["Compliance"] == {"Status": "FAILED"}
    assert finding["RecordState"] == "ACTIVE"
    assert "FunctionURLAllowPublicAccess" in finding["Description"]
    assert finding["Remediation"]["Recommendation"] == {
        "Text": PUBLIC.remediation,
        "Url": PUBLIC.documentation_url,
    }
    assert finding["ProductFields"]["LambdaGuardrails/ConfigRuleName"] == (
        "guardrails-lambda-function-public-access-prohibited"
    )
    [resource] = finding["Resources"]
    assert resource["Type"] == "AwsLambdaFunction"
    assert resource["Id"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-api"
    assert resource["Details"]["AwsLambdaFunction"]["FunctionName"] == "orders-api"
    assert resource["Tags"] == {"app": "orders", "env": "prod"}


def test_the_id_is_the_same_for_the_same_rule_and_function_whatever_the_verdict() -> None:
    failed = _build()
    passed = _build(function=_function("lambda_ci_compliant.json"))
    assert passed["Compliance"]["Status"] == "PASSED"
    arn = passed["Resources"][0]["Id"]
    assert failed["Id"] == passed["Id"] == finding_id(config_rule_name(PUBLIC.id), arn)
    other_rule = _build(rule=get_rule("lambda-dlq-check"))
    assert other_rule["Id"] != failed["Id"]


def test_two_deployments_side_by_side_never_share_a_finding() -> None:
    """Two ruleNamePrefix values in one account: each Config rule keeps its own findings."""
    ids = {
        _build(config_rule_name=config_rule_name(PUBLIC.id, prefix))["Id"]
        for prefix in ("guardrails-", "team-b-")
    }
    assert len(ids) == 2


def test_passed_findings_are_informational_and_keep_the_rule_severity_elsewhere() -> None:
    finding = _build(function=_function("lambda_ci_compliant.json"))
    assert finding["Compliance"]["Status"] == "PASSED"
    # As Security Hub's own controls: INFORMATIONAL = no configuration weakness found.
    assert finding["Severity"] == {"Label": "INFORMATIONAL", "Original": "CRITICAL"}
    assert finding["FindingProviderFields"]["Severity"] == finding["Severity"]
    assert finding["ProductFields"]["LambdaGuardrails/RuleSeverity"] == "CRITICAL"
    assert finding["RecordState"] == "ACTIVE"


@pytest.mark.parametrize(
    ("rule_id", "severity"),
    [
        ("lambda-function-public-access-prohibited", "CRITICAL"),
        ("lambda-env-vars-cmk-encrypted", "MEDIUM"),
        ("lambda-dlq-check", "MEDIUM"),
        ("lambda-inside-vpc", "LOW"),
        ("lambda-concurrency-check", "LOW"),
    ],
)
def test_failed_severity_comes_from_the_registry(rule_id: str, severity: str) -> None:
    rule = get_rule(rule_id)
    function = replace(_function(), kms_key_arn=None, environment_variable_names=("A",))
    finding = _build(rule=rule, function=function)
    assert finding["Compliance"]["Status"] == "FAILED"
    assert finding["Severity"]["Label"] == severity


def test_a_deleted_function_archives_its_finding_under_the_same_id() -> None:
    invoking = json.loads(load("event_deleted.json")["invokingEvent"])
    deleted = configuration_item_from_dict(invoking["configurationItem"])
    evaluation = Evaluation(
        PUBLIC.id, "orders-api", LAMBDA_FUNCTION, Compliance.NOT_APPLICABLE, "deleted"
    )
    finding = build_finding(
        PUBLIC,
        evaluation,
        deleted,
        account=ACCOUNT,
        region=REGION,
        partition="aws",
        now=NOW,
        observed_at=OBSERVED,
    )
    assert finding["RecordState"] == "ARCHIVED"
    assert finding["Compliance"]["Status"] == "NOT_AVAILABLE"
    assert finding["Id"] == _build()["Id"]
    # Security Hub's controls label NOT_AVAILABLE INFORMATIONAL too; the rule's stays recorded.
    assert finding["Severity"] == {"Label": "INFORMATIONAL", "Original": "CRITICAL"}
    assert finding["FindingProviderFields"]["Severity"] == finding["Severity"]
    assert finding["ProductFields"]["LambdaGuardrails/RuleSeverity"] == "CRITICAL"


def test_a_function_known_only_by_name_gets_an_arn_in_the_right_partition() -> None:
    gone = ConfigurationItem(
        LAMBDA_FUNCTION, "old-fn", "ResourceDeleted", None, None, None, None, None
    )
    evaluation = Evaluation(PUBLIC.id, "old-fn", LAMBDA_FUNCTION, Compliance.NOT_APPLICABLE, "gone")
    finding = build_finding(
        PUBLIC,
        evaluation,
        gone,
        account=ACCOUNT,
        region="cn-north-1",
        partition="aws-cn",
        now=NOW,
        observed_at=OBSERVED,
    )
    assert (
        finding["Resources"][0]["Id"] == f"arn:aws-cn:lambda:cn-north-1:{ACCOUNT}:function:old-fn"
    )
    assert finding["ProductArn"].startswith("arn:aws-cn:securityhub:cn-north-1:")


def test_no_finding_for_other_resource_types() -> None:
    evaluation = Evaluation(PUBLIC.id, "b", "AWS::S3::Bucket", Compliance.NOT_APPLICABLE, "n/a")
    with pytest.raises(ValueError, match="AWS::S3::Bucket"):
        _build(evaluation=evaluation)


def test_long_text_is_cut_to_the_asff_limits() -> None:
    function = replace(_function(), name="f" * 300)
    evaluation = Evaluation(PUBLIC.id, "f", LAMBDA_FUNCTION, Compliance.NON_COMPLIANT, "x" * 256)
    finding = _build(function=function, evaluation=evaluation)
    assert len(finding["Title"]) <= 256
    assert len(finding["Description"]) <= 1024


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_findings_never_carry_environment_variable_values(rule) -> None:
    # Every field known, as after the handler's reads. The secrets rule names the variable and
    # the kind of secret (what the issue asks it to report); no rule names any other variable.
    function = replace(
        _function(),
        environment_variable_names=("DB_PASSWORD", "STAGE"),
        function_urls=(),
        code_signing=CodeSigning(None),
        environment_secrets=(SecretFinding("DB_PASSWORD", SECRET_NAME_LITERAL),),
        role_peers=RolePeers((), "the account and Region", True),
    )
    text = json.dumps(_build(rule=rule, function=function))
    assert "STAGE" not in text
    assert ("DB_PASSWORD" in text) is (rule.id == "lambda-no-secrets-in-env-vars")


def test_last_observed_is_the_observation_time_and_first_observed_is_omitted_when_unknown() -> None:
    finding = _build()
    assert finding["LastObservedAt"] == "2025-12-31T23:00:00.125Z"
    assert "FirstObservedAt" not in finding  # the builder never guesses a first observation


def test_a_known_first_observation_is_sent() -> None:
    finding = _build(first_observed_at=OBSERVED)
    assert finding["FirstObservedAt"] == finding["LastObservedAt"] == "2025-12-31T23:00:00.125Z"
    with pytest.raises(ValueError, match="after the last"):
        _build(first_observed_at=NOW)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("ResourceDiscovered", datetime(2025, 6, 2, 9, 16, 41, 517000, tzinfo=UTC)),
        ("OK", None),
        ("ResourceDeleted", None),
    ],
)
def test_only_a_first_configuration_item_tells_when_a_function_was_first_observed(
    status: str, expected: datetime | None
) -> None:
    item = config_item("lambda_ci_noncompliant.json")
    item["configurationItemStatus"] = status
    assert discovered_at(item) == expected


def test_discovered_at_needs_an_item_with_a_capture_time() -> None:
    assert discovered_at(None) is None
    assert discovered_at({"configurationItemStatus": "ResourceDiscovered"}) is None


def test_the_handler_sends_the_capture_time_as_last_observed_and_rewrites_created_at(
    clients: Clients,
) -> None:
    run(change_event(config_item("lambda_ci_noncompliant.json")), clients, PUBLIC.id)
    [finding] = all_findings()
    assert finding["LastObservedAt"] == CAPTURED
    assert "FirstObservedAt" not in finding  # an OK item: an earlier observation may exist
    # CreatedAt is the time of this evaluation, as UpdatedAt (the handler reads no finding).
    assert finding["CreatedAt"] == finding["UpdatedAt"] == iso(HANDLER_NOW)
    assert finding["LastObservedAt"] != finding["CreatedAt"]


def test_the_handler_sends_first_observed_for_a_newly_discovered_function(
    clients: Clients,
) -> None:
    item = config_item("lambda_ci_noncompliant.json")
    item["configurationItemStatus"] = "ResourceDiscovered"
    run(change_event(item), clients, PUBLIC.id)
    [finding] = all_findings()
    assert finding["FirstObservedAt"] == finding["LastObservedAt"] == CAPTURED


def test_an_oversized_discovery_also_tells_the_first_observation(clients: Clients) -> None:
    from tests.aws.fixtures import create_function

    create_function("orders-api")
    run(oversized_event(status="ResourceDiscovered"), clients, PUBLIC.id)
    [finding] = all_findings()
    assert finding["FirstObservedAt"] == finding["LastObservedAt"] == CAPTURED


def test_scan_findings_are_observed_when_scanned() -> None:
    function = _function()
    evaluation = evaluate_function(PUBLIC, function, NO_PARAMETERS)
    scan = RegionScan(REGION, "lambda", (function,), (Result(evaluation, function.arn),))
    [finding] = findings_for(scan, "aws", NOW)
    assert finding["LastObservedAt"] == finding["UpdatedAt"] == "2026-01-02T03:04:05.678Z"
    assert "FirstObservedAt" not in finding


def _many_public_statements(count: int = 5) -> tuple[list[str], dict]:
    sids = [f"public-statement-number-{i:02d}" for i in range(count)]
    statements = [
        {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": "*",
            "Action": "lambda:InvokeFunction",
            "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-api",
        }
        for sid in sids
    ]
    return sids, {"Version": "2012-10-17", "Statement": statements}


def test_the_description_carries_an_annotation_longer_than_configs_limit() -> None:
    sids, document = _many_public_statements()
    function = replace(_function(), policy=parse_policy(json.dumps(document)))
    evaluation = evaluate_function(PUBLIC, function, NO_PARAMETERS)
    assert 256 < len(evaluation.annotation) < DESCRIPTION_LIMIT - 100
    description = _build(function=function, evaluation=evaluation)["Description"]
    assert len(description) <= DESCRIPTION_LIMIT
    assert evaluation.annotation in description  # the whole annotation, first
    assert all(sid in description for sid in sids)
    # what is cut to fit is the rule's description, after the annotation
    assert description.endswith("...")
    assert description.index(evaluation.annotation) < description.index(PUBLIC.description[:20])


def test_an_annotation_too_long_for_the_description_is_cut_visibly() -> None:
    annotation = "statement 'x' allows Principal '*' " * 60  # 2,100 characters
    evaluation = Evaluation(PUBLIC.id, "f", LAMBDA_FUNCTION, Compliance.NON_COMPLIANT, annotation)
    description = _build(evaluation=evaluation)["Description"]
    assert len(description) == DESCRIPTION_LIMIT
    assert description.startswith(f"Rule {PUBLIC.id} failed for Lambda function orders-api: ")
    assert description.endswith(f"... [annotation cut: it has {len(annotation):,} characters]")
    assert PUBLIC.description not in description


def test_the_handler_cuts_only_configs_copy_of_a_long_annotation(
    clients: Clients, calls: CallLog, log_lines: Any
) -> None:
    sids, document = _many_public_statements()
    item = config_item("lambda_ci_noncompliant.json")
    item["supplementaryConfiguration"]["Policy"] = json.dumps(document)
    run(change_event(item), clients, PUBLIC.id)
    [sent] = [e for call in calls.of("config:PutEvaluations") for e in call["Evaluations"]]
    assert len(sent["Annotation"]) == 256 and sent["Annotation"].endswith("...")
    [logged] = [line for line in log_lines() if line.get("message") == "evaluation"]
    assert len(logged["annotation"]) > 256
    assert logged["annotation"].startswith(sent["Annotation"][:-3])
    [finding] = all_findings()
    assert logged["annotation"] in finding["Description"]
    assert all(sid in finding["Description"] for sid in sids)
