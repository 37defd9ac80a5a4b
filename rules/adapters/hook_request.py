"""CloudFormation Lambda hook requests and responses (the hook entry point's I/O shapes).

A resource operation request (CloudFormation Hooks User Guide, "Create Lambda functions to
evaluate resources for Lambda Hooks")::

    {"clientRequestToken": "...", "awsAccountId": "123456789012",
     "stackId": "arn:aws:cloudformation:...:stack/...", "changeSetId": "...",
     "hookTypeName": "...", "hookTypeVersion": "...", "hookModel": {"LambdaFunction": "..."},
     "actionInvocationPoint": "CREATE_PRE_PROVISION" | "UPDATE_PRE_PROVISION" | ...,
     "requestData": {"targetName": "AWS::Lambda::Function", "targetType": "...",
                     "targetLogicalId": "...",
                     "targetModel": {"resourceProperties": {...},
                                     "previousResourceProperties": {...}}},
     "requestContext": {"invocation": 1, "callbackContext": null}}

Cloud Control API operations arrive in the same shape, without a stack (no ``stackId``,
``changeSetId`` or, for some, ``targetLogicalId``): those fields are optional here.

The response: ``hookStatus`` (SUCCESS, FAILED, IN_PROGRESS), ``errorCode`` (NonCompliant or
InternalFailure; required when FAILED), ``message`` and ``clientRequestToken``. CloudFormation
truncates ``message`` to 4,096 characters, Cloud Control to 1,024: ``response`` cuts it to the
smaller one itself, saying so, so the end of a long message is never lost silently.

Nothing here keeps or repeats a property value: the properties go to the CloudFormation adapter,
which keeps environment variable names only.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rules.adapters.common import JSON_OBJECT
from rules.errors import InvalidInputError

MESSAGE_LIMIT = 1024  # Cloud Control's cut; CloudFormation's is 4,096
ACCOUNT = re.compile(r"[0-9]{12}")
TRUNCATED = " ... ({} more characters)"


class HookStatus(enum.StrEnum):
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


class HookErrorCode(enum.StrEnum):
    NON_COMPLIANT = "NonCompliant"
    INTERNAL_FAILURE = "InternalFailure"


class Action(enum.StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


INVOCATION_POINT = re.compile(r"(CREATE|UPDATE|DELETE)_PRE_PROVISION")


class InvalidHookRequestError(InvalidInputError):
    """The request is not a Lambda hook resource request this function can read."""


@dataclass(frozen=True, slots=True)
class HookRequest:
    client_request_token: str
    account_id: str
    action: Action
    target_type: str
    # The template's logical id; Cloud Control requests may have none.
    logical_id: str | None
    stack_id: str | None
    # The resolved properties as CloudFormation will provision them (may hold secrets: the
    # adapter reads names only, and nothing logs them).
    properties: Mapping[str, Any]


def client_request_token(event: Any) -> str | None:
    """The token to echo, even from a request that cannot be read otherwise."""
    if isinstance(event, JSON_OBJECT):
        token = event.get("clientRequestToken")
        if isinstance(token, str) and token:
            return token
    return None


def parse_request(event: Any) -> HookRequest:
    """The request's parts a verdict needs; ``InvalidHookRequestError`` (naming the field, never
    its value) when one is missing or of the wrong type."""
    if not isinstance(event, JSON_OBJECT):
        raise InvalidHookRequestError(f"the request is a {type(event).__name__}, not an object")
    token = client_request_token(event)
    if token is None:
        raise InvalidHookRequestError("clientRequestToken is missing or not a string")
    account = event.get("awsAccountId")
    if not isinstance(account, str) or not ACCOUNT.fullmatch(account):
        raise InvalidHookRequestError("awsAccountId is missing or not a 12-digit account id")
    point = event.get("actionInvocationPoint")
    match = INVOCATION_POINT.fullmatch(point) if isinstance(point, str) else None
    if match is None:
        raise InvalidHookRequestError(
            "actionInvocationPoint is missing or not CREATE/UPDATE/DELETE_PRE_PROVISION"
        )
    data = event.get("requestData")
    if not isinstance(data, JSON_OBJECT):
        raise InvalidHookRequestError("requestData is missing or not an object")
    target_type = data.get("targetType") or data.get("targetName")
    if not isinstance(target_type, str) or not target_type:
        raise InvalidHookRequestError("requestData.targetType is missing or not a string")
    model = data.get("targetModel")
    if not isinstance(model, JSON_OBJECT):
        raise InvalidHookRequestError("requestData.targetModel is missing or not an object")
    properties = model.get("resourceProperties")
    if properties is None:
        properties = {}  # a resource with no properties at all (none is required)
    if not isinstance(properties, JSON_OBJECT):
        raise InvalidHookRequestError("targetModel.resourceProperties is not an object")
    return HookRequest(
        client_request_token=token,
        account_id=account,
        action=Action(match.group(1)),
        target_type=target_type,
        logical_id=_optional(data.get("targetLogicalId"), "requestData.targetLogicalId"),
        stack_id=_optional(event.get("stackId"), "stackId"),
        properties=properties,
    )


def _optional(value: Any, what: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidHookRequestError(f"{what} is not a string")
    return value


def response(
    token: str | None,
    status: HookStatus,
    message: str,
    error_code: HookErrorCode | None = None,
) -> dict[str, Any]:
    """The hook's answer; a FAILED one always carries its error code."""
    if (status is HookStatus.FAILED) != (error_code is not None):
        raise ValueError("a FAILED response needs an error code, and only a FAILED one has one")
    answer: dict[str, Any] = {"hookStatus": status.value, "message": fit(message)}
    if error_code is not None:
        answer["errorCode"] = error_code.value
    if token is not None:
        answer["clientRequestToken"] = token
    return answer


def fit(message: str, limit: int = MESSAGE_LIMIT) -> str:
    """``message`` within ``limit`` characters; a cut one ends saying how much was cut."""
    if len(message) <= limit:
        return message
    # The marker's own length depends on the count it states: reserve for the longest.
    room = limit - len(TRUNCATED.format(len(message)))
    return message[:room] + TRUNCATED.format(len(message) - room)
