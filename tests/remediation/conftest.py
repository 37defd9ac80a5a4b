"""Fixtures for the runbook scripts under moto, and the gaps moto has that they need filled.

moto 5.2.5 gaps, filled here and named where they are used:
- ``UpdateFunctionConfiguration`` ignores ``KMSKeyArn`` and ``DeadLetterConfig``, and
  ``GetFunctionConfiguration`` never returns ``DeadLetterConfig``: ``moto_lambda_config``
  patches moto's function model to keep and return both.
- ``GetAccountSettings`` (Lambda) and ``SimulatePrincipalPolicy`` (IAM) are not implemented:
  ``answer`` gives one canned response to that one operation (a botocore ``before-call`` hook,
  as Stubber does), while every other call still goes to moto.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from rules.aws.clients import Clients
from rules.remediation.runbooks import DEAD_LETTER_SEND, DEFAULT_QUEUE_NAME_PREFIX
from tests.aws.fixtures import ACCOUNT, REGION, setup_clients

ROLE_NAME = "fn-role"


@pytest.fixture(autouse=True)
def moto_lambda_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from moto.awslambda.models import LambdaFunction

    original_update = LambdaFunction.update_configuration
    original_get = LambdaFunction.get_configuration

    def update(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "KMSKeyArn" in config_updates:
            self.kms_key_arn = config_updates["KMSKeyArn"] or None
        if "DeadLetterConfig" in config_updates:
            self.guardrails_dead_letter = config_updates["DeadLetterConfig"]
        return original_update(self, config_updates)

    def get(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        configuration = original_get(self, *args, **kwargs)
        dead_letter = getattr(self, "guardrails_dead_letter", None)
        if dead_letter and dead_letter.get("TargetArn"):
            configuration["DeadLetterConfig"] = dead_letter
        return configuration

    monkeypatch.setattr(LambdaFunction, "update_configuration", update)
    monkeypatch.setattr(LambdaFunction, "get_configuration", get)
    yield


def answer(clients: Clients, service: str, operation: str, response: dict[str, Any]) -> None:
    """Answer ``service``'s ``operation`` with ``response`` (for operations moto lacks). Must be
    called before ``clients`` creates that service's client."""

    def reply(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://stubbed", 200, {}, None), response

    clients.session.register(f"before-call.{service}.{operation}", reply)


def unreserved(clients: Clients, count: int) -> None:
    """GetAccountSettings (moto lacks it) answering ``count`` unreserved executions."""
    answer(
        clients,
        "lambda",
        "GetAccountSettings",
        {
            "AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": count},
            "AccountUsage": {"FunctionCount": 1},
        },
    )


def simulated(clients: Clients, decision: str, actions: tuple[str, ...] = ("kms:Decrypt",)) -> None:
    """SimulatePrincipalPolicy (moto lacks it) answering ``decision`` for each of ``actions``."""
    answer(
        clients,
        "iam",
        "SimulatePrincipalPolicy",
        {
            "EvaluationResults": [
                {"EvalActionName": action, "EvalDecision": decision} for action in actions
            ],
            "IsTruncated": False,
        },
    )


def render(template: str, queue_prefix: str = DEFAULT_QUEUE_NAME_PREFIX) -> str:
    """A registry template (resource, condition value, policy name) as this test account's."""
    return template.format(
        partition="aws", region=REGION, account=ACCOUNT, queue_prefix=queue_prefix
    )


def send_policy(queue_prefix: str = DEFAULT_QUEUE_NAME_PREFIX) -> str:
    """The stack's dead-letter send policy (``DEAD_LETTER_SEND``) as the stack creates it."""
    iam = setup_clients()["iam"]
    name = render(DEAD_LETTER_SEND.name, queue_prefix)
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": list(grant.actions),
                "Resource": render(grant.resource, queue_prefix),
            }
            for grant in DEAD_LETTER_SEND.grants
        ],
    }
    try:
        created = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))
    except iam.exceptions.EntityAlreadyExistsException:
        return render(DEAD_LETTER_SEND.arn, queue_prefix)
    return str(created["Policy"]["Arn"])


def dlq_events(function: str, **parameters: Any) -> dict[str, Any]:
    """``events`` with what the deployed DLQ document defaults to: the send policy's ARN."""
    return events(function, **({DEAD_LETTER_SEND.parameter: send_policy()} | parameters))


def events(function: str, **parameters: Any) -> dict[str, Any]:
    """The InputPayload SSM passes: DryRun false unless given, like automatic remediation."""
    return {"FunctionName": function, "DryRun": False} | parameters


def tag(function_arn: str, **tags: str) -> None:
    setup_clients()["lambda"].tag_resource(Resource=function_arn, Tags=tags)


def add_permission(function: str, sid: str, principal: str = "*", **extra: Any) -> None:
    setup_clients()["lambda"].add_permission(
        FunctionName=function,
        StatementId=sid,
        Action=extra.pop("Action", "lambda:InvokeFunction"),
        Principal=principal,
        **extra,
    )


def statement_ids(function: str, qualifier: str | None = None) -> list[str]:
    arguments = {"FunctionName": function} | ({"Qualifier": qualifier} if qualifier else {})
    lambda_client = setup_clients()["lambda"]
    try:
        policy = lambda_client.get_policy(**arguments)["Policy"]
    except lambda_client.exceptions.ResourceNotFoundException:
        return []
    return [statement["Sid"] for statement in json.loads(policy)["Statement"]]


def configuration(function: str) -> dict[str, Any]:
    return dict(setup_clients()["lambda"].get_function_configuration(FunctionName=function))


__all__ = ["REGION", "ROLE_NAME"]
