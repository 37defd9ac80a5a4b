"""The reserved-concurrency runbook script against moto. moto lacks GetAccountSettings: it is
answered by a hook (``unreserved``); every other call goes to moto."""

from __future__ import annotations

import json

import pytest

from rules.aws.clients import Clients
from rules.remediation import concurrency
from rules.remediation.common import RemediationError, run
from tests.aws.fixtures import create_function, setup_clients
from tests.remediation.conftest import events, tag, unreserved


def _reserved(name: str) -> int | None:
    response = setup_clients()["lambda"].get_function_concurrency(FunctionName=name)
    value = response.get("ReservedConcurrentExecutions")
    return None if value is None else int(value)


def _reserve(name: str, value: int) -> None:
    setup_clients()["lambda"].put_function_concurrency(
        FunctionName=name, ReservedConcurrentExecutions=value
    )


def test_a_dry_run_reports_the_change_and_makes_none(clients: Clients) -> None:
    create_function("orders-api")
    unreserved(clients, 1000)
    result = run(concurrency.SCRIPT, events("orders-api", DryRun=True), clients)
    assert result["status"] == "DRY_RUN"
    assert result["changes"] == ["reserve concurrency 10 (was none)"]
    assert result["verdict"] == "NON_COMPLIANT"
    assert result["after"] == {}
    assert _reserved("orders-api") is None


def test_dry_run_is_the_default(clients: Clients) -> None:
    create_function("orders-api")
    unreserved(clients, 1000)
    result = run(concurrency.SCRIPT, {"FunctionName": "orders-api"}, clients)
    assert result["status"] == "DRY_RUN"
    assert _reserved("orders-api") is None


def test_a_real_run_reserves_the_default_and_checks_after(clients: Clients) -> None:
    create_function("orders-api")
    unreserved(clients, 1000)
    result = run(concurrency.SCRIPT, events("orders-api"), clients)
    assert result["status"] == "CHANGED"
    assert result["verdict"] == "COMPLIANT"
    assert result["before"] == {"reservedConcurrency": "none"}
    assert result["after"] == {"reservedConcurrency": "10"}
    assert _reserved("orders-api") == 10


def test_the_rules_low_bound_is_the_default_and_a_given_value_wins(clients: Clients) -> None:
    create_function("orders-api")
    create_function("billing")
    unreserved(clients, 1000)
    bounds = json.dumps({"ConcurrencyLimitLow": "25", "ConcurrencyLimitHigh": "50"})
    run(concurrency.SCRIPT, events("orders-api", RuleParameters=bounds), clients)
    run(
        concurrency.SCRIPT,
        events("billing", RuleParameters=bounds, ReservedConcurrency="40"),
        clients,
    )
    assert (_reserved("orders-api"), _reserved("billing")) == (25, 40)


def test_the_default_is_lowered_to_the_high_bound(clients: Clients) -> None:
    create_function("orders-api")
    unreserved(clients, 1000)
    high = json.dumps({"ConcurrencyLimitHigh": "4"})
    result = run(concurrency.SCRIPT, events("orders-api", RuleParameters=high), clients)
    assert result["verdict"] == "COMPLIANT"
    assert _reserved("orders-api") == 4


def test_a_value_outside_the_rules_bounds_is_refused_before_any_change(clients: Clients) -> None:
    create_function("orders-api")
    unreserved(clients, 1000)
    bounds = json.dumps({"ConcurrencyLimitLow": "25"})
    with pytest.raises(RemediationError, match="below the rule's ConcurrencyLimitLow 25"):
        run(
            concurrency.SCRIPT,
            events("orders-api", RuleParameters=bounds, ReservedConcurrency=5),
            clients,
        )
    assert _reserved("orders-api") is None


def test_a_value_the_unreserved_pool_cannot_give_is_refused(clients: Clients) -> None:
    create_function("orders-api")
    unreserved(clients, 150)
    with pytest.raises(RemediationError, match=r"would leave 50 unreserved .* at least 100"):
        run(concurrency.SCRIPT, events("orders-api", ReservedConcurrency="100"), clients)
    assert _reserved("orders-api") is None


