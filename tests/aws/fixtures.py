"""Fixtures for the AWS edge and handler tests: moto, recorded botocore calls, sample events.

Loaded for every test through ``pytest_plugins`` in ``tests/conftest.py``.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from rules.aws.clients import ClientOptions, Clients, new_session
from rules.naming import config_rule_name

# moto's default account; the reference events' 111122223333 is rewritten to it on load, so that
# moto can tell accounts apart by credentials (MOTO_ACCOUNT_ID would pin every call to one).
ACCOUNT = "123456789012"
EVENTS_ACCOUNT = "111122223333"
MEMBER = "444455556666"
REGION = "us-east-1"
EVENTS = Path(__file__).parent.parent / "events"
SERVICE_LINKED = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
)
# configRuleName of the sample events in tests/events (one name for every rule).
SAMPLE_RULE_NAMES = frozenset({"lambda-baseline-checks", "lambda-baseline-checks-periodic"})
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
    }.items():
        monkeypatch.setenv(name, value)
    for name in (
        "MOTO_ACCOUNT_ID",
        "AWS_PROFILE",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_RETRY_MODE",
        "AWS_MAX_ATTEMPTS",
    ):
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
    return json.loads((EVENTS / name).read_text().replace(EVENTS_ACCOUNT, ACCOUNT))


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

    credentials = _credentials_in(account, "reader")
    client = boto3.client("securityhub", region_name=REGION, **credentials)
    pages = client.get_paginator("get_findings").paginate()
    return [finding for page in pages for finding in page["Findings"]]


def _zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def setup_clients(account: str = ACCOUNT) -> dict[str, Any]:
    """Unrecorded boto3 clients to arrange moto state in ``account``."""
    import boto3

    credentials = _credentials_in(account, "setup")
    return {
        name: boto3.client(name, region_name=REGION, **credentials)
        for name in ("lambda", "iam", "securityhub")
    }


def create_function(
    name: str,
    *,
    account: str = ACCOUNT,
    environment: dict[str, str] | None = None,
    kms_key_arn: str | None = None,
) -> str:
    setup = setup_clients(account)
    try:
        role = setup["iam"].create_role(
            RoleName="fn-role",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
    except setup["iam"].exceptions.EntityAlreadyExistsException:
        role = setup["iam"].get_role(RoleName="fn-role")["Role"]["Arn"]
    arguments: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": role,
        "Handler": "app.handler",
        "Code": {"ZipFile": _zip()},
    }
    if environment is not None:
        arguments["Environment"] = {"Variables": environment}
    if kms_key_arn:
        arguments["KMSKeyArn"] = kms_key_arn
    return str(setup["lambda"].create_function(**arguments)["FunctionArn"])


NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def run(
    event: dict[str, Any],
    clients: Clients,
    rule_id: str,
    *,
    export: bool = True,
    assume_event_role: bool = False,
) -> dict[str, Any]:
    from rules.handler import Settings, handle
    from rules.registry import get_rule

    settings = Settings(
        get_rule(rule_id),
        REGION,
        security_hub_export=export,
        assume_event_role=assume_event_role,
        max_attempts=3,
    )
    if isinstance(event, dict) and event.get("configRuleName") in SAMPLE_RULE_NAMES:
        # The sample events name one Config rule for every rule; Config sends each deployed
        # rule's own name, which findings' Ids and the sweep's compliance query use.
        event = {**event, "configRuleName": config_rule_name(rule_id)}
    return handle(event, settings=settings, clients=clients, now=NOW)


@pytest.fixture
def log_lines(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The handler's JSON log lines (the Powertools handler's stream, swapped for the test)."""
    import io

    from rules.observability import logger

    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    return lines


class RawBody:
    """A response body for botocore's ``AWSResponse``, for hooks that answer a call themselves
    (a throttled or rejected response that moto cannot be made to give)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data

    def read(self, *_: Any) -> bytes:
        return self._data


def _credentials_in(account: str, role: str) -> dict[str, str]:
    """boto3 client keyword arguments for ``role`` in ``account`` (none for the default one)."""
    if account == ACCOUNT:
        return {}
    import boto3

    assumed = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName=f"test-{role}"
    )["Credentials"]
    return {
        "aws_access_key_id": assumed["AccessKeyId"],
        "aws_secret_access_key": assumed["SecretAccessKey"],
        "aws_session_token": assumed["SessionToken"],
    }
