"""What every remediation script shares: its inputs, the reads, the exemption, the dry run, the
change, the re-read and the rule's own check after it.

A script describes its fix as a ``Plan`` (``Change`` steps, each a sentence and the call that
makes it, and ``problems`` that forbid it); ``run`` does the rest identically for all of them:

1. read the function's configuration and tags and stop, reading nothing further, if it is
   exempt (``is_exempt``); else read what the rule reads;
2. run the rule's check: COMPLIANT changes nothing;
3. plan; a dry run reports the plan, a real run with problems raises before any change;
4. apply, re-read, re-run the check; anything but COMPLIANT raises with before, after and the
   verdict.

AWS errors become ``RemediationError`` naming the function and the call. Environment variable
values never leave the adapter (``rules.adapters.lambda_api`` keeps names only).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from rules.adapters.common import arn_field
from rules.adapters.lambda_api import function_from_lambda_api
from rules.aws.clients import ClientOptions, Clients, new_session
from rules.aws.errors import AccessDeniedError
from rules.aws.evaluate import evaluate_with_reads
from rules.aws.kms import KeyManagers
from rules.errors import GuardrailsError
from rules.exemptions import Decision, exemption_for
from rules.json_text import loads as strict_json
from rules.model import Compliance, Evaluation, LambdaFunction
from rules.parameters import Parameters, parse_parameters
from rules.registry import get_rule
from rules.remediation.runbooks import DEFAULT_EXEMPTION_TAG_KEY, Status
from rules.rule import Rule

T = TypeVar("T")
NOT_FOUND = "ResourceNotFoundException"
# The function_updated waiter: at most 5 minutes (aws:executeScript stops a step at 10).
WAIT_DELAY_SECONDS = 5
WAIT_MAX_ATTEMPTS = 60
SCRIPT_PRINCIPAL = "the runbook's automation role"


class RemediationError(GuardrailsError):
    """The runbook cannot or did not fix the function; the step fails with this message."""


@dataclass(frozen=True, slots=True)
class Inputs:
    """The parameters every runbook takes, validated; ``raw`` holds the event for the script's
    own parameters."""

    function: str
    dry_run: bool
    exemption_tag_key: str
    rule_parameters: Parameters
    raw: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Change:
    description: str
    apply: Callable[[], None]


@dataclass(frozen=True, slots=True)
class Plan:
    changes: tuple[Change, ...] = ()
    # Why a real run must not start (it could not reach COMPLIANT, or would break something).
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class State:
    function: LambdaFunction
    evaluation: Evaluation


@dataclass(frozen=True, slots=True)
class Script:
    """One runbook's script: its rule, the settings it reports, and how it plans the fix."""

    rule_id: str
    # The remediated settings (names only, never values); may read more (aliases' policies).
    describe: Callable[[Clients, LambdaFunction], dict[str, str]]
    plan: Callable[[Context], Plan]


@dataclass(frozen=True, slots=True)
class Context:
    """What a script's ``plan`` gets: the inputs, the clients, the state before."""

    inputs: Inputs
    clients: Clients
    before: State
    rule: Rule = field(repr=False)

    @property
    def function(self) -> LambdaFunction:
        return self.before.function

    def call(self, what: str, operation: Callable[..., T], **arguments: Any) -> T:
        return aws_call(self.function.name, what, operation, **arguments)


# --- inputs -------------------------------------------------------------------------------------


def parse_inputs(rule: Rule, events: Mapping[str, Any]) -> Inputs:
    if not isinstance(events, Mapping):
        raise RemediationError(f"the script's input is a {type(events).__name__}, not an object")
    function = text_input(events, "FunctionName")
    if not function:
        raise RemediationError("parameter FunctionName is required (a function name or ARN)")
    raw_parameters = text_input(events, "RuleParameters") or "{}"
    try:
        decoded = strict_json(raw_parameters)
    except ValueError as error:
        raise RemediationError(f"parameter RuleParameters is not valid JSON ({error})") from None
    if not isinstance(decoded, dict):
        raise RemediationError("parameter RuleParameters must be a JSON object")
    return Inputs(
        function=function,
        dry_run=boolean_input(events, "DryRun", default=True),
        exemption_tag_key=text_input(events, "ExemptionTagKey") or DEFAULT_EXEMPTION_TAG_KEY,
        rule_parameters=parse_parameters(rule, decoded),
        raw=events,
    )


