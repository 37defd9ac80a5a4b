"""The public-access runbook script against moto.

moto gap: a permission added with a Qualifier also shows in the unqualified policy (one store);
the script then meets the alias's statement twice, and RemovePermission answering
ResourceNotFound for the second is "already gone". Real Lambda keeps them apart."""

from __future__ import annotations

import pytest

from rules.aws.clients import Clients
from rules.remediation import public_access
from rules.remediation.common import RemediationError, run
from tests.aws.fixtures import ACCOUNT, create_function, setup_clients
from tests.remediation.conftest import add_permission, events, statement_ids, tag

KEPT = ["partner", "s3-scoped"]


def _function_with_public_statements() -> str:
    arn = create_function("orders-api")
    lambda_client = setup_clients()["lambda"]
    lambda_client.create_alias(FunctionName="orders-api", Name="live", FunctionVersion="$LATEST")
    add_permission("orders-api", "public-any")
    add_permission("orders-api", "partner", principal="210987654321")
    add_permission("orders-api", "s3-unscoped", principal="s3.amazonaws.com")
    add_permission("orders-api", "s3-scoped", principal="s3.amazonaws.com", SourceAccount=ACCOUNT)
    add_permission("orders-api", "alias-public", Qualifier="live")
    return arn


def _url(auth: str = "NONE") -> None:
    setup_clients()["lambda"].create_function_url_config(FunctionName="orders-api", AuthType=auth)
    add_permission(
        "orders-api",
        "url-public",
        Action="lambda:InvokeFunctionUrl",
        FunctionUrlAuthType="NONE",
    )


def _auth_type() -> str:
    config = setup_clients()["lambda"].get_function_url_config(FunctionName="orders-api")
    return str(config["AuthType"])


def test_a_dry_run_lists_the_removals_and_changes_nothing(clients: Clients) -> None:
    _function_with_public_statements()
    before = statement_ids("orders-api")
    result = run(public_access.SCRIPT, events("orders-api", DryRun=True), clients)
    assert result["status"] == "DRY_RUN"
    assert result["verdict"] == "NON_COMPLIANT"
    assert "remove public statement 'public-any'" in result["changes"]
    assert "remove public statement 'alias-public' of qualifier live" in result["changes"]
    assert not any("partner" in change or "s3-scoped" in change for change in result["changes"])
    assert statement_ids("orders-api") == before


def test_a_real_run_removes_exactly_the_public_statements(clients: Clients) -> None:
    _function_with_public_statements()
    result = run(public_access.SCRIPT, events("orders-api"), clients)
    assert result["status"] == "CHANGED"
    assert result["verdict"] == "COMPLIANT"
    assert sorted(statement_ids("orders-api")) == KEPT
    assert "alias-public" not in statement_ids("orders-api", "live")
    assert result["after"]["policy"] == "partner, s3-scoped"
    assert "public-any" in result["before"]["policy"]


def test_a_second_run_changes_nothing(clients: Clients) -> None:
    _function_with_public_statements()
    run(public_access.SCRIPT, events("orders-api"), clients)
    again = run(public_access.SCRIPT, events("orders-api"), clients)
    assert again["status"] == "ALREADY_COMPLIANT"
    assert again["changes"] == []
    assert sorted(statement_ids("orders-api")) == KEPT


def test_a_public_url_is_left_alone_without_fix_function_url(clients: Clients) -> None:
    _function_with_public_statements()
    _url()
    before = statement_ids("orders-api")
    with pytest.raises(RemediationError, match="run with FixFunctionUrl=true"):
        run(public_access.SCRIPT, events("orders-api"), clients)
    assert statement_ids("orders-api") == before
    assert _auth_type() == "NONE"


def test_fix_function_url_switches_the_url_to_iam_and_removes_its_statements(
    clients: Clients,
) -> None:
    _function_with_public_statements()
    _url()
    result = run(public_access.SCRIPT, events("orders-api", FixFunctionUrl=True), clients)
    assert result["verdict"] == "COMPLIANT"
    assert "switch the function URL from auth type NONE to AWS_IAM" in result["changes"]
    assert _auth_type() == "AWS_IAM"
    assert sorted(statement_ids("orders-api")) == KEPT


def test_fix_function_url_as_text(clients: Clients) -> None:
    create_function("orders-api")
    _url()
    run(public_access.SCRIPT, events("orders-api", FixFunctionUrl="true"), clients)
    assert _auth_type() == "AWS_IAM"
    assert statement_ids("orders-api") == []


def test_a_function_without_a_policy_is_already_compliant(clients: Clients) -> None:
    create_function("orders-api")
    result = run(public_access.SCRIPT, events("orders-api"), clients)
    assert result["status"] == "ALREADY_COMPLIANT"


def test_an_exempt_function_is_skipped(clients: Clients) -> None:
    arn = _function_with_public_statements()
    tag(
        arn,
        **{
            "guardrails:exempt": (
                "rules=lambda-function-public-access-prohibited reason=accepted risk"
            )
        },
    )
    before = statement_ids("orders-api")
    result = run(public_access.SCRIPT, events("orders-api"), clients)
    assert result["status"] == "SKIPPED_EXEMPT"
    assert statement_ids("orders-api") == before
