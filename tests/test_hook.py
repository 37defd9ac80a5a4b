"""The deployment hook answers CloudFormation's sample requests (tests/events/hook_*.json) as
the rules would judge the resource, in both modes; anything that stops a verdict answers
InternalFailure."""

from __future__ import annotations

import copy
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rules.adapters.hook_request import MESSAGE_LIMIT, fit
from rules.hook import (
    MODE_VARIABLE,
    PARAMETERS_VARIABLE,
    RULES_VARIABLE,
    handle,
    lambda_handler,
)
from rules.observability import logger
from rules.registry import RULES

EVENTS = Path(__file__).parent / "events"
# The stack's default (enabledRules all): the rules on by default.
ALL_RULES = ",".join(rule.id for rule in RULES if rule.enabled_by_default)
URL_RULE = "lambda-function-url-auth-required"
HOOK_ARN = "arn:aws:lambda:eu-west-1:111122223333:function:LambdaGuardrails-DeploymentHook-1"
PUBLIC = "lambda-function-public-access-prohibited"


def request(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"hook_{name}.json").read_text())
    return loaded


def environment(
    mode: str = "fail", rules: str = ALL_RULES, parameters: str = "{}"
) -> dict[str, str]:
    return {
        RULES_VARIABLE: rules,
        PARAMETERS_VARIABLE: parameters,
        MODE_VARIABLE: mode,
        "AWS_REGION": "eu-west-1",
    }


def answer(event: Any, mode: str = "fail", **env: str) -> dict[str, Any]:
    return handle(event, env=environment(mode, **env), invoked_arn=HOOK_ARN)


