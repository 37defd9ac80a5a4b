"""The handler path of the issue 11 rules (rules-b) on moto, with Stubber where moto lacks the
API: ListFunctionUrlConfigs and the code signing APIs (not in moto 5.2.5), and
GetComplianceDetailsByConfigRule (the sweep's "evaluated before" query)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from rules.aws.clients import Clients
from rules.errors import GuardrailsError
from tests.aws.fixtures import (
    ACCOUNT,
    REGION,
    CallLog,
    all_findings,
    change_event,
    config_item,
    create_function,
    run,
    scheduled_event,
    setup_clients,
)

ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-api"
PROFILE = f"arn:aws:signer:{REGION}:{ACCOUNT}:/signing-profiles/Release/abcdef1234"
TESTMODE_PUT = {"Evaluations": ANY, "ResultToken": "TESTMODE", "TestMode": True}
# Distinctive fake values: none may appear in a log line, an error, a finding or a result.
SECRET_VALUES = {
    "DB_PASSWORD": "hunter2-ZQX-DISTINCTIVE-PASSWORD",
    "STRIPE": "sk_live_DISTINCTIVE9876543210abcd",
    "AWS_KEY": "AKIAZQXDISTINCTIVE12",
}


def _fresh(clients: Clients) -> Clients:
    return Clients(clients.session, clients.options)


def _findings(rule_id: str) -> dict[str, dict[str, Any]]:
    return {
        f["Resources"][0]["Id"].rsplit(":", 1)[-1]: f
        for f in all_findings()
        if f["GeneratorId"].endswith(rule_id)
    }


def test_url_rule_reads_every_page_of_urls(clients: Clients, calls: CallLog) -> None:
    """moto lacks ListFunctionUrlConfigs: Stubber answers it, in two pages."""
    create_function("orders-api")
    aws = _fresh(clients)
    with Stubber(aws.client("lambda")) as stub:
        stub.add_response(
            "list_function_url_configs",
            {"FunctionUrlConfigs": [_url(ARN, "AWS_IAM")], "NextMarker": "m1"},
            {"FunctionName": ARN},
        )
        stub.add_response(
            "list_function_url_configs",
            {"FunctionUrlConfigs": [_url(f"{ARN}:live", "NONE")]},
            {"FunctionName": ARN, "Marker": "m1"},
        )
        run(change_event(config_item()), aws, "lambda-function-url-auth-required")
        stub.assert_no_pending_responses()
    finding = _findings("lambda-function-url-auth-required")["orders-api"]
    assert finding["Compliance"]["Status"] == "FAILED"
    assert "alias 'live' (auth type NONE)" in finding["Description"]


def test_an_unreadable_url_list_is_no_verdict(clients: Clients, calls: CallLog) -> None:
    create_function("orders-api")
    aws = _fresh(clients)
    with Stubber(aws.client("lambda")) as stub:
        stub.add_client_error("list_function_url_configs", "AccessDeniedException")
        with pytest.raises(
            GuardrailsError, match="lambda:ListFunctionUrlConfigs"
        ):
            run(change_event(config_item()), aws, "lambda-function-url-auth-required")
    assert not calls.of("config:PutEvaluations")
    assert _findings("lambda-function-url-auth-required") == {}


def _url(arn: str, auth: str) -> dict[str, Any]:
    return {
        "FunctionUrl": "https://abc.lambda-url.us-east-1.on.aws/",
        "FunctionArn": arn,
        "AuthType": auth,
        "CreationTime": "2026-01-01T00:00:00Z",
        "LastModifiedTime": "2026-01-01T00:00:00Z",
    }


def test_code_signing_reads_the_attached_configuration(clients: Clients) -> None:
    """moto models no code signing: Stubber answers both reads."""
    create_function("orders-api")
    aws = _fresh(clients)
    csc = f"arn:aws:lambda:{REGION}:{ACCOUNT}:code-signing-config:csc-0123456789abcdef0"
    with Stubber(aws.client("lambda")) as stub:
        stub.add_response(
            "get_function_code_signing_config",
            {"CodeSigningConfigArn": csc, "FunctionName": "orders-api"},
            {"FunctionName": ARN},
        )
        stub.add_response(
            "get_code_signing_config",
            {
                "CodeSigningConfig": {
                    "CodeSigningConfigId": "csc-0123456789abcdef0",
                    "CodeSigningConfigArn": csc,
                    "AllowedPublishers": {"SigningProfileVersionArns": [PROFILE]},
                    "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Warn"},
                    "LastModified": "2026-01-01T00:00:00Z",
                }
            },
            {"CodeSigningConfigArn": csc},
        )
        run(change_event(config_item()), aws, "lambda-code-signing-enforced")
    finding = _findings("lambda-code-signing-enforced")["orders-api"]
    assert finding["Compliance"]["Status"] == "FAILED"
    assert "UntrustedArtifactOnDeployment Warn, not Enforce" in finding["Description"]


def test_secrets_are_found_and_no_value_leaves_memory(
    clients: Clients, log_lines: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """GetFunctionConfiguration (moto) returns the values; only names and kinds go anywhere."""
    create_function("orders-api", environment=SECRET_VALUES)
    summary = run(change_event(config_item()), _fresh(clients), "lambda-no-secrets-in-env-vars")
    finding = _findings("lambda-no-secrets-in-env-vars")["orders-api"]
    assert finding["Compliance"]["Status"] == "FAILED"
    for name in SECRET_VALUES:
        assert name in finding["Description"]
    out = capsys.readouterr()
    texts = [json.dumps(summary), json.dumps(all_findings()), json.dumps(log_lines())]
    texts += [out.out, out.err]
    for value in SECRET_VALUES.values():
        assert all(value not in text for text in texts), value


def test_undecryptable_variables_are_no_verdict(clients: Clients, calls: CallLog) -> None:
    create_function("orders-api")
    aws = _fresh(clients)
    denied = {
        "FunctionName": "orders-api",
        "FunctionArn": ARN,
        "Environment": {"Error": {"ErrorCode": "KMSAccessDeniedException", "Message": "denied"}},
    }
    with Stubber(aws.client("lambda")) as stub:
        stub.add_response("get_function_configuration", denied, {"FunctionName": ARN})
        with pytest.raises(GuardrailsError, match="KMSAccessDeniedException"):
            run(change_event(config_item()), aws, "lambda-no-secrets-in-env-vars")
    assert not calls.of("config:PutEvaluations")


def _role(name: str) -> str:
    iam = setup_clients()["iam"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    return str(
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    )


def test_unique_role_sweep_names_the_functions_sharing_a_role(clients: Clients) -> None:
    for name in ("orders-api", "orders-worker", "orders-cron"):
        create_function(name)  # all three use fn-role
    from tests.aws.fixtures import _zip

    setup_clients()["lambda"].create_function(
        FunctionName="billing",
        Runtime="python3.12",
        Role=_role("billing-role"),
        Handler="app.handler",
        Code={"ZipFile": _zip()},
    )
    aws = _fresh(clients)
    with Stubber(aws.client("config")) as stub:
        stub.add_response("describe_configuration_recorders", {"ConfigurationRecorders": []})
        stub.add_response("get_compliance_details_by_config_rule", {"EvaluationResults": []})
        stub.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        summary = run(scheduled_event(), aws, "lambda-unique-execution-role")
    assert summary["evaluations"] == {"COMPLIANT": 1, "NON_COMPLIANT": 3, "NOT_APPLICABLE": 0}
    findings = _findings("lambda-unique-execution-role")
    assert (
        "fn-role is shared with 2 other function(s) of the account and Region"
        in (findings["orders-api"]["Description"])
    )
    assert "orders-cron, orders-worker" in findings["orders-api"]["Description"]
    assert findings["billing"]["Compliance"]["Status"] == "PASSED"


def test_unique_role_ignores_change_events(clients: Clients, calls: CallLog) -> None:
    create_function("orders-api")
    summary = run(change_event(config_item()), _fresh(clients), "lambda-unique-execution-role")
    assert summary["evaluations"] == {"COMPLIANT": 0, "NON_COMPLIANT": 0, "NOT_APPLICABLE": 0}
    assert not calls.of("config:PutEvaluations") and not calls.of("lambda:ListFunctions")
