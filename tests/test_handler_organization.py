"""Organization mode: reads, PutEvaluations and BatchImportFindings run as a role in the
function's account, assumed once per invocation through the regional STS endpoint."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from rules.aws.clients import Clients
from rules.errors import InvalidInputError
from tests.aws.fixtures import (
    ACCOUNT,
    MEMBER,
    REGION,
    CallLog,
    all_findings,
    change_event,
    config_item,
    create_function,
    run,
)

ENV_CMK = "lambda-env-vars-cmk-encrypted"


def _member_item() -> dict[str, Any]:
    item = copy.deepcopy(config_item("lambda_ci_noncompliant.json"))
    arn = f"arn:aws:lambda:{REGION}:{MEMBER}:function:orders-api"
    item.update(awsAccountId=MEMBER, ARN=arn)
    item["configuration"]["functionArn"] = arn
    return item


def test_execution_role_name_is_assumed_once_in_the_function_account(
    clients: Clients, calls: CallLog
) -> None:
    urls: list[str] = []
    clients.session.register(
        "before-send.sts.AssumeRole", lambda request, **_: urls.append(request.url)
    )
    create_function("orders-api", account=MEMBER, environment={"TOKEN": "value"})
    event = change_event(_member_item(), parameters={"ExecutionRoleName": "GuardrailsEvaluation"})

    run(event, clients, ENV_CMK)

    [assume] = calls.of("sts:AssumeRole")
    assert assume["RoleArn"] == f"arn:aws:iam::{MEMBER}:role/GuardrailsEvaluation"
    assert assume["DurationSeconds"] == 900
    assert urls == [f"https://sts.{REGION}.amazonaws.com/"]  # regional, not global
    counts = calls.counts()
    # The read found the function, which exists only in the member account.
    assert counts["lambda:GetFunctionConfiguration"] == 1
    evaluation = calls.of("config:PutEvaluations")[0]["Evaluations"][0]
    assert evaluation["ComplianceType"] == "NON_COMPLIANT"
    [finding] = all_findings(MEMBER)
    assert finding["AwsAccountId"] == MEMBER
    assert finding["ProductArn"] == (
        f"arn:aws:securityhub:{REGION}:{MEMBER}:product/{MEMBER}/default"
    )
    assert all_findings(ACCOUNT) == []


def test_without_a_role_the_function_own_credentials_are_used(
    clients: Clients, calls: CallLog
) -> None:
    run(change_event(config_item()), clients, "lambda-dlq-check")
    assert "sts:AssumeRole" not in calls.counts()


def test_the_event_execution_role_is_assumed_when_enabled(clients: Clients, calls: CallLog) -> None:
    event = change_event(_member_item())
    event["executionRoleArn"] = f"arn:aws:iam::{MEMBER}:role/config-org-member"
    run(event, clients, "lambda-dlq-check", assume_event_role=True)
    assert calls.of("sts:AssumeRole")[0]["RoleArn"] == event["executionRoleArn"]
    assert len(all_findings(MEMBER)) == 1


def test_the_config_service_linked_role_is_never_assumed(clients: Clients, calls: CallLog) -> None:
    event = change_event(config_item())  # executionRoleArn is AWSServiceRoleForConfig
    with pytest.raises(InvalidInputError, match="service-linked"):
        run(event, clients, "lambda-dlq-check", assume_event_role=True)
    assert calls.calls == []
