"""The default synth (cdk.json as committed): one rule and one function per registry rule, the
functions complying with all five rules, least-privilege roles, the invoke permission, names
that cannot collide, and alarms."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match

from app import STACK_NAME
from infra import code
from infra.rule_construct import (
    CHANGE_TRIGGERS,
    DLQ_ACTIONS,
    KMS_ACTIONS,
    LOG_ACTIONS,
    VPC_ACTIONS,
    XRAY_ACTIONS,
)
from infra.stack import NO_SWEEP_WARNING, NOT_IN_VPC_WARNING, construct_id, key_alias
from rules.naming import DEFAULT_RULE_NAME_PREFIX
from rules.permissions import actions_for, grants_for
from rules.registry import DEFAULT_RULES as RULES
from tests.infra.conftest import Synth
from tests.infra.helpers import logical_id, policy_actions, rule_resource, statements_by_action

# The stack deploys the rules on by default (enabledRules all).
RULES = tuple(rule for rule in RULES if rule.enabled_by_default)
RULE_IDS = [rule.id for rule in RULES]
# AWS managed rules' names (AWS Config developer guide, "List of AWS Config Managed Rules") that
# four of the registry's ids are exactly: a deployment must never take them.
AWS_MANAGED_RULE_NAMES = {
    "lambda-dlq-check",
    "lambda-concurrency-check",
    "lambda-inside-vpc",
    "lambda-function-public-access-prohibited",
    "lambda-function-settings-check",
    "lambda-vpc-multi-az-check",
}
INFRA_ACTIONS = {*LOG_ACTIONS, *XRAY_ACTIONS, *DLQ_ACTIONS, *KMS_ACTIONS}
ACCOUNT = {"Ref": "AWS::AccountId"}


def test_one_config_rule_and_one_function_per_registry_rule(default_synth: Synth) -> None:
    rules = default_synth.of_type("AWS::Config::ConfigRule")
    names = [r["Properties"]["ConfigRuleName"] for r in rules.values()]
    assert sorted(names) == sorted(f"guardrails-{rule_id}" for rule_id in RULE_IDS)
    assert not set(names) & AWS_MANAGED_RULE_NAMES
    functions = default_synth.of_type("AWS::Lambda::Function")
    assert sorted(
        f["Properties"]["Environment"]["Variables"]["RULE_ID"] for f in functions.values()
    ) == sorted(RULE_IDS)


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_config_rule_is_custom_lambda_on_lambda_functions(default_synth: Synth, rule: Any) -> None:
    resources = default_synth.resources
    function_id, _ = rule_resource(resources, rule.id, "Function/Resource")
    permission_id, _ = rule_resource(resources, rule.id, "ConfigInvoke")
    _, config_rule = rule_resource(resources, rule.id, "Rule")
    props = config_rule["Properties"]
    assert props["ConfigRuleName"] == DEFAULT_RULE_NAME_PREFIX + rule.id
    assert props["Description"] == rule.description
    assert props["Scope"] == {"ComplianceResourceTypes": ["AWS::Lambda::Function"]}
    assert props["Source"]["Owner"] == "CUSTOM_LAMBDA"
    assert props["Source"]["SourceIdentifier"] == {"Fn::GetAtt": [function_id, "Arn"]}
    # Change triggers, plus the rule's own periodic trigger where the registry gives it one
    # (periodicFrequency is off by default); no parameters are set.
    periodic = (
        [
            {
                "EventSource": "aws.config",
                "MessageType": "ScheduledNotification",
                "MaximumExecutionFrequency": rule.default_periodic_frequency,
            }
        ]
        if rule.default_periodic_frequency
        else []
    )
    assert (
        props["Source"]["SourceDetails"]
        == [
            {"EventSource": "aws.config", "MessageType": message}
            for message in (CHANGE_TRIGGERS if rule.change_triggered else ())
        ]
        + periodic
    )
    assert "InputParameters" not in props
    # Config refuses to create a rule whose function it may not invoke yet.
    assert permission_id in config_rule["DependsOn"]


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_function_complies_with_the_five_rules(default_synth: Synth, rule: Any) -> None:
    resources = default_synth.resources
    key_id = logical_id(resources, "Key/Resource")
    queue_id = logical_id(resources, "DeadLetterQueue/Resource")
    role_id, _ = rule_resource(resources, rule.id, "Role/Resource")
    logs_id, log_group = rule_resource(resources, rule.id, "Logs/Resource")
    _, function = rule_resource(resources, rule.id, "Function/Resource")
    props = function["Properties"]
    assert props["Runtime"] == "python3.14"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "rules.handler.lambda_handler"
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["ReservedConcurrentExecutions"] == 5
    assert props["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    assert props["KmsKeyArn"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert props["Role"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert props["LoggingConfig"] == {"LogGroup": {"Ref": logs_id}}
    assert "VpcConfig" not in props  # no subnetIds in cdk.json (the synth warns, see below)
    assert props["Environment"]["Variables"] == {
        "RULE_ID": rule.id,
        "SECURITY_HUB_EXPORT": "true",
        "EXEMPTION_TAG_KEY": "guardrails:exempt",
        "EXEMPTIONS_DISABLED": "false",
        "POWERTOOLS_SERVICE_NAME": {"Ref": "AWS::StackName"},  # per deployment: the dashboard
        "POWERTOOLS_METRICS_NAMESPACE": "LambdaGuardrails",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    assert log_group["Properties"]["RetentionInDays"] == 365
    assert log_group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_powertools_comes_from_the_aws_layer_of_the_pinned_version(default_synth: Synth) -> None:
    version = code.powertools_version()
    expected = f"{{{{resolve:ssm:/aws/service/powertools/python/arm64/python3.14/{version}}}}}"
    for function in default_synth.of_type("AWS::Lambda::Function").values():
        assert function["Properties"]["Layers"] == [expected]


def test_powertools_version_is_the_requirements_pin(tmp_path: Any) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("boto3==1.0\naws-lambda-powertools==3.99.1\n")
    assert code.powertools_version(requirements) == "3.99.1"
    requirements.write_text("aws-lambda-powertools>=3\n")
    with pytest.raises(ValueError, match="exact"):
        code.powertools_version(requirements)


def test_public_access_rule_sweeps_daily_although_periodic_frequency_is_off(
    default_synth: Synth,
) -> None:
    # Config sends no change event when an alias's or a version's permission changes.
    _, config_rule = rule_resource(
        default_synth.resources, "lambda-function-public-access-prohibited", "Rule"
    )
    assert {
        "EventSource": "aws.config",
        "MessageType": "ScheduledNotification",
        "MaximumExecutionFrequency": "TwentyFour_Hours",
    } in config_rule["Properties"]["Source"]["SourceDetails"]
    assert not [w for w in default_synth.warnings if NO_SWEEP_WARNING in w]


def test_key_alias_derives_from_the_stack_name(default_synth: Synth) -> None:
    key_id = logical_id(default_synth.resources, "Key/Resource")
    (alias,) = default_synth.of_type("AWS::KMS::Alias").values()
    assert alias["Properties"] == {
        "AliasName": f"alias/{STACK_NAME}",
        "TargetKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
    }


@pytest.mark.parametrize("stack_name", ["aws/x", "a.b", "x" * 251])
def test_key_alias_refuses_a_name_kms_would_reject(stack_name: str) -> None:
    with pytest.raises(ValueError, match="not a valid KMS alias"):
        key_alias(stack_name)


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_each_rule_function_has_an_errors_alarm(default_synth: Synth, rule: Any) -> None:
    function_id, _ = rule_resource(default_synth.resources, rule.id, "Function/Resource")
    alarm = default_synth.resources[
        logical_id(default_synth.resources, f"Alarms/{construct_id(rule.id)}Errors/Resource")
    ]["Properties"]
    assert {k: v for k, v in alarm.items() if k not in ("AlarmDescription", "Tags")} == {
        "Namespace": "AWS/Lambda",
        "MetricName": "Errors",
        "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function_id}}],
        "Statistic": "Sum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 0,
        "TreatMissingData": "notBreaching",
    }
    assert f"guardrails-{rule.id}" in alarm["AlarmDescription"]
    # No alarmTopicArn by default: nothing to notify, and CloudFormation names the alarm.
    assert "AlarmName" not in alarm


def test_a_message_in_the_dead_letter_queue_raises_an_alarm(default_synth: Synth) -> None:
    queue_id = logical_id(default_synth.resources, "DeadLetterQueue/Resource")
    alarm = default_synth.resources[
        logical_id(default_synth.resources, "Alarms/DeadLetterMessages/Resource")
    ]["Properties"]
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}
    ]
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "Maximum",
        "GreaterThanThreshold",
        0,
    )
    assert alarm["TreatMissingData"] == "notBreaching"
    assert len(default_synth.of_type("AWS::CloudWatch::Alarm")) == len(RULES) + 1
    for every in default_synth.of_type("AWS::CloudWatch::Alarm").values():
        assert "AlarmActions" not in every["Properties"]


def test_key_rotates_and_encrypts_the_dead_letter_queue(default_synth: Synth) -> None:
    template = default_synth.template
    key_id = logical_id(default_synth.resources, "Key/Resource")
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.has_resource_properties(
        "AWS::SQS::Queue", {"KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}}
    )
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_only_config_in_this_account_may_invoke(default_synth: Synth, rule: Any) -> None:
    function_id, _ = rule_resource(default_synth.resources, rule.id, "Function/Resource")
    permissions = [
        p
        for p in default_synth.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [function_id, "Arn"]}
    ]
    assert [p["Properties"] for p in permissions] == [
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [function_id, "Arn"]},
            "Principal": "config.amazonaws.com",
            "SourceAccount": ACCOUNT,
        }
    ]


def test_no_function_url_and_no_public_principal(default_synth: Synth) -> None:
    assert default_synth.of_type("AWS::Lambda::Url") == {}
    for permission in default_synth.of_type("AWS::Lambda::Permission").values():
        assert permission["Properties"]["Principal"] != "*"
        assert "SourceAccount" in permission["Properties"]


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_role_holds_exactly_the_rule_actions_plus_platform_actions(
    default_synth: Synth, rule: Any
) -> None:
    resources = default_synth.resources
    policy_id, policy = rule_resource(resources, rule.id, "Policy/Resource")
    _, role = rule_resource(resources, rule.id, "Role/Resource")
    # The role's only permissions are its customer-managed policy: no inline or AWS managed ones.
    assert role["Properties"]["ManagedPolicyArns"] == [{"Ref": policy_id}]
    assert "Policies" not in role["Properties"]
    assert not [
        p
        for p in default_synth.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_key(resources, rule.id)} in p["Properties"].get("Roles", [])
    ]
    actions = policy_actions(policy)
    assert len(actions) == len(set(actions)), "an action is granted twice"
    assert set(actions) - INFRA_ACTIONS == actions_for(rule)
    assert set(actions) & INFRA_ACTIONS == INFRA_ACTIONS
    assert not [a for a in actions if "*" in a]


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_wildcard_resources_only_where_the_grant_says_so(default_synth: Synth, rule: Any) -> None:
    _, policy = rule_resource(default_synth.resources, rule.id, "Policy/Resource")
    granted = statements_by_action(policy)
    for grant in grants_for(rule):
        for action in grant.actions:
            (resource,) = granted[action]
            if grant.resource == "*":
                assert resource == "*"
            else:
                assert render(resource) == grant.resource.format(
                    partition="${AWS::Partition}",
                    region="${AWS::Region}",
                    account="${AWS::AccountId}",
                )
    wildcard = {action for action, res in granted.items() if "*" in res}
    allowed = {a for g in grants_for(rule) if g.resource == "*" for a in g.actions}
    assert wildcard == allowed | set(XRAY_ACTIONS)
    hub = render(granted["securityhub:BatchImportFindings"][0])
    account = "${AWS::AccountId}"
    assert hub == (
        f"arn:${{AWS::Partition}}:securityhub:${{AWS::Region}}:{account}:product/{account}/default"
    )


def test_outside_a_vpc_the_synth_warns(default_synth: Synth) -> None:
    assert [w for w in default_synth.warnings if NOT_IN_VPC_WARNING in w] != []
    # ec2:DescribeSubnets is also lambda-vpc-multi-az's own read (rules.permissions), not ENIs'.
    rule_reads = {a for rule in RULES for a in actions_for(rule)}
    assert not [
        a
        for p in default_synth.of_type("AWS::IAM::ManagedPolicy").values()
        # The VPC runbook's role is not a rule function's (Lambda validates subnets with it).
        if "/Remediation/" not in p["Metadata"]["aws:cdk:path"]
        for a in policy_actions(p)
        if a in VPC_ACTIONS and a not in rule_reads
    ]


def test_tags_reach_the_resources(default_synth: Synth) -> None:
    for function in default_synth.of_type("AWS::Lambda::Function").values():
        assert {"Key": "Project", "Value": "lambda-guardrails"} in function["Properties"]["Tags"]


def test_optional_resources_are_off_by_default(default_synth: Synth) -> None:
    for resource_type in (
        "AWS::Config::ConfigurationRecorder",
        "AWS::Config::DeliveryChannel",
        "AWS::SecurityHub::Hub",
        "AWS::S3::Bucket",
        "AWS::EC2::SecurityGroup",
    ):
        assert default_synth.of_type(resource_type) == {}, resource_type


def role_key(resources: dict[str, Any], rule_id: str) -> str:
    return rule_resource(resources, rule_id, "Role/Resource")[0]


def render(value: Any) -> str:
    """A Fn::Join of literals and pseudo-parameter Refs, as a ${AWS::...} string."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return "${" + value["Ref"] + "}"
    separator, parts = value["Fn::Join"]
    return separator.join(render(part) for part in parts)
