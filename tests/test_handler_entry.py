"""``lambda_handler`` as Lambda calls it: settings from the environment, clients per container."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import rules.handler as handler_module
from rules.handler import Settings, SettingsError, default_clients, lambda_handler
from tests.aws.fixtures import REGION, all_findings, change_event, config_item


@dataclass
class FakeContext:
    function_name: str = "guardrails-lambda-inside-vpc"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:guardrails-lambda-inside-vpc"
    )
    aws_request_id: str = "request-1"


@pytest.fixture
def fresh_container(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handler_module, "_own_clients", None)


def test_lambda_handler_evaluates_with_the_rule_from_rule_id(
    mocked: None, fresh_container: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RULE_ID", "lambda-inside-vpc")
    summary = lambda_handler(change_event(config_item()), FakeContext())
    assert summary["rule"] == "lambda-inside-vpc"
    assert summary["evaluations"]["COMPLIANT"] == 1
    [finding] = all_findings()
    assert finding["GeneratorId"] == "lambda-inside-vpc"
    # A second invocation in the same container reuses the clients.
    first = default_clients(Settings.from_environment())
    lambda_handler(change_event(config_item()), FakeContext())
    assert default_clients(Settings.from_environment()) is first


def test_an_unknown_rule_id_fails_every_invocation(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RULE_ID", "no-such-rule")
    with pytest.raises(SettingsError, match="no-such-rule"):
        lambda_handler(change_event(config_item()), FakeContext())


def test_settings_from_the_environment() -> None:
    settings = Settings.from_environment(
        {
            "RULE_ID": "lambda-dlq-check",
            "AWS_REGION": REGION,
            "SECURITY_HUB_EXPORT": "false",
            "AWS_RETRY_MODE": "adaptive",
            "AWS_MAX_ATTEMPTS": "5",
        }
    )
    assert settings.rule.id == "lambda-dlq-check"
    assert settings.security_hub_export is False
    assert settings.assume_event_role is False
    assert (settings.retry_mode, settings.max_attempts) == ("adaptive", 5)
    assert (
        Settings.from_environment(
            {"RULE_ID": "lambda-dlq-check", "AWS_REGION": REGION}
        ).security_hub_export
        is True
    )


def _modules_after(script: str, **env: str) -> list[str]:
    root = Path(__file__).resolve().parent.parent
    output = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": REGION, **env},
    ).stdout
    return list(json.loads(output.splitlines()[-1]))


def test_inside_lambda_the_handler_runs_traced() -> None:
    script = (
        "import json, sys\n"
        "from rules.observability import tracer, traced\n"
        "with traced('evaluate', rule_id='lambda-dlq-check'):\n"
        "    pass\n"
        "assert tracer() is not None\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'aws_xray_sdk')))\n"
    )
    assert _modules_after(script, AWS_LAMBDA_FUNCTION_NAME="guardrails") == ["aws_xray_sdk"]
    disabled = script.replace("is not None", "is None")
    assert (
        _modules_after(
            disabled, AWS_LAMBDA_FUNCTION_NAME="guardrails", POWERTOOLS_TRACE_DISABLED="true"
        )
        == []
    )


def test_outside_lambda_the_tracer_is_never_imported() -> None:
    """The X-Ray SDK costs ~225 ms at import; it must stay out of local runs and tests."""
    script = (
        "import json, sys\n"
        "import rules.handler\n"
        "from rules.observability import tracer\n"
        "assert tracer() is None\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('aws_xray_sdk'))))\n"
    )
    root = Path(__file__).resolve().parent.parent
    output = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": REGION},
    ).stdout
    assert json.loads(output) == []


def test_an_unknown_retry_mode_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="AWS_RETRY_MODE"):
        Settings.from_environment(
            {"RULE_ID": "lambda-dlq-check", "AWS_REGION": REGION, "AWS_RETRY_MODE": "legacy"}
        )