@pytest.fixture(params=["fail", "warn"])
def mode(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


def test_a_compliant_function_succeeds(mode: str) -> None:
    result = answer(request("function_compliant"), mode)
    assert result == {
        "hookStatus": "SUCCESS",
        "clientRequestToken": "a1b2c3d4-0001-4e5f-8a9b-111111111111",
        "message": result["message"],
    }
    # Every function-level rule judged it; the public-access rule judges permissions and URLs.
    for rule in RULES:
        judged = rule.enabled_by_default and rule.id not in (PUBLIC, URL_RULE)
        assert (rule.id in result["message"]) is judged


def test_a_function_without_a_dead_letter_queue_fails_non_compliant(mode: str) -> None:
    result = answer(request("function_no_dlq"), mode)
    assert result["hookStatus"] == "FAILED"
    assert result["errorCode"] == "NonCompliant"
    assert result["clientRequestToken"] == "a1b2c3d4-0002-4e5f-8a9b-222222222222"
    assert "lambda-dlq-check: no dead-letter queue is configured" in result["message"]
    assert "OrdersHandler" in result["message"]
    # The mode is said: CloudFormation blocks (FAIL) or only warns (WARN) on the same answer.
    if mode == "fail":
        assert "blocks" in result["message"]
    else:
        assert "deploymentHook=warn, not blocked" in result["message"]


def test_a_public_permission_fails_with_the_public_access_annotation(mode: str) -> None:
    result = answer(request("permission_public"), mode)
    assert (result["hookStatus"], result["errorCode"]) == ("FAILED", "NonCompliant")
    assert f"{PUBLIC}: AnyoneMayInvoke (AWS::Lambda::Permission on arn:" in result["message"]
    assert "not among the resources read, so this grant is judged alone" in result["message"]
    assert (
        "statement 'AnyoneMayInvoke' allows Principal '*' lambda:InvokeFunction without a condition"
    ) in result["message"]


def test_a_permission_pinned_to_the_source_succeeds() -> None:
    result = answer(request("permission_restricted"))
    assert result["hookStatus"] == "SUCCESS"
    assert PUBLIC in result["message"]


def test_a_function_url_with_auth_type_none_fails(mode: str) -> None:
    result = answer(request("url_auth_none"), mode)
    assert (result["hookStatus"], result["errorCode"]) == ("FAILED", "NonCompliant")
    assert "AuthType NONE" in result["message"]
    assert "lambda:InvokeFunctionUrl" in result["message"]


def test_a_function_url_with_iam_auth_succeeds() -> None:
    assert answer(request("url_auth_iam"))["hookStatus"] == "SUCCESS"


def test_cloud_control_requests_without_a_stack_are_judged() -> None:
    result = answer(request("cloud_control_function_no_concurrency"))
    assert (result["hookStatus"], result["errorCode"]) == ("FAILED", "NonCompliant")
    assert "lambda-concurrency-check: no reserved concurrency is set" in result["message"]


def test_a_malformed_request_is_an_internal_failure(mode: str) -> None:
    result = answer(request("malformed_no_request_data"), mode)
    assert result == {
        "hookStatus": "FAILED",
        "errorCode": "InternalFailure",
        "clientRequestToken": "a1b2c3d4-0009-4e5f-8a9b-999999999999",
        "message": result["message"],
    }
    assert "requestData" in result["message"]


def broken(mutate: str) -> Any:
    event = request("function_compliant")
    if mutate == "not an object":
        return ["not", "a", "request"]
    if mutate == "no token":
        del event["clientRequestToken"]
    elif mutate == "bad account":
        event["awsAccountId"] = "me"
    elif mutate == "bad invocation point":
        event["actionInvocationPoint"] = "POST_PROVISION"
    elif mutate == "no target model":
        del event["requestData"]["targetModel"]
    elif mutate == "properties not an object":
        event["requestData"]["targetModel"]["resourceProperties"] = "FunctionName=x"
    elif mutate == "url without auth type":
        event = request("url_auth_none")
        del event["requestData"]["targetModel"]["resourceProperties"]["AuthType"]
    return event


@pytest.mark.parametrize(
    "mutate",
    [
        "not an object",
        "no token",
        "bad account",
        "bad invocation point",
        "no target model",
        "properties not an object",
        "url without auth type",
    ],
)
def test_a_request_that_cannot_be_read_never_succeeds(mutate: str) -> None:
    result = answer(broken(mutate))
    assert (result["hookStatus"], result["errorCode"]) == ("FAILED", "InternalFailure")


@pytest.mark.parametrize(
    "env",
    [
        {"rules": ""},
        {"rules": "no-such-rule"},
        {"parameters": "not json"},
        {"parameters": '{"lambda-concurrency-check": {"NoSuchParameter": "1"}}'},
        {"parameters": '{"lambda-concurrency-check": {"ConcurrencyLimitLow": "ten"}}'},
    ],
)
def test_settings_the_hook_cannot_read_are_an_internal_failure(env: dict[str, str]) -> None:
    result = answer(request("function_compliant"), **env)
    assert (result["hookStatus"], result["errorCode"]) == ("FAILED", "InternalFailure")


def test_an_unknown_mode_is_an_internal_failure() -> None:
    result = answer(request("function_compliant"), mode="audit")
    assert (result["hookStatus"], result["errorCode"]) == ("FAILED", "InternalFailure")
    assert MODE_VARIABLE in result["message"]


def test_an_exception_inside_a_check_is_an_internal_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def explode(*_: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr("rules.hook.evaluate_template", explode)
    result = answer(request("function_compliant"))
    assert (result["hookStatus"], result["errorCode"]) == ("FAILED", "InternalFailure")
    assert "RuntimeError: a bug" in result["message"]


def test_rule_parameters_from_the_environment_are_honoured() -> None:
    # The sample reserves 10: within no bounds it passes, above a high bound of 5 it fails.
    limits = json.dumps({"lambda-concurrency-check": {"ConcurrencyLimitHigh": "5"}})
    result = answer(request("function_compliant"), parameters=limits)
    assert result["hookStatus"] == "FAILED"
    assert "reserved concurrency 10 is above ConcurrencyLimitHigh 5" in result["message"]
    subnets = json.dumps({"lambda-inside-vpc": {"subnetIds": "subnet-0123456789abcdef9"}})
    result = answer(request("function_compliant"), parameters=subnets)
    assert "not in subnetIds" in result["message"]


def test_only_enabled_rules_judge() -> None:
    # Without the DLQ rule, the function without a DLQ passes.
    others = ",".join(
        rule.id for rule in RULES if rule.enabled_by_default and rule.id != "lambda-dlq-check"
    )
    assert answer(request("function_no_dlq"), rules=others)["hookStatus"] == "SUCCESS"
    # Without the public-access rule, no rule judges a permission: nothing to fail on.
    result = answer(request("permission_public"), rules="lambda-dlq-check")
    assert result["hookStatus"] == "SUCCESS"
    assert "not judged" in result["message"]


def test_a_deletion_is_not_gated_and_an_unknown_type_is_not_judged() -> None:
    event = request("function_no_dlq")
    event["actionInvocationPoint"] = "DELETE_PRE_PROVISION"
    assert answer(event)["hookStatus"] == "SUCCESS"
    event = request("function_no_dlq")
    event["requestData"]["targetType"] = event["requestData"]["targetName"] = "AWS::S3::Bucket"
    result = answer(event)
    assert result["hookStatus"] == "SUCCESS"
    assert "not judged" in result["message"]


def test_an_unresolved_value_that_decides_is_non_compliant_and_named() -> None:
    event = request("function_compliant")
    properties = event["requestData"]["targetModel"]["resourceProperties"]
    properties["DeadLetterConfig"] = {"TargetArn": {"Fn::ImportValue": "shared-dlq"}}
    # A key the template may leave out decides the CMK rule: taken at its worst (no key),
    # non-compliant, the value named (the adapter's semantics, as in the pack).
    properties["KmsKeyArn"] = {
        "Fn::If": ["UseKey", {"Ref": "KeyParameter"}, {"Ref": "AWS::NoValue"}]
    }
    result = answer(event)
    # A DLQ given by an import is set (the adapter's "known to be set")...
    assert "lambda-dlq-check" not in result["message"].split("failed:", 1)[-1]
    assert result["hookStatus"] == "FAILED"
    assert "lambda-env-vars-cmk-encrypted" in result["message"]
    assert "decided by value(s) known only at deploy time" in result["message"]
    assert "KmsKeyArn" in result["message"]
    url = request("url_auth_none")
    url["requestData"]["targetModel"]["resourceProperties"]["AuthType"] = {"Ref": "AuthParam"}
    result = answer(url)
    assert (result["hookStatus"], result["errorCode"]) == ("FAILED", "NonCompliant")
    assert "Ref AuthParam" in result["message"]


def test_a_long_message_is_cut_within_aws_limit_and_says_so() -> None:
    cut = fit("x" * 5000)
    assert len(cut) == MESSAGE_LIMIT
    assert cut.endswith("more characters)")
    many = request("permission_public")
    # Every statement is named in the message; a very long logical id makes it long.
    many["requestData"]["targetLogicalId"] = "P" * 2000
    result = answer(many)
    assert len(result["message"]) <= MESSAGE_LIMIT
    assert result["errorCode"] == "NonCompliant"


SECRETS = (
    "hunter2-Xq9!zz-DISTINCTIVE-PASSWORD",
    "tok_live_7F3kQ9DISTINCTIVETOKEN",
    "old-Secret-Value-PREVIOUS-DISTINCTIVE",
)


@dataclass
class FakeContext:
    function_name: str = "LambdaGuardrails-DeploymentHook-1"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = HOOK_ARN
    aws_request_id: str = "request-1"


def test_environment_variable_values_never_reach_logs_or_answers(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The Powertools handler writes to the stdout it was created with: capture its stream.
    logs = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(logs)
    try:
        _run_with_secrets(capsys, monkeypatch, logs)
    finally:
        handler.setStream(previous)


def _run_with_secrets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, logs: io.StringIO
) -> None:
    for key, value in environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    event = request("function_secret_env")
    answers = [lambda_handler(copy.deepcopy(event), FakeContext())]
    # The same values on the error path: an exception quoting a value is scrubbed too.
    bad = copy.deepcopy(event)
    bad["awsAccountId"] = SECRETS[0]
    answers.append(lambda_handler(bad, FakeContext()))
    monkeypatch.setattr(
        "rules.hook.evaluate_template",
        lambda *_: (_ for _ in ()).throw(ValueError(f"cannot read {SECRETS[1]}")),
    )
    answers.append(lambda_handler(copy.deepcopy(event), FakeContext()))
    out = capsys.readouterr()
    text = logs.getvalue() + out.out + out.err + json.dumps(answers)
    assert answers[0]["errorCode"] == "NonCompliant"
    assert "2 environment variable(s)" in answers[0]["message"]
    assert [a["errorCode"] for a in answers[1:]] == ["InternalFailure", "InternalFailure"]
    # The log lines were written, with the variables' count but no value.
    assert '"message":"non-compliant"' in logs.getvalue()
    assert logs.getvalue().count('"message":"no verdict"') == 2
    for secret in SECRETS:
        assert secret not in text
