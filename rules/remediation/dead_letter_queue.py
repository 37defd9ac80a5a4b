"""Runbook script for lambda-dlq-check: give the function a dead-letter target.

- ``DeadLetterTargetArn`` given (an SQS queue or SNS topic): attached as is. Lambda checks that
  the function's execution role may send to it (sqs:SendMessage / sns:Publish) and refuses the
  update otherwise; that refusal fails the run with Lambda's message.
- none given: a standard SQS queue is created for the function, KMS-encrypted with
  ``QueueKmsKeyId`` (``alias/aws/sqs`` by default), named ``queue_name(QueueNamePrefix,
  function ARN)`` (``<prefix><name>-<hash>``, at most 80 characters of SQS's alphabet; the hash
  of the function ARN keeps two functions whose names are cut alike apart) and tagged
  ``DEAD_LETTER_TAG_KEY`` = the function's ARN at creation. CreateQueue with the same name and
  attributes returns the existing queue, so a second run reuses it, and so would a queue
  someone else created first: the queue is used only when it has no queue policy and carries
  that tag, else the run fails before any role or function is touched. Then the stack's policy
  ``DeadLetterPolicyArn`` (sqs:SendMessage on ``<prefix>*`` only) is attached to the execution
  role (iam:AttachRolePolicy, which the automation role may call for that one policy only; a
  second attachment is a no-op), and the queue attached to the function.
  A role of another account is refused (give ``DeadLetterTargetArn`` instead). A queue created
  before a later refusal stays (empty, and reused by the next run).
- a customer-managed ``QueueKmsKeyId``: the function's role sends with that key, so it needs
  kms:GenerateDataKey and kms:Decrypt on it. The runbook grants no key rights: before any
  change it checks the key (customer-managed, enabled, symmetric, of the function's account
  and Region) and that the role may already use it (``rules.remediation.keys``), and refuses
  otherwise. ``alias/aws/sqs`` needs nothing: its key policy lets every principal of the
  account that may use SQS use it through SQS.
- with the rule's ``dlqArns`` set, only a listed target can make the function compliant: a
  target outside it, or creating a queue, is refused before any change.

IAM is eventually consistent: Lambda may not see the newly attached policy at once, so the
update is retried for a short while on Lambda's "execution role does not have permissions"
answer.
"""

from __future__ import annotations

import hashlib
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
from rules.remediation.keys import key_problems, role_problems
from rules.remediation.runbooks import (
    DEAD_LETTER_SEND,
    DEAD_LETTER_TAG_KEY,
    DEFAULT_QUEUE_NAME_PREFIX,
    QUEUE_KEY_USE,
    QUEUE_PREFIX_PATTERN,
)

DEFAULT_QUEUE_KEY = "alias/aws/sqs"
QUEUE_NAME_MAX = 80
HASH_LENGTH = 10
QUEUE_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]")
ROLE_NOT_SEEN_ATTEMPTS = 8
ROLE_NOT_SEEN_DELAY_SECONDS = 5.0


def describe(_clients: Clients, function: LambdaFunction) -> dict[str, str]:
    return {"deadLetterTargetArn": function.dead_letter_target_arn or "none"}


