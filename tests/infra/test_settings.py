"""Context keys: cdk.json holds every documented default, and bad values fail the synth."""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.settings import (
    CONTEXT_KEYS,
    PERIODIC_FREQUENCIES,
    Settings,
    SettingsError,
    load_settings,
)
from rules.naming import DEFAULT_RULE_NAME_PREFIX
from rules.registry import DEFAULT_RULES, RULES
from tests.infra.conftest import ROOT, cdk_json_context

# The rules deployed by default (enabledRules 'default': lambda-tagged is off by default).
# Rules that sweep daily by default: what changes without a configuration change (qualified
# policies; a runtime nearing its deprecation date).
# Rules that sweep daily whatever the context: for what Config sends no change event about
# (policies of versions and aliases, function URLs, a runtime's date nearing, other functions'
# roles).
DAILY = (
    "lambda-function-public-access-prohibited",
    "lambda-function-url-auth-required",
    "lambda-runtime-supported",
    "lambda-unique-execution-role",
)
ALL_IDS = tuple(rule.id for rule in DEFAULT_RULES)
PUBLIC = "lambda-function-public-access-prohibited"
LONGEST_ID = max(ALL_IDS, key=len)


def settings(**context: Any) -> Settings:
    return load_settings(context.get)


def test_cdk_json_holds_every_key_with_its_documented_default() -> None:
    context = cdk_json_context()
    for key in CONTEXT_KEYS:
        assert context[key.name] == key.default, key.name
    ours = {k for k in context if not k.startswith("@aws-cdk")}
    assert ours == {key.name for key in CONTEXT_KEYS}


def test_readme_deploy_section_documents_every_key() -> None:
    readme = (ROOT / "README.md").read_text()
    deploy = readme.split("\n## Deploy", 1)[1].split("\n## ", 1)[0]
    for key in CONTEXT_KEYS:
        assert re.search(rf"^\| `{key.name}` \|", deploy, re.MULTILINE), key.name


def test_defaults() -> None:
    result = settings()
    assert result.rule_ids == ALL_IDS
    assert result.rule_parameters == {}
    assert result.periodic_frequency is None
    assert result.security_hub_export is True
    assert not result.in_vpc
    assert (result.create_config_recorder, result.enable_security_hub) == (False, False)
    assert result.rule_name_prefix == DEFAULT_RULE_NAME_PREFIX == "guardrails-"
    assert result.config_rule_name("lambda-dlq-check") == "guardrails-lambda-dlq-check"
    assert result.alarm_topic_arn is None
    # periodicFrequency is off, but the public-access rule keeps its registry default sweep.
    assert {rule_id: result.periodic_frequency_of(rule_id) for rule_id in ALL_IDS} == {
        rule_id: "TwentyFour_Hours" if rule_id in DAILY else None for rule_id in ALL_IDS
    }


def test_registry_periodic_defaults_are_config_frequencies() -> None:
    assert [rule.id for rule in RULES if rule.default_periodic_frequency] == list(DAILY)
    for rule in RULES:
        assert rule.default_periodic_frequency in (None, *PERIODIC_FREQUENCIES)


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        # The more frequent of periodicFrequency and the rule's default...
        ({"periodicFrequency": "Six_Hours"}, "Six_Hours"),
        ({"periodicFrequency": "TwentyFour_Hours"}, "TwentyFour_Hours"),
        # ... unless the rule's own entry says otherwise, in either direction.
        ({"rulePeriodicFrequency": {PUBLIC: "off"}}, None),
        ({"rulePeriodicFrequency": f'{{"{PUBLIC}": "One_Hour"}}'}, "One_Hour"),
        ({"periodicFrequency": "One_Hour", "rulePeriodicFrequency": {PUBLIC: "Twelve_Hours"}},
         "Twelve_Hours"),
    ],
)  # fmt: skip
def test_public_access_periodic_frequency(context: dict[str, Any], expected: str | None) -> None:
    assert settings(**context).periodic_frequency_of(PUBLIC) == expected


