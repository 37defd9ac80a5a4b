"""The CDK app for issue 11's rules (rules-a): each new rule deploys as a registry entry, with a
role holding exactly what ``rules.permissions`` grants, its Config rule's triggers, and the
off-by-default lambda-tagged only when the context asks for it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from infra.rule_construct import (
    CHANGE_TRIGGERS,
    DLQ_ACTIONS,
    KMS_ACTIONS,
    LOG_ACTIONS,
    XRAY_ACTIONS,
)
from infra.settings import SettingsError, load_settings
from rules.permissions import actions_for
from rules.registry import DEFAULT_RULES, RULES, get_rule
from tests.infra.conftest import Synth, synthesize
from tests.infra.helpers import policy_actions, rule_resource

PLATFORM = {*LOG_ACTIONS, *XRAY_ACTIONS, *DLQ_ACTIONS, *KMS_ACTIONS}
NEW_RULES = (
    "lambda-runtime-supported",
    "lambda-xray-tracing-active",
    "lambda-vpc-multi-az",
    "lambda-tagged",
)
TAGGED_PARAMETERS = {"requiredTagKeys": "team,env", "allowedTagValues": '{"env": ["prod"]}'}


@pytest.fixture(scope="module")
def all_rules_synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    overrides = {
        "enabledRules": '["default", "lambda-tagged"]',
        "ruleParameters": json.dumps(
            {
                "lambda-tagged": TAGGED_PARAMETERS,
                "lambda-dlq-check": {"acceptOnFailureDestination": "true"},
                "lambda-runtime-supported": {"daysBeforeDeprecation": "120"},
                "lambda-vpc-multi-az": {"availabilityZones": "3"},
            }
        ),
    }
    yield synthesize(tmp_path_factory.mktemp("cdk-rules-a"), overrides)


def _context(**values: Any) -> Any:
    return values.get


def test_lambda_tagged_is_off_by_default_and_on_when_asked() -> None:
    off_by_default = ("lambda-code-signing-enforced", "lambda-tagged")
    assert [rule.id for rule in DEFAULT_RULES] == [
        r.id for r in RULES if r.id not in off_by_default
    ]
    assert "lambda-tagged" not in load_settings(_context()).rule_ids
    assert load_settings(_context(enabledRules="all")).rule_ids == tuple(r.id for r in RULES)
    chosen = load_settings(_context(enabledRules=["default", "lambda-tagged"])).rule_ids
    assert chosen == tuple(r.id for r in RULES if r.id != "lambda-code-signing-enforced")
    assert load_settings(_context(enabledRules="lambda-tagged")).rule_ids == ("lambda-tagged",)
    off = load_settings(_context(enabledRules="all", disabledRules="lambda-tagged")).rule_ids
    assert "lambda-tagged" not in off


def test_bad_tag_parameters_fail_the_synth_naming_the_key() -> None:
    raw = json.dumps({"lambda-tagged": {"allowedTagValues": "env=prod"}})
    with pytest.raises(SettingsError, match=r"ruleParameters\.lambda-tagged: .*allowedTagValues"):
        load_settings(_context(enabledRules="all", ruleParameters=raw))


@pytest.mark.parametrize("rule_id", [*NEW_RULES, "lambda-dlq-check"])
def test_role_holds_exactly_the_rules_actions(all_rules_synth: Synth, rule_id: str) -> None:
    _, policy = rule_resource(all_rules_synth.resources, rule_id, "Policy/Resource")
    actions = policy_actions(policy)
    assert len(actions) == len(set(actions))
    assert set(actions) - PLATFORM == actions_for(get_rule(rule_id))


@pytest.mark.parametrize(
    ("rule_id", "action"),
    [
        ("lambda-vpc-multi-az", "ec2:DescribeSubnets"),
        ("lambda-dlq-check", "lambda:GetFunctionEventInvokeConfig"),
    ],
)
def test_the_new_reads_are_granted_to_their_rule_only(
    all_rules_synth: Synth, rule_id: str, action: str
) -> None:
    for rule in (*DEFAULT_RULES, get_rule("lambda-tagged")):  # what the synth deploys
        _, policy = rule_resource(all_rules_synth.resources, rule.id, "Policy/Resource")
        assert (action in policy_actions(policy)) is (rule.id == rule_id), rule.id


@pytest.mark.parametrize(
    ("rule_id", "parameters", "periodic"),
    [
        ("lambda-runtime-supported", {"daysBeforeDeprecation": "120"}, "TwentyFour_Hours"),
        ("lambda-xray-tracing-active", None, None),
        ("lambda-vpc-multi-az", {"availabilityZones": "3"}, None),
        ("lambda-tagged", TAGGED_PARAMETERS, None),
        ("lambda-dlq-check", {"acceptOnFailureDestination": "true"}, None),
    ],
)
def test_config_rule_triggers_and_parameters(
    all_rules_synth: Synth, rule_id: str, parameters: Any, periodic: str | None
) -> None:
    _, config_rule = rule_resource(all_rules_synth.resources, rule_id, "Rule")
    props = config_rule["Properties"]
    assert props["ConfigRuleName"] == f"guardrails-{rule_id}"
    details = props["Source"]["SourceDetails"]
    assert [d["MessageType"] for d in details[: len(CHANGE_TRIGGERS)]] == list(CHANGE_TRIGGERS)
    scheduled = [d for d in details if d["MessageType"] == "ScheduledNotification"]
    assert [d["MaximumExecutionFrequency"] for d in scheduled] == ([periodic] if periodic else [])
    assert props.get("InputParameters") == parameters


def test_the_function_of_each_new_rule_runs_the_handler(all_rules_synth: Synth) -> None:
    for rule_id in NEW_RULES:
        _, function = rule_resource(all_rules_synth.resources, rule_id, "Function/Resource")
        assert function["Properties"]["Environment"]["Variables"]["RULE_ID"] == rule_id
        assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}
