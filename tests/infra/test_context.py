"""Every context key away from its default (conftest.FULL_OVERRIDES, given as `-c` strings)
changes the template as the README documents."""

from __future__ import annotations

from typing import Any

from infra.rule_construct import VPC_ACTIONS
from infra.stack import NO_SWEEP_WARNING, NOT_IN_VPC_WARNING
from rules.permissions import actions_for
from rules.registry import ENABLED_BY_DEFAULT as RULES  # the rules `enabledRules: all` deploys
from rules.registry import get_rule
from tests.infra.conftest import ALARM_TOPIC, LAYER, SUBNETS, VPC, Synth
from tests.infra.helpers import logical_id, policy_actions, rule_resource

DEPLOYED = [rule.id for rule in RULES if rule.id != "lambda-dlq-check"]
PREFIX = "acme_"


def config_rules(synth: Synth) -> dict[str, dict[str, Any]]:
    """Rule id -> Config rule (its name is the id behind the prefix)."""
    rules = {
        r["Properties"]["ConfigRuleName"]: r
        for r in synth.of_type("AWS::Config::ConfigRule").values()
    }
    assert all(name.startswith(PREFIX) for name in rules)
    return {name.removeprefix(PREFIX): rule for name, rule in rules.items()}


def test_disabled_rule_is_not_deployed(full_synth: Synth) -> None:
    assert sorted(config_rules(full_synth)) == sorted(DEPLOYED)
    assert len(full_synth.of_type("AWS::Lambda::Function")) == len(DEPLOYED)


def test_rule_name_prefix_names_the_rules_but_not_what_users_type(full_synth: Synth) -> None:
    for rule_id in DEPLOYED:
        _, config_rule = rule_resource(full_synth.resources, rule_id, "Rule")
        assert config_rule["Properties"]["ConfigRuleName"] == f"{PREFIX}{rule_id}"
        _, function = rule_resource(full_synth.resources, rule_id, "Function/Resource")
        # The handler (and with it the findings' GeneratorId) keeps the bare rule id.
        assert function["Properties"]["Environment"]["Variables"]["RULE_ID"] == rule_id


def test_parameters_reach_input_parameters_as_strings(full_synth: Synth) -> None:
    rules = config_rules(full_synth)
    assert rules["lambda-concurrency-check"]["Properties"]["InputParameters"] == {
        "ConcurrencyLimitLow": "1",
        "ConcurrencyLimitHigh": "10",
    }
    assert rules["lambda-inside-vpc"]["Properties"]["InputParameters"] == {
        "subnetIds": ",".join(SUBNETS)
    }
    assert "InputParameters" not in rules["lambda-env-vars-cmk-encrypted"]["Properties"]


def scheduled(rule: dict[str, Any]) -> list[str]:
    return [
        detail["MaximumExecutionFrequency"]
        for detail in rule["Properties"]["Source"]["SourceDetails"]
        if detail["MessageType"] == "ScheduledNotification"
    ]


def test_periodic_trigger_is_added_to_every_rule_unless_the_rule_overrides_it(
    full_synth: Synth,
) -> None:
    frequencies = {rule_id: scheduled(rule) for rule_id, rule in config_rules(full_synth).items()}
    assert frequencies == {
        "lambda-function-public-access-prohibited": ["One_Hour"],  # rulePeriodicFrequency
        "lambda-inside-vpc": [],  # rulePeriodicFrequency "off" beats periodicFrequency
        "lambda-env-vars-cmk-encrypted": ["Six_Hours"],
        "lambda-concurrency-check": ["Six_Hours"],
    }
    # The public-access rule still sweeps: no warning (tests/infra/test_instances.py turns it off).
    assert not [w for w in full_synth.warnings if NO_SWEEP_WARNING in w]


def test_alarms_notify_the_topic_on_alarm_and_on_recovery(full_synth: Synth) -> None:
    alarms = full_synth.of_type("AWS::CloudWatch::Alarm")
    assert len(alarms) == len(DEPLOYED) + 1
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [ALARM_TOPIC]
        assert alarm["Properties"]["OKActions"] == [ALARM_TOPIC]


def test_security_hub_export_off_drops_the_variable_and_the_grant(full_synth: Synth) -> None:
    for rule_id in DEPLOYED:
        _, function = rule_resource(full_synth.resources, rule_id, "Function/Resource")
        assert function["Properties"]["Environment"]["Variables"]["SECURITY_HUB_EXPORT"] == "false"
        _, policy = rule_resource(full_synth.resources, rule_id, "Policy/Resource")
        actions = set(policy_actions(policy))
        assert not [a for a in actions if a.startswith("securityhub:")]
        rule_actions = actions_for(get_rule(rule_id))
        assert rule_actions - actions == {"securityhub:BatchImportFindings"}


def test_subnets_put_the_functions_in_a_vpc(full_synth: Synth) -> None:
    group_id = logical_id(full_synth.resources, "FunctionSecurityGroup")
    group = full_synth.resources[group_id]["Properties"]
    assert group["VpcId"] == VPC
    assert group["SecurityGroupEgress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTPS to the AWS Config, Lambda and Security Hub APIs",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    assert "SecurityGroupIngress" not in group
    for rule_id in DEPLOYED:
        _, function = rule_resource(full_synth.resources, rule_id, "Function/Resource")
        assert function["Properties"]["VpcConfig"] == {
            "SubnetIds": SUBNETS,
            "SecurityGroupIds": [{"Fn::GetAtt": [group_id, "GroupId"]}],
        }
        _, policy = rule_resource(full_synth.resources, rule_id, "Policy/Resource")
        assert set(VPC_ACTIONS) <= set(policy_actions(policy))
    assert not [w for w in full_synth.warnings if NOT_IN_VPC_WARNING in w]


def test_function_settings_follow_the_context(full_synth: Synth) -> None:
    for rule_id in DEPLOYED:
        _, function = rule_resource(full_synth.resources, rule_id, "Function/Resource")
        props = function["Properties"]
        assert props["ReservedConcurrentExecutions"] == 3
        assert props["Layers"] == [LAYER]
        assert props["Environment"]["Variables"]["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
        assert {"Key": "Owner", "Value": "platform-security"} in props["Tags"]
        _, logs = rule_resource(full_synth.resources, rule_id, "Logs/Resource")
        assert logs["Properties"]["RetentionInDays"] == 90


def test_recorder_and_security_hub_are_created_when_asked(full_synth: Synth) -> None:
    (recorder_id,) = full_synth.of_type("AWS::Config::ConfigurationRecorder")
    recorder = full_synth.resources[recorder_id]["Properties"]
    assert recorder["RecordingGroup"] == {
        "AllSupported": False,
        "IncludeGlobalResourceTypes": False,
        "ResourceTypes": ["AWS::Lambda::Function"],
    }
    (channel_id,) = full_synth.of_type("AWS::Config::DeliveryChannel")
    assert len(full_synth.of_type("AWS::SecurityHub::Hub")) == 1
    # Rules are created once the recorder records.
    for rule in config_rules(full_synth).values():
        assert {recorder_id, channel_id} <= set(rule["DependsOn"])
    buckets = full_synth.of_type("AWS::S3::Bucket").values()
    for bucket in buckets:
        assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
