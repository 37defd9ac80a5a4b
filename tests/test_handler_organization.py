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
    scheduled_event,
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


def test_a_sweep_in_a_member_account_runs_entirely_as_the_assumed_role(
    clients: Clients, calls: CallLog
) -> None:
    # moto gap: GetComplianceDetailsByConfigRule is not implemented. The assumed-role clients
    # are created inside the invocation, out of a Stubber's reach, so a before-call hook on
    # the session answers it the way Stubber would (no earlier results).
    from botocore.awsrequest import AWSResponse

    def no_earlier_results(**_: Any) -> Any:
        return AWSResponse("https://config", 200, {}, None), {"EvaluationResults": []}

    clients.session.register(
        "before-call.config-service.GetComplianceDetailsByConfigRule", no_earlier_results
    )
    create_function("member-a", account=MEMBER)
    create_function("member-b", account=MEMBER)
    create_function("own-account-fn")  # must not be swept: it is not in the member account
    event = scheduled_event(account=MEMBER, parameters={"ExecutionRoleName": "Guardrails"})

    summary = run(event, clients, "lambda-inside-vpc")

    assert summary["evaluations"]["NON_COMPLIANT"] == 2
    assert len(calls.of("sts:AssumeRole")) == 1
    swept = {
        e["ComplianceResourceId"]
        for c in calls.of("config:PutEvaluations")
        for e in c["Evaluations"]
    }
    assert swept == {"member-a", "member-b"}
    assert {f["AwsAccountId"] for f in all_findings(MEMBER)} == {MEMBER}
    assert all_findings(ACCOUNT) == []