def text_input(events: Mapping[str, Any], name: str) -> str:
    value = events.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RemediationError(f"parameter {name} must be text, got {type(value).__name__}")
    return value.strip()


def boolean_input(events: Mapping[str, Any], name: str, *, default: bool) -> bool:
    value = events.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise RemediationError(f"parameter {name} must be true or false, got {value!r}")


def integer_input(events: Mapping[str, Any], name: str) -> int | None:
    """An Integer parameter, given natively or as text; None when empty."""
    value = events.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise RemediationError(f"parameter {name} must be a non-negative integer, got {value!r}")
    if number < 0:
        raise RemediationError(f"parameter {name} must be a non-negative integer, got {value!r}")
    return number


def list_input(events: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """A StringList parameter, given as a list or as comma-separated text."""
    value = events.get(name)
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise RemediationError(f"parameter {name} must be a list of strings")
    return tuple(dict.fromkeys(item.strip() for item in items if item.strip()))


# --- AWS ----------------------------------------------------------------------------------------


def aws_call(function: str, what: str, operation: Callable[..., T], **arguments: Any) -> T:
    """``operation(**arguments)``; an AWS error becomes ``RemediationError`` naming the function
    and ``what`` (the API call, e.g. ``lambda:RemovePermission``)."""
    try:
        return operation(**arguments)
    except (AccessDeniedError, ClientError, BotoCoreError) as error:
        raise failure(function, what, error) from error


def failure(function: str, what: str, error: Exception) -> RemediationError:
    if isinstance(error, AccessDeniedError):
        return RemediationError(
            f"function {function}: {what} was denied to {error.principal} (missing "
            f"{error.action}). AWS said: {error.aws_message}"
        )
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = details.get("Code") or "an error"
        message = details.get("Message")
        return RemediationError(
            f"function {function}: {what} failed with {code}" + (f": {message}" if message else "")
        )
    if isinstance(error, WaiterError):
        return RemediationError(f"function {function}: {what}: {error}")
    return RemediationError(f"function {function}: {what} failed: {error}")


def clients_for(function: str) -> Clients:
    """Clients in the function's Region (from its ARN, else the runtime's ``AWS_REGION``)."""
    region = arn_field(function, 3) if function.startswith("arn:") else None
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise RemediationError("no AWS Region: give FunctionName as an ARN or set AWS_REGION")
    return Clients(new_session(), ClientOptions(region=region), principal=SCRIPT_PRINCIPAL)


def exemption(tags: Mapping[str, str], tag_key: str, rule_id: str, today: date) -> Decision:
    """The one exemption decision, the rules' own (``rules.exemptions``): the function is
    skipped exactly when its tag exempts it from ``rule_id`` today. An expired, malformed or
    other-rule tag exempts nothing: the runbook runs and says why the tag did not count.
    ``exemptionsDisabled`` is not known here: a runbook never changes a function exempted by
    its tag, even where the rule judges it anyway."""
    return exemption_for(tags, rule_id, today=today, key=tag_key)


@dataclass(frozen=True, slots=True)
class Identity:
    """What is read before the exemption decision, and nothing more: the configuration and
    the tags."""

    configuration: Mapping[str, Any]
    arn: str
    tags: Mapping[str, str]


def read_identity(clients: Clients, name: str) -> Identity:
    """The function's configuration and tags. A function that does not exist is an error:
    there is nothing to remediate; tags that cannot be read are an error too (never "not
    exempt")."""
    lambda_client = clients.client("lambda")
    configuration = aws_call(
        name,
        "lambda:GetFunctionConfiguration",
        lambda_client.get_function_configuration,
        FunctionName=name,
    )
    arn = str(configuration.get("FunctionArn") or name)
    tags = aws_call(name, "lambda:ListTags", lambda_client.list_tags, Resource=arn).get("Tags")
    if not isinstance(tags, Mapping):
        raise RemediationError(f"function {name}: lambda:ListTags gave no tags ({tags!r})")
    return Identity(configuration, arn, tags)


def read_function(
    clients: Clients, rule: Rule, name: str, identity: Identity | None = None
) -> LambdaFunction:
    """The function as the rule's check reads it, with its tags (``identity``, when already
    read)."""
    lambda_client = clients.client("lambda")
    identity = identity or read_identity(clients, name)
    configuration, arn, tags = identity.configuration, identity.arn, dict(identity.tags)
    policy = None
    if "GetPolicy" in rule.lambda_api_reads:
        policy = get_policy(lambda_client, name, arn)
    concurrency = None
    if "GetFunctionConcurrency" in rule.lambda_api_reads:
        concurrency = aws_call(
            name,
            "lambda:GetFunctionConcurrency",
            lambda_client.get_function_concurrency,
            FunctionName=arn,
        )
    try:
        return function_from_lambda_api(configuration, policy, concurrency, tags=tags)
    except GuardrailsError as error:
        raise RemediationError(
            f"function {name}: its configuration is unreadable: {error}"
        ) from None


def get_policy(
    lambda_client: Any, name: str, function: str, qualifier: str | None = None
) -> Mapping[str, Any] | None:
    """The GetPolicy response; None when the function (or qualifier) has no policy."""
    arguments = {"FunctionName": function} | ({"Qualifier": qualifier} if qualifier else {})
    what = "lambda:GetPolicy" + (f" (qualifier {qualifier})" if qualifier else "")
    try:
        response: Mapping[str, Any] = lambda_client.get_policy(**arguments)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == NOT_FOUND:
            return None
        raise failure(name, what, error) from error
    except (AccessDeniedError, BotoCoreError) as error:
        raise failure(name, what, error) from error
    return response


def evaluate(clients: Clients, rule: Rule, function: LambdaFunction, inputs: Inputs) -> Evaluation:
    """The rule's own check, with the reads the periodic evaluation makes (aliases' policies,
    the key manager, ...). Unreadable input raises: it is never COMPLIANT."""
    try:
        return evaluate_with_reads(
            rule,
            function,
            inputs.rule_parameters,
            clients,
            periodic=True,
            key_managers=KeyManagers(),  # a key's manager is asked afresh by every run
        )
    except (ClientError, AccessDeniedError, GuardrailsError) as error:
        raise RemediationError(
            f"function {function.name}: the rule {rule.id} cannot evaluate it: {error}"
        ) from error


def read_state(clients: Clients, rule: Rule, name: str, inputs: Inputs) -> State:
    function = read_function(clients, rule, name)
    return State(function, evaluate(clients, rule, function, inputs))


def wait_until_updated(context: Context) -> None:
    """Lambda applies configuration changes asynchronously (LastUpdateStatus InProgress)."""
    waiter = context.clients.client("lambda").get_waiter("function_updated")
    context.call(
        "waiting for the update (lambda:GetFunctionConfiguration)",
        waiter.wait,
        FunctionName=context.function.arn,
        WaiterConfig={"Delay": WAIT_DELAY_SECONDS, "MaxAttempts": WAIT_MAX_ATTEMPTS},
    )


# --- the run ------------------------------------------------------------------------------------


def log(message: str) -> None:
    """aws:executeScript keeps the script's standard output with the step's output."""
    print(message, flush=True)


def run(script: Script, events: Mapping[str, Any], clients: Clients) -> dict[str, Any]:
    rule = get_rule(script.rule_id)
    try:
        inputs = parse_inputs(rule, events)
    except GuardrailsError as error:
        raise RemediationError(str(error)) from None
    identity = read_identity(clients, inputs.function)
    decision = exemption(
        identity.tags, inputs.exemption_tag_key, rule.id, datetime.now(UTC).date()
    )
    if decision.note:
        log(f"function {inputs.function}: {decision.note}")
    if decision.exempt:
        message = (
            f"function {inputs.function} is exempt from {rule.id} by its tag "
            f"{inputs.exemption_tag_key}: skipped, nothing read further and nothing changed "
            "(remove the rule from the tag to remediate it)"
        )
        log(message)
        return _output(
            Status.SKIPPED_EXEMPT,
            identity.arn,
            before={},
            after={},
            evaluation=None,
            message=message,
        )
    function = read_function(clients, rule, inputs.function, identity)
    before = State(function, evaluate(clients, rule, function, inputs))
    described = script.describe(clients, before.function)
    if before.evaluation.compliance is Compliance.COMPLIANT:
        message = f"function {function.name} is already compliant with {rule.id}: nothing changed"
        log(message)
        return _output(
            Status.ALREADY_COMPLIANT,
            function.arn,
            before=described,
            after=described,
            evaluation=before.evaluation,
            message=message,
        )
    context = Context(inputs, clients, before, rule)
    plan = script.plan(context)
    changes = tuple(change.description for change in plan.changes)
    if inputs.dry_run:
        blocked = f"; a real run would fail: {'; '.join(plan.problems)}" if plan.problems else ""
        message = f"dry run: {len(changes)} change(s) planned for {function.name}{blocked}"
        log(message)
        return _output(
            Status.DRY_RUN,
            function.arn,
            changes=changes,
            before=described,
            after={},
            evaluation=before.evaluation,
            message=message,
        )
    if plan.problems:
        raise RemediationError(f"function {function.name}: not changed: {'; '.join(plan.problems)}")
    if not plan.changes:
        raise RemediationError(
            f"function {function.name} is {before.evaluation.compliance} "
            f"({before.evaluation.annotation}) and the runbook has no change that fixes it"
        )
    for change in plan.changes:
        log(f"changing {function.name}: {change.description}")
        change.apply()
    after = read_state(clients, rule, function.arn, inputs)
    after_described = script.describe(clients, after.function)
    if after.evaluation.compliance is not Compliance.COMPLIANT:
        raise RemediationError(
            f"function {function.name}: after {len(changes)} change(s) ({'; '.join(changes)}) "
            f"the rule {rule.id} still says {after.evaluation.compliance}: "
            f"{after.evaluation.annotation}. Before: {json.dumps(described, sort_keys=True)}. "
            f"After: {json.dumps(after_described, sort_keys=True)}"
        )
    message = f"function {function.name} changed ({len(changes)} change(s)) and is now COMPLIANT"
    log(message)
    return _output(
        Status.CHANGED,
        function.arn,
        changes=changes,
        before=described,
        after=after_described,
        evaluation=after.evaluation,
        message=message,
    )


def _output(
    status: Status,
    function_arn: str,
    *,
    changes: Sequence[str] = (),
    before: Mapping[str, str],
    after: Mapping[str, str],
    evaluation: Evaluation | None,
    message: str,
) -> dict[str, Any]:
    return {
        "status": status.value,
        "function": function_arn,
        "changes": list(changes),
        "before": dict(before),
        "after": dict(after),
        "verdict": evaluation.compliance.value if evaluation else "NOT_EVALUATED",
        "annotation": evaluation.annotation if evaluation else "",
        "message": message,
    }


def handler(script: Script, events: Mapping[str, Any]) -> dict[str, Any]:
    """What each module's ``script_handler`` does: clients for the function, then ``run``."""
    name = events.get("FunctionName") if isinstance(events, Mapping) else None
    clients = clients_for(name if isinstance(name, str) else "")
    return run(script, events, clients)


def joined(values: Sequence[str]) -> str:
    return ", ".join(values) if values else "(none)"
