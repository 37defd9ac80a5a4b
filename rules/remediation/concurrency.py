"""Runbook script for lambda-concurrency-check: reserve concurrency for the function.

The value: ``ReservedConcurrency`` when given, else the rule's ``ConcurrencyLimitLow``, else
``DEFAULT_RESERVED_CONCURRENCY`` (lowered to ``ConcurrencyLimitHigh`` when that is lower). A
value outside the rule's bounds is refused (the check after the fix would fail), and so is one
the account cannot give: Lambda keeps at least ``MINIMUM_UNRESERVED`` (100) concurrent executions
unreserved (GetAccountSettings' ``UnreservedConcurrentExecutions``, which counts the function's
current reservation as reserved).
"""

from __future__ import annotations

from typing import Any

from rules.aws.clients import Clients
from rules.checks.concurrency import HIGH, LOW
from rules.model import LambdaFunction
from rules.remediation.common import Change, Context, Plan, Script, handler, integer_input

DEFAULT_RESERVED_CONCURRENCY = 10
MINIMUM_UNRESERVED = 100


def describe(_clients: Clients, function: LambdaFunction) -> dict[str, str]:
    reserved = function.reserved_concurrency
    return {"reservedConcurrency": "none" if reserved is None else str(reserved)}


def chosen_value(requested: int | None, low: int | None, high: int | None) -> int:
    if requested is not None:
        return requested
    if low is not None:
        return low
    if high is not None:
        return min(DEFAULT_RESERVED_CONCURRENCY, high)
    return DEFAULT_RESERVED_CONCURRENCY


def plan(context: Context) -> Plan:
    parameters = context.inputs.rule_parameters
    low, high = parameters.integer(LOW.name), parameters.integer(HIGH.name)
    value = chosen_value(integer_input(context.inputs.raw, "ReservedConcurrency"), low, high)
    problems = []
    if low is not None and value < low:
        problems.append(f"reserved concurrency {value} is below the rule's {LOW.name} {low}")
    if high is not None and value > high:
        problems.append(f"reserved concurrency {value} is above the rule's {HIGH.name} {high}")
    problems += _pool_problems(context, value)
    function = context.function
    current = function.reserved_concurrency
    was = "none" if current is None else str(current)

    def put() -> None:
        context.call(
            "lambda:PutFunctionConcurrency",
            context.clients.client("lambda").put_function_concurrency,
            FunctionName=function.arn,
            ReservedConcurrentExecutions=value,
        )

    change = Change(f"reserve concurrency {value} (was {was})", put)
    return Plan((change,), tuple(problems))


def _pool_problems(context: Context, value: int) -> list[str]:
    settings = context.call(
        "lambda:GetAccountSettings", context.clients.client("lambda").get_account_settings
    )
    unreserved = (settings.get("AccountLimit") or {}).get("UnreservedConcurrentExecutions")
    if not isinstance(unreserved, int) or isinstance(unreserved, bool):
        # Unreadable is never "enough": the reservation could starve every other function.
        return [f"GetAccountSettings gave no UnreservedConcurrentExecutions ({unreserved!r})"]
    current = context.function.reserved_concurrency or 0
    left = unreserved + current - value
    if left < MINIMUM_UNRESERVED:
        return [
            f"reserving {value} would leave {left} unreserved concurrent executions in the "
            f"account (now {unreserved}); Lambda keeps at least {MINIMUM_UNRESERVED} unreserved"
        ]
    return []


SCRIPT = Script("lambda-concurrency-check", describe, plan)


def script_handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """The aws:executeScript entry point (Handler: script_handler)."""
    return handler(SCRIPT, events)
