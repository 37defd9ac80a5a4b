from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from rules.adapters.config_item import configuration_item_from_dict
from rules.aws.findings import build_finding, finding_id
from rules.engine import evaluate_function
from rules.model import LAMBDA_FUNCTION, Compliance, ConfigurationItem, Evaluation
from rules.parameters import NO_PARAMETERS
from rules.registry import RULES, get_rule
from tests.aws.fixtures import ACCOUNT, REGION, config_item, load

NOW = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
PUBLIC = get_rule("lambda-function-public-access-prohibited")


def _function(name: str = "lambda_ci_noncompliant.json"):
    item = configuration_item_from_dict(config_item(name))
    assert item.function is not None
    return item.function


def _build(rule=PUBLIC, function=None, evaluation=None, partition="aws"):
    function = function or _function()
    evaluation = evaluation or evaluate_function(rule, function, NO_PARAMETERS)
    return build_finding(
        rule,
        evaluation,
        function,
        account=ACCOUNT,
        region=REGION,
        partition=partition,
        now=NOW,
        config_rule_name="guardrails-public",
        config_rule_arn="arn:aws:config:us-east-1:111122223333:config-rule/config-rule-1",
    )


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
    assert finding["Compliance"] == {"Status": "FAILED"}
    assert finding["RecordState"] == "ACTIVE"
    assert "FunctionURLAllowPublicAccess" in finding["Description"]
    assert finding["Remediation"]["Recommendation"] == {
        "Text": PUBLIC.remediation,
        "Url": PUBLIC.documentation_url,
    }
    assert finding["ProductFields"]["LambdaGuardrails/ConfigRuleName"] == "guardrails-public"
    [resource] = finding["Resources"]
    assert resource["Type"] == "AwsLambdaFunction"
    assert resource["Id"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-api"
    assert resource["Details"]["AwsLambdaFunction"]["FunctionName"] == "orders-api"
    assert resource["Tags"] == {"app": "orders", "env": "prod"}


def test_the_id_is_the_same_for_the_same_rule_and_function_whatever_the_verdict() -> None:
    failed = _build()
    passed = _build(function=_function("lambda_ci_compliant.json"))
    assert passed["Compliance"]["Status"] == "PASSED"
    assert failed["Id"] == passed["Id"] == finding_id(PUBLIC.id, passed["Resources"][0]["Id"])
    other_rule = _build(rule=get_rule("lambda-dlq-check"))
    assert other_rule["Id"] != failed["Id"]


def test_passed_findings_keep_the_rule_severity_from_the_registry() -> None:
    finding = _build(function=_function("lambda_ci_compliant.json"))
    assert finding["Severity"] == {"Label": "CRITICAL", "Original": "CRITICAL"}
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
        PUBLIC, evaluation, deleted, account=ACCOUNT, region=REGION, partition="aws", now=NOW
    )
    assert finding["RecordState"] == "ARCHIVED"
    assert finding["Compliance"]["Status"] == "NOT_AVAILABLE"
    assert finding["Id"] == _build()["Id"]


def test_a_function_known_only_by_name_gets_an_arn_in_the_right_partition() -> None:
    gone = ConfigurationItem(
        LAMBDA_FUNCTION, "old-fn", "ResourceDeleted", None, None, None, None, None
    )
    evaluation = Evaluation(PUBLIC.id, "old-fn", LAMBDA_FUNCTION, Compliance.NOT_APPLICABLE, "gone")
    finding = build_finding(
        PUBLIC, evaluation, gone, account=ACCOUNT, region="cn-north-1", partition="aws-cn", now=NOW
    )
    assert (
        finding["Resources"][0]["Id"] == f"arn:aws-cn:lambda:cn-north-1:{ACCOUNT}:function:old-fn"
    )
    assert finding["ProductArn"].startswith("arn:aws-cn:securityhub:cn-north-1:")


def test_no_finding_for_other_resource_types() -> None:
    evaluation = Evaluation(PUBLIC.id, "b", "AWS::S3::Bucket", Compliance.NOT_APPLICABLE, "n/a")
    with pytest.raises(ValueError, match="AWS::S3::Bucket"):
        build_finding(
            PUBLIC,
            evaluation,
            _function(),
            account=ACCOUNT,
            region=REGION,
            partition="aws",
            now=NOW,
        )


def test_long_text_is_cut_to_the_asff_limits() -> None:
    function = replace(_function(), name="f" * 300)
    evaluation = Evaluation(PUBLIC.id, "f", LAMBDA_FUNCTION, Compliance.NON_COMPLIANT, "x" * 256)
    finding = _build(function=function, evaluation=evaluation)
    assert len(finding["Title"]) <= 256
    assert len(finding["Description"]) <= 1024


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_findings_never_carry_environment_variable_values(rule) -> None:
    function = replace(_function(), environment_variable_names=("DB_PASSWORD",))
    text = json.dumps(_build(rule=rule, function=function))
    assert "DB_PASSWORD" not in text
