"""Walks the registry: every rule is fully described, tested, and its parameters validate."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from rules.parameters import COMMON_PARAMETERS, parse_parameters
from rules.permissions import actions_for, grants_for
from rules.registry import RULES, RULES_BY_ID, get_rule
from rules.rule import Severity

CHECK_TESTS = Path(__file__).parent / "checks"

EXPECTED_SEVERITY = {
    "lambda-function-public-access-prohibited": Severity.CRITICAL,
    "lambda-inside-vpc": Severity.LOW,
    "lambda-env-vars-cmk-encrypted": Severity.MEDIUM,
    "lambda-dlq-check": Severity.MEDIUM,
    "lambda-concurrency-check": Severity.LOW,
    # issue 11, in the order (the registry's, so docs/rules.md's and the README's)
    "lambda-function-url-auth-required": Severity.HIGH,
    "lambda-runtime-supported": Severity.MEDIUM,
    "lambda-xray-tracing-active": Severity.LOW,
    "lambda-code-signing-enforced": Severity.MEDIUM,
    "lambda-no-secrets-in-env-vars": Severity.HIGH,
    "lambda-unique-execution-role": Severity.LOW,
    "lambda-vpc-multi-az": Severity.MEDIUM,
    "lambda-tagged": Severity.LOW,
}


def test_the_core_rules_are_registered_once() -> None:
    assert [rule.id for rule in RULES] == list(EXPECTED_SEVERITY)
    assert len(RULES_BY_ID) == len(RULES)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_rule_is_fully_described(rule) -> None:
    assert re.fullmatch(r"[a-z0-9-]{1,64}", rule.id)
    assert rule.title and rule.description and rule.remediation
    assert len(rule.description) <= 256  # AWS Config's limit on a rule's Description
    assert rule.documentation_url.startswith("https://docs.aws.amazon.com/")
    assert rule.severity is EXPECTED_SEVERITY[rule.id]
    assert inspect.getdoc(rule.check), f"{rule.check.__name__} has no docstring"
    for spec in rule.parameters:
        assert spec.description, spec.name


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_rule_has_a_test_module_that_calls_its_check(rule) -> None:
    sources = "".join(path.read_text() for path in CHECK_TESTS.glob("test_*.py"))
    assert rule.check.__name__ in sources


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_documented_defaults_validate(rule) -> None:
    raw = {spec.name: spec.default for spec in rule.parameters if spec.default is not None}
    parse_parameters(rule, raw)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_parameter_names_do_not_clash_with_common_ones(rule) -> None:
    assert not {spec.name for spec in rule.parameters} & {spec.name for spec in COMMON_PARAMETERS}


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_every_rule_can_publish_and_read(rule) -> None:
    actions = actions_for(rule)
    assert {"config:PutEvaluations", "securityhub:BatchImportFindings"} <= actions
    assert all(":" in action and "*" not in action for action in actions)
    wildcard = [grant for grant in grants_for(rule) if grant.resource == "*"]
    assert all(grant.why for grant in wildcard)


def test_get_rule_names_the_known_rules() -> None:
    with pytest.raises(KeyError, match="lambda-dlq-check"):
        get_rule("lambda-nope")