def test_the_functions_own_reservation_counts_back_into_the_pool(clients: Clients) -> None:
    """Unreserved 100 with 30 reserved by the function: moving to 20 leaves 110, allowed."""
    create_function("orders-api")
    _reserve("orders-api", 30)
    unreserved(clients, 100)
    low = json.dumps({"ConcurrencyLimitLow": "10", "ConcurrencyLimitHigh": "20"})
    given = events("orders-api", RuleParameters=low, ReservedConcurrency=20)
    result = run(concurrency.SCRIPT, given, clients)
    assert result["status"] == "CHANGED"
    assert _reserved("orders-api") == 20


def test_an_unreadable_account_limit_is_never_enough(clients: Clients) -> None:
    create_function("orders-api")
    from tests.remediation.conftest import answer

    answer(clients, "lambda", "GetAccountSettings", {"AccountUsage": {"FunctionCount": 1}})
    with pytest.raises(RemediationError, match="no UnreservedConcurrentExecutions"):
        run(concurrency.SCRIPT, events("orders-api"), clients)
    assert _reserved("orders-api") is None


def test_a_compliant_function_is_left_alone(clients: Clients) -> None:
    create_function("orders-api")
    _reserve("orders-api", 7)
    unreserved(clients, 1000)
    result = run(concurrency.SCRIPT, events("orders-api", ReservedConcurrency=50), clients)
    assert result["status"] == "ALREADY_COMPLIANT"
    assert result["changes"] == []
    assert _reserved("orders-api") == 7


def test_running_twice_changes_once(clients: Clients) -> None:
    create_function("orders-api")
    unreserved(clients, 1000)
    first = run(concurrency.SCRIPT, events("orders-api"), clients)
    second = run(concurrency.SCRIPT, events("orders-api"), clients)
    assert (first["status"], second["status"]) == ("CHANGED", "ALREADY_COMPLIANT")


def test_an_exempt_function_is_skipped_even_by_a_real_run(clients: Clients) -> None:
    arn = create_function("orders-api")
    tag(arn, **{"guardrails:exempt": "rules=lambda-concurrency-check reason=accepted risk"})
    unreserved(clients, 1000)
    result = run(concurrency.SCRIPT, events("orders-api"), clients)
    assert result["status"] == "SKIPPED_EXEMPT"
    assert result["changes"] == []
    assert _reserved("orders-api") is None


def test_the_exemption_tag_key_is_configurable(clients: Clients) -> None:
    arn = create_function("orders-api")
    tag(
        arn,
        **{
            "guardrails:exempt": "rules=lambda-concurrency-check reason=accepted risk",
            "team:skip": "rules=lambda-concurrency-check reason=team decision",
        },
    )
    unreserved(clients, 1000)
    result = run(concurrency.SCRIPT, events("orders-api", ExemptionTagKey="other"), clients)
    assert result["status"] == "CHANGED"
    skipped = run(concurrency.SCRIPT, events("orders-api", ExemptionTagKey="team:skip"), clients)
    assert skipped["status"] == "SKIPPED_EXEMPT"


def test_a_missing_function_is_a_clear_error(clients: Clients) -> None:
    with pytest.raises(RemediationError, match=r"function gone: lambda:GetFunctionConfiguration"):
        run(concurrency.SCRIPT, events("gone"), clients)


def test_an_aws_error_names_the_function_and_the_call(clients: Clients) -> None:
    """PutFunctionConcurrency refused by Lambda (answered by a hook) becomes a clear error."""
    create_function("orders-api")
    unreserved(clients, 1000)

    def refuse(**_: object) -> object:
        from botocore.awsrequest import AWSResponse

        error = {"Error": {"Code": "LimitExceededException", "Message": "too many"}}
        return AWSResponse("https://stubbed", 400, {}, None), error

    clients.session.register("before-call.lambda.PutFunctionConcurrency", refuse)
    with pytest.raises(
        RemediationError,
        match="function orders-api: lambda:PutFunctionConcurrency failed with "
        "LimitExceededException: too many",
    ):
        run(concurrency.SCRIPT, events("orders-api"), clients)