def queue_name(prefix: str, function_arn: str) -> str:
    """``<prefix><function name, cut>-<hash of the ARN>``: valid, <= 80 characters."""
    name = QUEUE_CHARACTERS.sub("-", function_arn.rsplit(":", 1)[-1])
    digest = hashlib.sha256(function_arn.encode()).hexdigest()[:HASH_LENGTH]
    room = QUEUE_NAME_MAX - len(prefix) - len(digest) - 1
    return f"{prefix}{name[:room]}-{digest}"


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
    raw = context.inputs.raw
    key = text_input(raw, "QueueKmsKeyId") or DEFAULT_QUEUE_KEY
    prefix = text_input(raw, "QueueNamePrefix") or DEFAULT_QUEUE_NAME_PREFIX
    policy_arn = text_input(raw, DEAD_LETTER_SEND.parameter)
    problems = []
    if not re.fullmatch(QUEUE_PREFIX_PATTERN, prefix):
        problems.append(f"QueueNamePrefix {prefix!r} does not match {QUEUE_PREFIX_PATTERN}")
        prefix = DEFAULT_QUEUE_NAME_PREFIX  # only to describe the plan; the run is refused
    name = queue_name(prefix, function.arn)
    queue_arn = f"arn:{function.partition}:sqs:{function.region}:{function.account_id}:{name}"
    if allowed is not None:
        problems.append(
            f"the rule's {DLQ_ARNS.name} lists the allowed targets ({', '.join(allowed)}): give "
            "one as DeadLetterTargetArn (a created queue would not be in the list)"
        )
    if not policy_arn.startswith("arn:") or arn_field(policy_arn, 4) != function.account_id:
        problems.append(
            f"{DEAD_LETTER_SEND.parameter} {policy_arn or '(empty)'} is not a policy of account "
            f"{function.account_id}: the stack deploying this runbook sets it; run the "
            "deployed document, or give DeadLetterTargetArn"
        )
    role = function.role
    role_here = bool(role) and arn_field(str(role), 4) == function.account_id
    if not role_here:
        problems.append(
            f"the function's execution role {role or '(none)'} is not a role of account "
            f"{function.account_id}: it cannot be given sqs:SendMessage from here; give "
            "DeadLetterTargetArn of a target the role may already send to"
        )
    if key != DEFAULT_QUEUE_KEY:
        problems += _queue_key_problems(context, key, check_role=role_here)

    def create_queue() -> None:
        sqs = context.clients.client("sqs")
        url = context.call(
            "sqs:CreateQueue",
            sqs.create_queue,
            QueueName=name,
            Attributes={"KmsMasterKeyId": key},
            tags={DEAD_LETTER_TAG_KEY: function.arn},
        )["QueueUrl"]
        attributes = context.call(
            "sqs:GetQueueAttributes",
            sqs.get_queue_attributes,
            QueueUrl=url,
            AttributeNames=["QueueArn", "KmsMasterKeyId", "Policy"],
        ).get("Attributes", {})
        tags = context.call("sqs:ListQueueTags", sqs.list_queue_tags, QueueUrl=url).get("Tags")
        if problem := adoption_problem(attributes, tags, queue_arn, key, function.arn):
            raise RemediationError(
                f"function {function.name}: queue {name} {problem}: it is not the runbook's own "
                "queue for this function (someone created it first), so it is not used and "
                "nothing else is changed. Delete it, or give DeadLetterTargetArn"
            )

    def attach_policy() -> None:
        role_name = str(role).split(":role/", 1)[-1].rsplit("/", 1)[-1]
        context.call(
            "iam:AttachRolePolicy",
            context.clients.client("iam").attach_role_policy,
            RoleName=role_name,
            PolicyArn=policy_arn,
        )

    changes = (
        Change(
            f"create SQS queue {name} encrypted with KMS key {key}, tagged "
            f"{DEAD_LETTER_TAG_KEY}={function.arn}",
            create_queue,
        ),
        Change(
            f"attach policy {policy_arn} (sqs:SendMessage on {prefix}* queues) to the "
            f"execution role {role}",
            attach_policy,
        ),
        Change(f"attach dead-letter target {queue_arn}", lambda: _attach(context, queue_arn)),
    )
    return Plan(changes, tuple(problems))


def _queue_key_problems(context: Context, key: str, *, check_role: bool) -> list[str]:
    """A customer-managed queue key: the function's role must already be able to send with it
    (the runbook grants no key rights)."""
    function = context.function
    if problem := KMS_KEY_ARN.problem(key):
        return [f"QueueKmsKeyId {key!r} is neither {DEFAULT_QUEUE_KEY} nor a key ARN: {problem}"]
    if arn_field(key, 4) != function.account_id or arn_field(key, 3) != function.region:
        return [
            f"queue key {key} is not in the function's account and Region "
            f"({function.account_id}, {function.region}): its policy cannot be checked from here"
        ]
    problems = key_problems(context, key)
    if not problems and check_role:
        problems = role_problems(context, key, QUEUE_KEY_USE)
    return problems


def adoption_problem(
    attributes: dict[str, Any],
    tags: Any,
    queue_arn: str,
    key: str,
    function_arn: str,
) -> str | None:
    """Why the queue CreateQueue returned is not the one this runbook creates for the function
    (None when it is): its ARN and key, no queue policy (the runbook sets none: a policy could
    let others read or redirect the function's failed events), and the runbook's tag."""
    if attributes.get("QueueArn") != queue_arn or attributes.get("KmsMasterKeyId") != key:
        return (
            f"answers ARN {attributes.get('QueueArn')!r} and key "
            f"{attributes.get('KmsMasterKeyId')!r}, not {queue_arn} encrypted with {key}"
        )
    if attributes.get("Policy"):
        return "has a queue policy"
    if not isinstance(tags, dict) or tags.get(DEAD_LETTER_TAG_KEY) != function_arn:
        return f"does not carry the tag {DEAD_LETTER_TAG_KEY}={function_arn}"
    return None


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
