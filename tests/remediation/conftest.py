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
from tests.aws.fixtures import REGION, setup_clients

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


def simulated(clients: Clients, decision: str) -> None:
    """SimulatePrincipalPolicy (moto lacks it) answering ``decision`` for kms:Decrypt."""
    answer(
        clients,
        "iam",
        "SimulatePrincipalPolicy",
        {
            "EvaluationResults": [
                {"EvalActionName": "kms:Decrypt", "EvalDecision": decision}
            ],
            "IsTruncated": False,
        },
    )


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
