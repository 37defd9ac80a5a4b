"""The CDK app for issue 11's rules-b: function URL auth, code signing (off by default), secrets in
variables and the periodic-only unique-role rule. Each deploys as a registry entry: a role holding
exactly what ``rules.permissions`` grants (and, for the secrets rule alone, ``kms:Decrypt`` on the
keys of ``secretsRuleKmsKeyArns``), and its Config rule's triggers."""

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
from rules.registry import RULES, get_rule
from tests.infra.conftest import Synth, synthesize
from tests.infra.helpers import policy_actions, rule_resource

PLATFORM = {*LOG_ACTIONS, *XRAY_ACTIONS, *DLQ_ACTIONS, *KMS_ACTIONS}
URL_AUTH = "lambda-function-url-auth-required"
CODE_SIGNING = "lambda-code-signing-enforced"
SECRETS = "lambda-no-secrets-in-env-vars"
UNIQUE_ROLE = "lambda-unique-execution-role"
SECRETS_KEY = "arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
SIGNING_PROFILE = "arn:aws:signer:eu-west-1:111122223333:/signing-profiles/Release/abcdef1234"


@pytest.fixture(scope="module")
def all_rules_synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    overrides = {
        "enabledRules": "all",
        "secretsRuleKmsKeyArns": json.dumps([SECRETS_KEY]),
        "ruleParameters": json.dumps(
            {
                CODE_SIGNING: {"signingProfileVersionArns": SIGNING_PROFILE},
                UNIQUE_ROLE: {"sharedRoles": "shared-worker"},
            }
        ),
    }
    yield synthesize(tmp_path_factory.mktemp("cdk-rules-b"), overrides)


def statements(synth: Synth, rule_id: str) -> list[dict[str, Any]]:
    _, policy = rule_resource(synth.resources, rule_id, "Policy/Resource")
    found: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return found


@pytest.mark.parametrize("rule_id", [URL_AUTH, CODE_SIGNING, SECRETS, UNIQUE_ROLE])
def test_role_holds_exactly_the_rules_actions(all_rules_synth: Synth, rule_id: str) -> None:
    _, policy = rule_resource(all_rules_synth.resources, rule_id, "Policy/Resource")
    actions = policy_actions(policy)
    decrypt = {"kms:Decrypt"} if rule_id == SECRETS else set()
    # Each action once, but kms:Decrypt of the secrets rule: once on the platform key (its
    # logs and queue), once on the variables' keys.
    assert len(actions) == len(set(actions)) + len(decrypt)
    assert set(actions) - PLATFORM == actions_for(get_rule(rule_id))


def test_the_new_reads_belong_to_their_rule_only(all_rules_synth: Synth) -> None:
    owners = {
        "lambda:ListFunctionUrlConfigs": {URL_AUTH},
        "lambda:GetFunctionCodeSigningConfig": {CODE_SIGNING},
        "lambda:GetCodeSigningConfig": {CODE_SIGNING},
    }
    for rule in RULES:
        actions = set(
            policy_actions(rule_resource(all_rules_synth.resources, rule.id, "Policy/Resource")[1])
        )
        for action, rule_ids in owners.items():
            assert (action in actions) is (rule.id in rule_ids), (rule.id, action)


def test_only_the_secrets_rule_may_decrypt_and_only_through_lambda(all_rules_synth: Synth) -> None:
    for rule in RULES:
        decrypting = [
            s for s in statements(all_rules_synth, rule.id) if "kms:Decrypt" in _actions(s)
        ]
        if rule.id != SECRETS:
            # The platform key's own statement (logs, queue) is not about variables.
            assert all(SECRETS_KEY not in json.dumps(s) for s in decrypting), rule.id
            continue
        (statement,) = [s for s in decrypting if s["Resource"] == SECRETS_KEY]
        assert _actions(statement) == ["kms:Decrypt"]
        assert statement["Condition"] == {
            "StringEquals": {
                "kms:ViaService": {
                    "Fn::Join": ["", ["lambda.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
                }
            },
            "Null": {"kms:EncryptionContext:LambdaFunctionName": "false"},
        }


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


@pytest.mark.parametrize(
    ("rule_id", "change_triggered", "parameters"),
    [
        (URL_AUTH, True, None),
        (CODE_SIGNING, True, {"signingProfileVersionArns": SIGNING_PROFILE}),
        (SECRETS, True, None),
        (UNIQUE_ROLE, False, {"sharedRoles": "shared-worker"}),
    ],
)
def test_config_rule_triggers_and_parameters(
    all_rules_synth: Synth, rule_id: str, change_triggered: bool, parameters: Any
) -> None:
    _, config_rule = rule_resource(all_rules_synth.resources, rule_id, "Rule")
    props = config_rule["Properties"]
    assert props["ConfigRuleName"] == f"guardrails-{rule_id}"
    kinds = [d["MessageType"] for d in props["Source"]["SourceDetails"]]
    changes = [kind for kind in kinds if kind != "ScheduledNotification"]
    # The unique-role rule compares every function: Config sends it no change event.
    assert changes == (list(CHANGE_TRIGGERS) if change_triggered else [])
    if rule_id in (URL_AUTH, UNIQUE_ROLE):  # what no change event reports: swept daily
        scheduled = [
            d["MaximumExecutionFrequency"]
            for d in props["Source"]["SourceDetails"]
            if d["MessageType"] == "ScheduledNotification"
        ]
        assert scheduled == ["TwentyFour_Hours"]
    assert props.get("InputParameters") == parameters


def test_code_signing_is_deployed_only_when_asked(all_rules_synth: Synth) -> None:
    assert CODE_SIGNING in load_settings(_context(enabledRules="all")).rule_ids
    assert CODE_SIGNING not in load_settings(_context()).rule_ids
    named = load_settings(_context(enabledRules=["default", CODE_SIGNING])).rule_ids
    assert CODE_SIGNING in named


def test_settings_refuse_what_the_rules_b_context_cannot_mean() -> None:
    with pytest.raises(SettingsError, match="secretsRuleKmsKeyArns"):
        load_settings(_context(secretsRuleKmsKeyArns=["alias/not-a-key-arn"]))
    with pytest.raises(SettingsError, match="periodically only"):
        load_settings(_context(rulePeriodicFrequency=json.dumps({UNIQUE_ROLE: "off"})))


def _context(**values: Any) -> Any:
    return values.get
