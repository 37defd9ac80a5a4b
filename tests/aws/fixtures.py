"""Fixtures for the AWS edge and handler tests: moto, recorded botocore calls, sample events.

Loaded for every test through ``pytest_plugins`` in ``tests/conftest.py``.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from rules.aws.clients import ClientOptions, Clients, new_session

ACCOUNT = "111122223333"
MEMBER = "444455556666"
REGION = "us-east-1"
EVENTS = Path(__file__).parent.parent / "events"
SERVICE_LINKED = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
)
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@dataclass
class CallLog:
    """Every botocore API call with its parameters (a before-parameter-build hook on the session,
    so clients of assumed roles are recorded too, and stubbed calls as well)."""

    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, model: Any, params: Any, **_: Any) -> None:
        self.calls.append((model.service_model.signing_name, model.name, params))

    def counts(self) -> Counter[str]:
        return Counter(f"{service}:{operation}" for service, operation, _ in self.calls)

    def of(self, action: str) -> list[dict[str, Any]]:
        return [params for s, o, params in self.calls if f"{s}:{o}" == action]

    def actions(self) -> set[str]:
        return set(self.counts())


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "MOTO_ACCOUNT_ID": ACCOUNT,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_LAMBDA_FUNCTION_NAME", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def mocked(aws_env: None) -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def calls() -> CallLog:
    return CallLog()


@pytest.fixture
def clients(mocked: None, calls: CallLog) -> Clients:
    session = new_session()
    session.register("before-parameter-build.*.*", calls)
    return Clients(session, ClientOptions(REGION, max_attempts=3))


def load(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def config_item(name: str = "lambda_ci_compliant.json", **configuration: Any) -> dict[str, Any]:
    """A configuration item from tests/events with ``configuration`` keys replaced (None
    removes one)."""
    item: dict[str, Any] = copy.deepcopy(load(name))
    for key, value in configuration.items():
        if value is None:
            item["configuration"].pop(key, None)
        else:
            item["configuration"][key] = value
    return item


def _event(
    base: str,
    invoking: dict[str, Any],
    token: str,
    parameters: dict[str, str] | None,
    left_scope: bool,
) -> dict[str, Any]:
    event: dict[str, Any] = load(base)
    event.pop("ruleParameters", None)
    if parameters is not None:
        event["ruleParameters"] = json.dumps(parameters)
    event["invokingEvent"] = json.dumps(invoking)
    event["resultToken"] = token
    event["eventLeftScope"] = left_scope
    return event


def change_event(
    item: dict[str, Any],
    *,
    token: str = "TESTMODE",
    parameters: dict[str, str] | None = None,
    left_scope: bool = False,
) -> dict[str, Any]:
    invoking = json.loads(load("event_change.json")["invokingEvent"])
    invoking["configurationItem"] = item
    return _event("event_change.json", invoking, token, parameters, left_scope)


def oversized_event(
    *,
    resource_id: str = "orders-api",
    status: str = "OK",
    token: str = "TESTMODE",
    parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    invoking = json.loads(load("event_oversized.json")["invokingEvent"])
    summary = invoking["configurationItemSummary"]
    summary.update(
        resourceId=resource_id,
        resourceName=resource_id,
        configurationItemStatus=status,
        ARN=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{resource_id}",
    )
    return _event("event_oversized.json", invoking, token, parameters, False)


def scheduled_event(
    *,
    token: str = "TESTMODE",
    parameters: dict[str, str] | None = None,
    account: str = ACCOUNT,
) -> dict[str, Any]:
    invoking = json.loads(load("event_scheduled.json")["invokingEvent"])
    invoking["awsAccountId"] = account
    event = _event("event_scheduled.json", invoking, token, parameters, False)
    event["accountId"] = account
    return event


def all_findings(account: str = ACCOUNT) -> list[dict[str, Any]]:
    """What Security Hub holds in ``account`` (read outside the recorded session; moto ignores
    GetFindings filters, so callers filter)."""
    import boto3

    credentials: dict[str, str] = {}
    if account != ACCOUNT:
        assumed = boto3.client("sts", region_name=REGION).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/reader", RoleSessionName="test-reader"
        )["Credentials"]
        credentials = {
            "aws_access_key_id": assumed["AccessKeyId"],
            "aws_secret_access_key": assumed["SecretAccessKey"],
            "aws_session_token": assumed["SessionToken"],
        }
    client = boto3.client("securityhub", region_name=REGION, **credentials)
    pages = client.get_paginator("get_findings").paginate()
    return [finding for page in pages for finding in page["Findings"]]
