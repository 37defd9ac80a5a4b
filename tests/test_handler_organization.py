"""Organization mode: reads, PutEvaluations and BatchImportFindings run as a role in the
function's account, assumed once per invocation through the regional STS endpoint."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
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


def _organization_member() -> str:
    """An organization (moto's default account as management / delegated administrator) with a
    member account created through Organizations: its id, as moto assigns it."""
    import boto3

    organizations = boto3.client("organizations", region_name=REGION)
    organizations.create_organization(FeatureSet="ALL")
    request = organizations.create_account(AccountName="workload-b", Email="b@example.com")
    status = organizations.describe_create_account_status(
        CreateAccountRequestId=request["CreateAccountStatus"]["Id"]
    )["CreateAccountStatus"]
    assert status["State"] == "SUCCEEDED"
    member: str = status["AccountId"]
    assert member in {a["Id"] for a in organizations.list_accounts()["Accounts"]}
    return member


def _member_role(account: str, name: str) -> None:
    """The member role as the StackSet deploys it (trusting the admin account's function roles
    within the organization; moto does not evaluate trust, the test names the intent)."""
    import boto3

    from tests.aws.fixtures import _credentials_in

    iam = boto3.client("iam", region_name=REGION, **_credentials_in(account, "setup"))
    iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": "sts:AssumeRole",
                        "Condition": {
                            "ArnEquals": {
                                "aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/central"
                            }
                        },
                    }
                ],
            }
        ),
    )


@dataclass
class SigningKeys:
    """Which access key signed each call (the Authorization header botocore sends), and which
    account each assumed role's key belongs to (from AssumeRole's own answer): moto keeps
    nothing of PutEvaluations, so the caller's account is read off the signature."""

    signed: list[tuple[str, str]] = field(default_factory=list)  # (service:operation, key)
    assumed: dict[str, str] = field(default_factory=dict)  # access key -> role account

    def before_send(self, request: Any, event_name: str, **_: Any) -> None:
        header = request.headers.get("Authorization", b"")
        text = header.decode() if isinstance(header, bytes) else str(header)
        found = re.search(r"Credential=([A-Z0-9]+)/", text)
        # before-send.<service>.<Operation>
        _, service, operation = event_name.split(".", 2)
        self.signed.append((f"{service}:{operation}", found.group(1) if found else ""))

    def after_assume(self, parsed: Any, params: Any = None, **_: Any) -> None:
        credentials = parsed.get("Credentials") or {}
        role = parsed.get("AssumedRoleUser", {}).get("Arn", "")
        if credentials:
            self.assumed[credentials["AccessKeyId"]] = role.split(":")[4]

    def accounts_of(self, operation: str) -> list[str]:
        return [
            self.assumed.get(key, "own credentials")
            for signed, key in self.signed
            if signed.endswith(operation)
        ]


def test_an_event_from_member_b_is_evaluated_and_reported_in_b(
    clients: Clients, calls: CallLog
) -> None:
    member = _organization_member()
    role_name = "guardrails-member"
    _member_role(member, role_name)
    create_function("orders-api", account=member, environment={"TOKEN": "value"})
    keys = SigningKeys()
    clients.session.register("before-send.*.*", keys.before_send)
    clients.session.register("after-call.sts.AssumeRole", keys.after_assume)
    item = copy.deepcopy(config_item("lambda_ci_noncompliant.json"))
    arn = f"arn:aws:lambda:{REGION}:{member}:function:orders-api"
    item.update(awsAccountId=member, ARN=arn)
    item["configuration"]["functionArn"] = arn
    event = change_event(item, parameters={"ExecutionRoleName": role_name})
    # Config in B names B's copy of the organization rule and B's account.
    event["accountId"] = member
    event["configRuleName"] = "OrgConfigRule-guardrails-lambda-env-vars-cmk-encrypted-a1b2c3d4"
    event["configRuleArn"] = (
        f"arn:aws:config:{REGION}:{member}:config-rule/aws-service-rule/"
        "config-multiaccountsetup.amazonaws.com/config-rule-a1b2c3"
    )

    summary = run(event, clients, ENV_CMK)

    assert summary["evaluations"]["NON_COMPLIANT"] == 1
    [assume] = calls.of("sts:AssumeRole")
    assert assume["RoleArn"] == f"arn:aws:iam::{member}:role/{role_name}"
    # Every read and both writes were signed with B's assumed-role key, none with our own.
    assert keys.accounts_of("config-service:PutEvaluations") == [member]
    assert keys.accounts_of("securityhub:BatchImportFindings") == [member]
    assert keys.accounts_of("lambda:GetFunctionConfiguration") == [member]
    assert set(keys.assumed.values()) == {member}
    # Our own credentials only asked STS for B's role.
    assert [op for op, key in keys.signed if key not in keys.assumed] == ["sts:AssumeRole"]
    [evaluation] = calls.of("config:PutEvaluations")[0]["Evaluations"]
    assert evaluation["ComplianceResourceId"] == "orders-api"
    # The finding lives in B, named after B's rule; the admin account holds none.
    [finding] = all_findings(member)
    assert finding["AwsAccountId"] == member
    assert finding["ProductArn"] == (
        f"arn:aws:securityhub:{REGION}:{member}:product/{member}/default"
    )
    assert all_findings(ACCOUNT) == []
