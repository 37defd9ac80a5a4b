"""Runbook script for lambda-dlq-check: give the function a dead-letter target.

- ``DeadLetterTargetArn`` given (an SQS queue or SNS topic): attached as is. Lambda checks that
  the function's execution role may send to it (sqs:SendMessage / sns:Publish) and refuses the
  update otherwise; that refusal fails the run with Lambda's message.
- none given: a standard SQS queue is created for the function, KMS-encrypted with
  ``QueueKmsKeyId`` (``alias/aws/sqs`` by default), named ``queue_name(function ARN)``
  (``guardrails-dlq-<name>-<hash>``, at most 80 characters of SQS's alphabet; the hash of the
  function ARN keeps two functions whose names are cut alike apart). CreateQueue with the same
  name and attributes returns the existing queue, so a second run reuses it. The execution role
  gets an inline policy ``guardrails-dlq-<hash>`` allowing sqs:SendMessage on that queue (and
  kms:GenerateDataKey / kms:Decrypt on a customer-managed queue key); then the queue is attached.
  A role of another account, or one the automation role may not change (iam:PutRolePolicy
  denied), is refused with a message saying to give ``DeadLetterTargetArn`` instead; a queue
  created before such a refusal stays (empty, and reused by the next run).
- with the rule's ``dlqArns`` set, only a listed target can make the function compliant: a
  target outside it, or creating a queue, is refused before any change.

IAM is eventually consistent: Lambda may not see the new inline policy at once, so the update is
retried for a short while on Lambda's "execution role does not have permissions" answer.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any

from botocore.exceptions import ClientError

from rules.adapters.common import arn_field
from rules.aws.clients import Clients
from rules.aws.errors import AccessDeniedError
from rules.checks.dlq import DLQ_ARNS
from rules.model import LambdaFunction
from rules.parameters import DLQ_ARN, KMS_KEY_ARN
from rules.remediation.common import (
    Change,
    Context,
    Plan,
    RemediationError,
    Script,
    failure,
    handler,
    text_input,
    wait_until_updated,
)
from rules.remediation.runbooks import QUEUE_NAME_PREFIX

DEFAULT_QUEUE_KEY = "alias/aws/sqs"
QUEUE_NAME_MAX = 80
HASH_LENGTH = 10
QUEUE_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]")
ROLE_NOT_SEEN_ATTEMPTS = 8
ROLE_NOT_SEEN_DELAY_SECONDS = 5.0


def describe(_clients: Clients, function: LambdaFunction) -> dict[str, str]:
    return {"deadLetterTargetArn": function.dead_letter_target_arn or "none"}


def queue_name(function_arn: str) -> str:
    """``guardrails-dlq-<function name, cut>-<hash of the ARN>``: valid, <= 80 characters."""
    name = QUEUE_CHARACTERS.sub("-", function_arn.rsplit(":", 1)[-1])
    digest = hashlib.sha256(function_arn.encode()).hexdigest()[:HASH_LENGTH]
    room = QUEUE_NAME_MAX - len(QUEUE_NAME_PREFIX) - len(digest) - 1
    return f"{QUEUE_NAME_PREFIX}{name[:room]}-{digest}"


def policy_name(queue_arn: str) -> str:
    return f"{QUEUE_NAME_PREFIX}{hashlib.sha256(queue_arn.encode()).hexdigest()[:HASH_LENGTH]}"


def role_policy(queue_arn: str, key_arn: str | None) -> dict[str, Any]:
    statements: list[dict[str, Any]] = [
        {"Sid": "DeadLetterQueue", "Effect": "Allow", "Action": "sqs:SendMessage",
         "Resource": queue_arn}
    ]
    if key_arn:
        statements.append(
            {"Sid": "DeadLetterQueueKey", "Effect": "Allow",
             "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": key_arn}
        )
    return {"Version": "2012-10-17", "Statement": statements}


def plan(context: Context) -> Plan:
    target = text_input(context.inputs.raw, "DeadLetterTargetArn")
    allowed = context.inputs.rule_parameters.csv(DLQ_ARNS.name)
    if target:
        return _attach_given(context, target, allowed)
    return _create_and_attach(context, allowed)


def _attach_given(context: Context, target: str, allowed: tuple[str, ...] | None) -> Plan:
    problems = []
    if problem := DLQ_ARN.problem(target):
        problems.append(f"DeadLetterTargetArn {target!r}: {problem}")
    elif target.endswith(".fifo"):
        problems.append(f"{target} is a FIFO queue; Lambda's dead-letter queue must be standard")
    if allowed is not None and target not in allowed:
        problems.append(f"{target} is not in the rule's {DLQ_ARNS.name} ({', '.join(allowed)})")
    change = Change(f"attach dead-letter target {target}", lambda: _attach(context, target))
    return Plan((change,), tuple(problems))


def _create_and_attach(context: Context, allowed: tuple[str, ...] | None) -> Plan:
    function = context.function
    key = text_input(context.inputs.raw, "QueueKmsKeyId") or DEFAULT_QUEUE_KEY
    name = queue_name(function.arn)
    queue_arn = f"arn:{function.partition}:sqs:{function.region}:{function.account_id}:{name}"
    problems = []
    if allowed is not None:
        problems.append(
            f"the rule's {DLQ_ARNS.name} lists the allowed targets ({', '.join(allowed)}): give "
            "one as DeadLetterTargetArn (a created queue would not be in the list)"
        )
    if key != DEFAULT_QUEUE_KEY and KMS_KEY_ARN.problem(key):
        problems.append(f"QueueKmsKeyId {key!r} is neither {DEFAULT_QUEUE_KEY} nor a key ARN")
    role = function.role
    if not role or arn_field(role, 4) != function.account_id:
        problems.append(
            f"the function's execution role {role or '(none)'} is not a role of account "
            f"{function.account_id}: it cannot be granted sqs:SendMessage from here; give "
            "DeadLetterTargetArn of a target the role may already send to"
        )
    customer_key = None if key == DEFAULT_QUEUE_KEY else key
    created: dict[str, str] = {}

    def create_queue() -> None:
        sqs = context.clients.client("sqs")
        url = context.call(
            "sqs:CreateQueue",
            sqs.create_queue,
            QueueName=name,
            Attributes={"KmsMasterKeyId": key},
        )["QueueUrl"]
        attributes = context.call(
            "sqs:GetQueueAttributes",
            sqs.get_queue_attributes,
            QueueUrl=url,
            AttributeNames=["QueueArn", "KmsMasterKeyId"],
        ).get("Attributes", {})
        if attributes.get("QueueArn") != queue_arn or attributes.get("KmsMasterKeyId") != key:
            raise RemediationError(
                f"function {function.name}: queue {name} answers ARN "
                f"{attributes.get('QueueArn')!r} and key {attributes.get('KmsMasterKeyId')!r}, "
                f"not {queue_arn} encrypted with {key}"
            )
        created["arn"] = queue_arn

    def grant_role() -> None:
        role_name = str(role).split(":role/", 1)[-1].rsplit("/", 1)[-1]
        context.call(
            "iam:PutRolePolicy",
            context.clients.client("iam").put_role_policy,
            RoleName=role_name,
            PolicyName=policy_name(queue_arn),
            PolicyDocument=json.dumps(role_policy(queue_arn, customer_key)),
        )

    changes = (
        Change(f"create SQS queue {name} encrypted with KMS key {key}", create_queue),
        Change(
            f"allow the execution role {role} sqs:SendMessage on {queue_arn} "
            f"(inline policy {policy_name(queue_arn)})",
            grant_role,
        ),
        Change(f"attach dead-letter target {queue_arn}", lambda: _attach(context, queue_arn)),
    )
    return Plan(changes, tuple(problems))


def _attach(context: Context, target: str) -> None:
    function = context.function
    lambda_client = context.clients.client("lambda")
    what = "lambda:UpdateFunctionConfiguration (DeadLetterConfig)"
    for attempt in range(ROLE_NOT_SEEN_ATTEMPTS):
        try:
            lambda_client.update_function_configuration(
                FunctionName=function.arn, DeadLetterConfig={"TargetArn": target}
            )
            break
        except AccessDeniedError as error:
            raise failure(function.name, what, error) from error
        except ClientError as error:
            if not _role_not_seen_yet(error) or attempt == ROLE_NOT_SEEN_ATTEMPTS - 1:
                raise failure(function.name, what, error) from error
            time.sleep(ROLE_NOT_SEEN_DELAY_SECONDS)
    wait_until_updated(context)


def _role_not_seen_yet(error: ClientError) -> bool:
    details = error.response.get("Error", {})
    return details.get("Code") == "InvalidParameterValueException" and "execution role" in str(
        details.get("Message", "")
    )


SCRIPT = Script("lambda-dlq-check", describe, plan)


def script_handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """The aws:executeScript entry point (Handler: script_handler)."""
    return handler(SCRIPT, events)