def test_rule_periodic_frequency_of_other_rules() -> None:
    result = settings(
        periodicFrequency="Three_Hours",
        rulePeriodicFrequency={"lambda-dlq-check": "none", "lambda-inside-vpc": "One_Hour"},
    )
    assert result.periodic_frequency_of("lambda-dlq-check") is None
    assert result.periodic_frequency_of("lambda-inside-vpc") == "One_Hour"
    assert result.periodic_frequency_of("lambda-concurrency-check") == "Three_Hours"
    # Validated for a disabled rule, kept only for deployed ones.
    disabled = settings(disabledRules=PUBLIC, rulePeriodicFrequency={PUBLIC: "One_Hour"})
    assert disabled.rule_periodic_frequency == {}


def test_rule_name_prefix_may_take_the_longest_name_config_allows() -> None:
    prefix = "p" * (128 - len(LONGEST_ID))
    assert settings(ruleNamePrefix=prefix).config_rule_name(LONGEST_ID) == prefix + LONGEST_ID
    assert settings(ruleNamePrefix="team_a-").rule_name_prefix == "team_a-"


def test_alarm_topic_arn() -> None:
    for arn in (
        "arn:aws:sns:eu-west-1:111122223333:alerts",
        "arn:aws-us-gov:sns:us-gov-west-1:111122223333:Alerts_1",
        "arn:aws-cn:sns:cn-north-1:111122223333:alerts.fifo",
    ):
        assert settings(alarmTopicArn=arn).alarm_topic_arn == arn


def test_enabled_rules_keep_registry_order_and_disabled_rules_win() -> None:
    chosen = settings(
        enabledRules=f"{ALL_IDS[3]},{ALL_IDS[0]},{ALL_IDS[1]}", disabledRules=[ALL_IDS[1]]
    )
    assert chosen.rule_ids == (ALL_IDS[0], ALL_IDS[3])
    assert settings(disabledRules=f'["{ALL_IDS[2]}"]').rule_ids == ALL_IDS[:2] + ALL_IDS[3:]


def test_command_line_strings_are_parsed() -> None:
    result = settings(
        securityHubExport="false",
        reservedConcurrency="7",
        logRetentionDays="30",
        logLevel="warning",
        periodicFrequency="TwentyFour_Hours",
        tags='{"Team": "sec"}',
        ruleParameters='{"lambda-concurrency-check": {"ConcurrencyLimitHigh": 5}}',
    )
    assert result.security_hub_export is False
    assert (result.reserved_concurrency, result.log_retention_days) == (7, 30)
    assert result.log_level == "WARNING"
    assert result.periodic_frequency == "TwentyFour_Hours"
    assert result.tags == {"Team": "sec"}
    # Config passes parameters as strings.
    assert result.rule_parameters == {"lambda-concurrency-check": {"ConcurrencyLimitHigh": "5"}}


