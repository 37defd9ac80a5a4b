"""Failures are loud: a structured log line, a metric, no COMPLIANT, and the invocation fails."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber

from rules.aws.clients import Clients
from rules.aws.errors import AccessDeniedError, PublishError
from rules.errors import InvalidInputError, InvalidParameterError
from rules.naming import config_rule_name
from tests.aws.fixtures import CallLog, RawBody, change_event, config_item, run

DLQ = "lambda-dlq-check"


def _metrics(captured: str) -> dict[str, Any]:
    """The metric values of the EMF blobs printed to stdout."""
    values: dict[str, Any] = {}
    for line in captured.splitlines():
        if line.startswith('{"_aws"'):
            blob = json.loads(line)
            for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                values[metric["Name"]] = blob[metric["Name"]]
            values["rule"] = blob.get("rule")
    return values


def _errors(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["level"] == "ERROR"]


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({"version": "1.0"}, "no invokingEvent"),
        ({"invokingEvent": "{not json", "resultToken": "TESTMODE"}, "not valid JSON"),
        ({"invokingEvent": json.dumps({"messageType": "Nope"})}, "unknown messageType"),
        (
            {
                "invokingEvent": json.dumps({"messageType": "ConfigurationItemChangeNotification"}),
                "resultToken": "TESTMODE",
            },
            "no configurationItem",
        ),
    ],
)
def test_a_malformed_event_is_logged_counted_and_fails_without_calls(
    clients: Clients,
    calls: CallLog,
    log_lines: Any,
    capsys: pytest.CaptureFixture[str],
    event: dict[str, Any],
    problem: str,
) -> None:
    with pytest.raises(InvalidInputError, match=problem):
        run(event, clients, DLQ)
    assert calls.calls == []
    [error] = _errors(log_lines())
    assert problem in error["problem"]
    assert error["rule_id"] == DLQ
    assert _metrics(capsys.readouterr().out)["InvalidInput"] == [1.0]


def test_an_event_without_result_token_fails(clients: Clients, calls: CallLog) -> None:
    event = change_event(config_item())
    del event["resultToken"]
    with pytest.raises(InvalidInputError, match="resultToken"):
        run(event, clients, DLQ)
    assert calls.calls == []


@pytest.mark.parametrize(
    ("parameters", "name"),
    [({"dlqArns": "not-an-arn"}, "dlqArns"), ({"Unknown": "x"}, "Unknown")],
)
def test_invalid_parameters_give_no_evaluation(
    clients: Clients,
    calls: CallLog,
    log_lines: Any,
    capsys: pytest.CaptureFixture[str],
    parameters: dict[str, str],
    name: str,
) -> None:
    with pytest.raises(InvalidParameterError):
        run(change_event(config_item(), parameters=parameters), clients, DLQ)
    assert calls.calls == []  # no evaluation at all, so none COMPLIANT
    [error] = _errors(log_lines())
    assert error["parameter"] == name
    assert error["resource_id"] == "orders-api"
    metrics = _metrics(capsys.readouterr().out)
    assert metrics["InvalidParameters"] == [1.0]
    assert metrics["rule"] == DLQ


def test_access_denied_names_the_action_and_the_role(
    clients: Clients, log_lines: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    role = "arn:aws:sts::123456789012:assumed-role/guardrails-dlq/fn"
    with Stubber(clients.client("securityhub")) as stub:
        stub.add_client_error(
            "batch_import_findings",
            service_error_code="AccessDeniedException",
            service_message=f"User: {role} is not authorized to perform: "
            "securityhub:BatchImportFindings on resource: product/123456789012/default",
            http_status_code=403,
        )
        with pytest.raises(AccessDeniedError) as raised:
            run(change_event(config_item()), clients, DLQ)
    assert raised.value.action == "securityhub:BatchImportFindings"
    assert raised.value.principal == role
    [error] = _errors(log_lines())
    assert error["action"] == "securityhub:BatchImportFindings"
    assert error["principal"] == role
    assert _metrics(capsys.readouterr().out)["AccessDenied"] == [1.0]


def test_access_denied_without_details_names_the_operation_and_the_function_role(
    clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "guardrails-dlq")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    own = Clients(clients.session, clients.options)  # principal read from the environment
    with Stubber(own.client("config")) as stub:
        stub.add_client_error(
            "put_evaluations", service_error_code="AccessDeniedException", http_status_code=400
        )
        with pytest.raises(AccessDeniedError) as raised:
            run(change_event(config_item()), own, DLQ)
    assert raised.value.action == "config:PutEvaluations"
    assert "guardrails-dlq" in raised.value.principal
    assert "config:PutEvaluations" in str(raised.value)


def test_findings_that_keep_failing_fail_the_invocation_after_config_got_its_evaluation(
    clients: Clients, calls: CallLog, capsys: pytest.CaptureFixture[str]
) -> None:
    securityhub = clients.client("securityhub")
    failed = {"FailedCount": 1, "SuccessCount": 0}
    with Stubber(securityhub) as stub:
        for _ in range(3):
            stub.add_response(
                "batch_import_findings",
                {
                    **failed,
                    "FailedFindings": [
                        {"Id": _finding_id(), "ErrorCode": "Limit", "ErrorMessage": "x"}
                    ],
                },
            )
        with pytest.raises(PublishError, match="1 findings rejected"):
            run(change_event(config_item()), clients, DLQ)
    assert calls.counts()["config:PutEvaluations"] == 1
    assert calls.counts()["securityhub:BatchImportFindings"] == 3
    metrics = _metrics(capsys.readouterr().out)
    assert metrics["FindingsFailed"] == [1.0]


def _finding_id() -> str:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:orders-api"
    return f"lambda-guardrails/{config_rule_name(DLQ)}/{arn}"


def test_a_denied_assume_role_names_sts_and_the_member_role(clients: Clients) -> None:
    member_role = "arn:aws:iam::444455556666:role/GuardrailsEvaluation"
    with Stubber(clients.client("sts")) as stub:
        stub.add_client_error(
            "assume_role",
            service_error_code="AccessDenied",
            service_message="User: arn:aws:sts::123456789012:assumed-role/guardrails/fn is not "
            f"authorized to perform: sts:AssumeRole on resource: {member_role}",
            http_status_code=403,
        )
        event = change_event(
            config_item(), parameters={"ExecutionRoleName": "GuardrailsEvaluation"}
        )
        with pytest.raises(AccessDeniedError) as raised:
            run(event, clients, DLQ)
    assert raised.value.action == "sts:AssumeRole"
    assert raised.value.principal == "arn:aws:sts::123456789012:assumed-role/guardrails/fn"


def test_a_throttled_put_evaluations_is_retried_by_botocore(
    clients: Clients, calls: CallLog
) -> None:
    attempts: list[int] = []

    def throttle_once(request: Any, **_: Any) -> Any:
        attempts.append(1)
        if len(attempts) > 1:
            return None
        from botocore.awsrequest import AWSResponse

        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
        return AWSResponse(request.url, 400, {}, RawBody(body))

    clients.client("config").meta.events.register_first(
        "before-send.config-service.PutEvaluations", throttle_once
    )
    run(change_event(config_item()), clients, DLQ)
    assert len(attempts) == 2  # one throttled attempt, one accepted by moto
    assert calls.counts()["config:PutEvaluations"] == 1


def test_evaluations_config_keeps_rejecting_fail_the_invocation_before_any_finding(
    clients: Clients, calls: CallLog, capsys: pytest.CaptureFixture[str]
) -> None:
    # moto gap: PutEvaluations without TestMode is not implemented -> Stubber.
    rejected = {
        "ComplianceResourceType": "AWS::Lambda::Function",
        "ComplianceResourceId": "orders-api",
        "ComplianceType": "COMPLIANT",
        "OrderingTimestamp": "2025-06-02T09:16:41.517Z",
    }
    with Stubber(clients.client("config")) as stub:
        for _ in range(3):
            stub.add_response("put_evaluations", {"FailedEvaluations": [rejected]})
        with pytest.raises(PublishError, match="1 evaluations rejected"):
            run(change_event(config_item(), token="real-token"), clients, DLQ)
    assert "securityhub:BatchImportFindings" not in calls.counts()
    assert _metrics(capsys.readouterr().out)["EvaluationsFailed"] == [1.0]


CONCURRENCY = "lambda-concurrency-check"


@pytest.mark.parametrize(
    ("rule_parameters", "name", "reason"),
    [
        ("{not json", "ruleParameters", "not valid JSON"),
        ('["ConcurrencyLimitLow"]', "ruleParameters", "not a JSON object (it is a JSON array)"),
        ("5", "ruleParameters", "not a JSON object (it is a JSON number)"),
        ('{"ConcurrencyLimitLow": NaN}', "ruleParameters", "NaN is not a JSON value"),
        ('{"ConcurrencyLimitLow": ' + "1" * 5000 + "}", "ruleParameters", "5000 digits"),
        ('{"ConcurrencyLimitLow": ' + "[" * 5000, "ruleParameters", "nested too deeply"),
        (json.dumps({"ConcurrencyLimitLow": True}), "ConcurrencyLimitLow", "boolean"),
        (json.dumps({"ConcurrencyLimitLow": {"n": 1}}), "ConcurrencyLimitLow", "an integer"),
        (json.dumps({"ConcurrencyLimitLow": "1" * 5000}), "ConcurrencyLimitLow", "10 digits"),
        (json.dumps({"ConcurrencyLimitLow": "\u0665"}), "ConcurrencyLimitLow", "ASCII digits"),
        (json.dumps({"ConcurrencyLimitLow": 10**12}), "ConcurrencyLimitLow", "10 digits"),
    ],
    ids=[
        "not-json",
        "array",
        "number",
        "nan",
        "long-json-integer",
        "deep-json",
        "boolean-value",
        "object-value",
        "long-integer-text",
        "arabic-indic-digit",
        "large-json-number",
    ],
)
def test_every_invalid_parameter_path_is_counted_as_invalid_parameters(
    clients: Clients,
    calls: CallLog,
    log_lines: Any,
    capsys: pytest.CaptureFixture[str],
    rule_parameters: str,
    name: str,
    reason: str,
) -> None:
    event = change_event(config_item())
    event["ruleParameters"] = rule_parameters
    with pytest.raises(InvalidParameterError) as raised:
        run(event, clients, CONCURRENCY)
    assert raised.value.name == name
    assert reason in raised.value.reason
    assert calls.calls == []  # no evaluation, so none COMPLIANT
    [error] = _errors(log_lines())
    assert error["message"] == "invalid rule parameters"
    assert error["parameter"] == name
    metrics = _metrics(capsys.readouterr().out)
    assert metrics["InvalidParameters"] == [1.0]
    assert "InvalidInput" not in metrics and "Errors" not in metrics
