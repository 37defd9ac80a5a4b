"""Builders for test inputs: a function model and policy statements, with overrides."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from rules.model import LambdaFunction
from rules.policy import parse_policy

ACCOUNT = "111122223333"
ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:orders-api"

BASE = LambdaFunction(name="orders-api", arn=ARN, account_id=ACCOUNT, region="us-east-1")


def function(**overrides: Any) -> LambdaFunction:
    return replace(BASE, **overrides)


def statement(
    principal: Any = "*",
    action: Any = "lambda:InvokeFunction",
    condition: dict[str, Any] | None = None,
    effect: str = "Allow",
    sid: str | None = "s1",
    not_principal: bool = False,
) -> dict[str, Any]:
    raw: dict[str, Any] = {"Effect": effect, "Action": action, "Resource": ARN}
    raw["NotPrincipal" if not_principal else "Principal"] = principal
    if sid is not None:
        raw["Sid"] = sid
    if condition is not None:
        raw["Condition"] = condition
    return raw


def with_policy(*statements: dict[str, Any]) -> LambdaFunction:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return function(policy=parse_policy(json.dumps(document)))