def test_parameters_of_a_disabled_rule_are_validated_but_not_deployed() -> None:
    result = settings(
        disabledRules="lambda-dlq-check",
        ruleParameters={"lambda-dlq-check": {"dlqArns": "arn:aws:sqs:us-east-1:111122223333:q"}},
    )
    assert result.rule_parameters == {}


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"enabledRules": "lambda-nope"}, "enabledRules: unknown rule id"),
        ({"disabledRules": ["lambda-nope"]}, "disabledRules: unknown rule id"),
        ({"ruleParameters": {"lambda-nope": {}}}, "unknown rule id"),
        ({"ruleParameters": "{not json"}, "ruleParameters: not valid JSON"),
        (
            {
                "ruleParameters": {
                    "lambda-concurrency-check": {
                        "ConcurrencyLimitLow": "9",
                        "ConcurrencyLimitHigh": "2",
                    }
                }
            },
            "is greater than ConcurrencyLimitHigh",
        ),
        ({"ruleParameters": {"lambda-inside-vpc": {"subnetIds": "sn-1"}}}, "subnet id"),
        ({"ruleParameters": {"lambda-dlq-check": {"maxAge": "1"}}}, "unknown parameter"),
        (
            {"ruleParameters": {"lambda-dlq-check": {"ExecutionRoleName": "r"}}},
            "organization rules",
        ),
        (
            {
                "ruleParameters": {
                    "lambda-inside-vpc": {"subnetIds": ",".join(["subnet-0123456789abcdef0"] * 50)}
                }
            },
            "AWS Config allows 1024",
        ),
        ({"enabledRules": ""}, "leave no rule to deploy"),
        ({"disabledRules": ",".join(ALL_IDS)}, "leave no rule to deploy"),
        ({"periodicFrequency": "Two_Hours"}, "periodicFrequency"),
        ({"securityHubExport": "yes"}, "securityHubExport: expected true or false"),
        ({"subnetIds": "subnet-0123456789abcdef0"}, "also set vpcId"),
        ({"vpcId": "vpc-0123456789abcdef0"}, "subnetIds is empty"),
        ({"vpcId": "vpc-1", "subnetIds": "subnet-0123456789abcdef0"}, "not a VPC id"),
        ({"subnetIds": "subnet-x"}, "subnetIds: 'subnet-x' is not a valid id"),
        ({"logRetentionDays": 42}, "not a CloudWatch Logs retention period"),
        ({"reservedConcurrency": "0"}, "at least 1"),
        ({"logLevel": "LOUD"}, "logLevel"),
        ({"powertoolsLayerArn": "arn:aws:lambda:eu-west-1:1:layer:x"}, "powertoolsLayerArn"),
        ({"tags": {"aws:x": "y"}}, "not a valid tag key"),
        ({"ruleNamePrefix": ""}, "ruleNamePrefix: must not be empty"),
        ({"ruleNamePrefix": "  "}, "ruleNamePrefix: must not be empty"),
        ({"ruleNamePrefix": "my rules "}, "may hold only letters, digits"),
        ({"ruleNamePrefix": "guardrails/"}, "may hold only letters, digits"),
        ({"ruleNamePrefix": "règles-"}, "may hold only letters, digits"),
        ({"ruleNamePrefix": 7}, "ruleNamePrefix: expected a string"),
        ({"ruleNamePrefix": "p" * (129 - len(LONGEST_ID))}, "AWS Config allows 128"),
        ({"rulePeriodicFrequency": {"lambda-nope": "One_Hour"}}, "unknown rule id 'lambda-nope'"),
        ({"rulePeriodicFrequency": {PUBLIC: "Daily"}}, f"rulePeriodicFrequency.{PUBLIC}: 'Daily'"),
        ({"rulePeriodicFrequency": {PUBLIC: None}}, "expected a string"),
        ({"rulePeriodicFrequency": "[]"}, "rulePeriodicFrequency: expected an object"),
        ({"rulePeriodicFrequency": "{"}, "rulePeriodicFrequency: not valid JSON"),
        ({"alarmTopicArn": "alerts"}, "alarmTopicArn: 'alerts' is not an SNS topic ARN"),
        ({"alarmTopicArn": "arn:aws:sqs:eu-west-1:111122223333:q"}, "not an SNS topic ARN"),
        ({"alarmTopicArn": "arn:aws:sns:eu-west-1:1111:alerts"}, "not an SNS topic ARN"),
        (
            {"alarmTopicArn": "arn:aws:sns:eu-west-1:111122223333:alerts:0a1b-subscription"},
            "not an SNS topic ARN",
        ),
    ],
)
def test_bad_values_fail_naming_the_key(context: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        settings(**context)


def test_exemption_settings() -> None:
    default = settings()
    assert (default.exemption_tag_key, default.exemptions_disabled) == (
        "guardrails:exempt",
        frozenset(),
    )
    given = settings(
        exemptionTagKey="team:exempt",
        exemptionsDisabled="lambda-function-public-access-prohibited, lambda-inside-vpc",
    )
    assert given.exemption_tag_key == "team:exempt"
    assert given.exemptions_disabled == {
        "lambda-function-public-access-prohibited",
        "lambda-inside-vpc",
    }
    # Any registry rule may be listed, deployed or not (walks the registry, not a hand list).
    every = settings(exemptionsDisabled=[rule.id for rule in RULES])
    assert every.exemptions_disabled == {rule.id for rule in RULES}


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"exemptionTagKey": "aws:exempt"}, "exemptionTagKey: 'aws:exempt': the aws: prefix"),
        ({"exemptionTagKey": ""}, "exemptionTagKey: '': a tag key has 1 to 128"),
        ({"exemptionTagKey": "a;b"}, "exemptionTagKey: 'a;b': a tag key has letters"),
        ({"exemptionsDisabled": "lambda-nope"}, "exemptionsDisabled: unknown rule(s) lambda-nope"),
        ({"exemptionsDisabled": {"a": 1}}, "exemptionsDisabled: expected a list"),
    ],
)
def test_bad_exemption_settings_name_the_key(context: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        settings(**context)
