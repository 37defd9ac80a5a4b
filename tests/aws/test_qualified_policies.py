"""Reading alias and version policies (``rules.aws.inventory.qualified_policies``) and using them
in periodic evaluations only.

moto gap: moto 5.2.5 returns a qualifier's permissions in the unqualified policy too (and the
unqualified ones under every qualifier), so it cannot show that ``GetPolicy`` without
``Qualifier`` misses them. botocore's Stubber plays Lambda where that matters.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber

from rules.aws.clients import Clients
from rules.aws.errors import IncompleteEvaluationError, ReadError
from rules.aws.inventory import qualified_policies
from rules.model import QualifierKind, ResourcePolicy
from tests.aws.fixtures import (
    ACCOUNT,
    REGION,
    CallLog,
    all_findings,
    change_event,
    config_item,
    create_function,
    run,
    scheduled_event,
)
from tests.factories import BASE
from tests.test_handler_sweep import PUBLIC, TESTMODE_PUT, _recorded, _stub_config_sweep

PUBLIC_URL = {
    "Version": "2012-10-17",
    "Id": "default",
    "Statement": [
        {
            "Sid": "url",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "lambda:InvokeFunctionUrl",
            "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-api:prod",
            "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
        }
    ],
}
FUNCTION = BASE  # orders-api


def _alias(name: str) -> dict[str, Any]:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-api:{name}"
    return {"AliasArn": arn, "Name": name, "FunctionVersion": "1", "RevisionId": "r"}


def _version(number: str) -> dict[str, Any]:
    return {"FunctionName": "orders-api", "Version": number}


def _policy_response(document: dict[str, Any]) -> dict[str, Any]:
    return {"Policy": json.dumps(document), "RevisionId": "r"}


def test_each_alias_policy_is_read_with_its_qualifier(clients: Clients) -> None:
    lambda_client = clients.client("lambda")
    with Stubber(lambda_client) as stub:
        stub.add_response(
            "list_aliases",
            {"Aliases": [_alias("prod")], "NextMarker": "m1"},
            {"FunctionName": "orders-api"},
        )
        stub.add_response(
            "list_aliases",
            {"Aliases": [_alias("dev")]},
            {"FunctionName": "orders-api", "Marker": "m1"},
        )
        stub.add_response(
            "get_policy",
            _policy_response(PUBLIC_URL),
            {"FunctionName": "orders-api", "Qualifier": "prod"},
        )
        stub.add_client_error(
            "get_policy",
            service_error_code="ResourceNotFoundException",
            expected_params={"FunctionName": "orders-api", "Qualifier": "dev"},
        )
        policies = qualified_policies(lambda_client, FUNCTION, versions=False)
        stub.assert_no_pending_responses()
    assert policies is not None
    assert [(p.kind, p.qualifier) for p in policies] == [
        (QualifierKind.ALIAS, "prod"),
        (QualifierKind.ALIAS, "dev"),
    ]
    prod, dev = policies
    assert isinstance(prod.policy, ResourcePolicy)
    assert prod.policy.statements[0].sid == "url"
    assert dev.policy is None  # ResourceNotFound on a qualifier's policy: it has none


def test_with_versions_every_published_version_is_read_but_not_latest(clients: Clients) -> None:
    lambda_client = clients.client("lambda")
    with Stubber(lambda_client) as stub:
        stub.add_response("list_aliases", {"Aliases": []})
        stub.add_response(
            "list_versions_by_function",
            {"Versions": [_version("$LATEST"), _version("1"), _version("2")]},
            {"FunctionName": "orders-api"},
        )
        for number in ("1", "2"):
            stub.add_response(
                "get_policy",
                _policy_response(PUBLIC_URL),
                {"FunctionName": "orders-api", "Qualifier": number},
            )
        policies = qualified_policies(lambda_client, FUNCTION, versions=True)
        stub.assert_no_pending_responses()
    assert [(p.kind, p.qualifier) for p in policies or ()] == [
        (QualifierKind.VERSION, "1"),
        (QualifierKind.VERSION, "2"),
    ]


def test_a_function_gone_since_the_listing_is_none(clients: Clients) -> None:
    lambda_client = clients.client("lambda")
    with Stubber(lambda_client) as stub:
        stub.add_client_error("list_aliases", service_error_code="ResourceNotFoundException")
        assert qualified_policies(lambda_client, FUNCTION, versions=False) is None


@pytest.mark.parametrize("code", ["ServiceException", "TooManyRequestsException"])
def test_any_other_failure_on_a_qualifier_policy_is_no_verdict(clients: Clients, code: str) -> None:
    lambda_client = clients.client("lambda")
    with Stubber(lambda_client) as stub:
        stub.add_response("list_aliases", {"Aliases": [_alias("prod")]})
        stub.add_client_error("get_policy", service_error_code=code)
        with pytest.raises(ReadError, match=f"alias 'prod'.*{code}"):
            qualified_policies(lambda_client, FUNCTION, versions=False)


def test_the_sweep_flags_a_public_alias_and_names_it(clients: Clients, calls: CallLog) -> None:
    """The acceptance case: the function's own policy is clean, its alias is public."""
    names = ["orders-api"]
    items = {"orders-api": _recorded("orders-api")}
    with Stubber(clients.client("config")) as config, Stubber(clients.client("lambda")) as lam:
        _stub_config_sweep(config, names, [], items)
        config.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        lam.add_response(
            "list_aliases", {"Aliases": [_alias("prod")]}, {"FunctionName": "orders-api"}
        )
        lam.add_response(
            "get_policy",
            _policy_response(PUBLIC_URL),
            {"FunctionName": "orders-api", "Qualifier": "prod"},
        )
        run(scheduled_event(), clients, PUBLIC)
        lam.assert_no_pending_responses()
    (evaluation,) = [e for c in calls.of("config:PutEvaluations") for e in c["Evaluations"]]
    assert evaluation["ComplianceType"] == "NON_COMPLIANT"
    assert evaluation["Annotation"].startswith(
        "alias 'prod': statement 'url' allows Principal '*' lambda:InvokeFunctionUrl"
    )
    (finding,) = all_findings()
    assert finding["Compliance"]["Status"] == "FAILED"


def test_check_versions_makes_the_sweep_read_versions(clients: Clients, calls: CallLog) -> None:
    names = ["orders-api"]
    items = {"orders-api": _recorded("orders-api")}
    with Stubber(clients.client("config")) as config, Stubber(clients.client("lambda")) as lam:
        _stub_config_sweep(config, names, [], items)
        config.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        lam.add_response("list_aliases", {"Aliases": []})
        lam.add_response("list_versions_by_function", {"Versions": [_version("3")]})
        lam.add_response(
            "get_policy",
            _policy_response(PUBLIC_URL),
            {"FunctionName": "orders-api", "Qualifier": "3"},
        )
        run(scheduled_event(parameters={"checkVersions": "true"}), clients, PUBLIC)
        lam.assert_no_pending_responses()
    (evaluation,) = [e for c in calls.of("config:PutEvaluations") for e in c["Evaluations"]]
    assert evaluation["ComplianceType"] == "NON_COMPLIANT"
    assert evaluation["Annotation"].startswith("version '3': statement 'url'")


def test_a_failed_alias_read_in_a_sweep_is_no_verdict_for_that_function(
    clients: Clients, calls: CallLog
) -> None:
    names = ["orders-api"]
    items = {"orders-api": _recorded("orders-api")}
    with Stubber(clients.client("config")) as config, Stubber(clients.client("lambda")) as lam:
        _stub_config_sweep(config, names, [], items)
        lam.add_response("list_aliases", {"Aliases": [_alias("prod")]})
        lam.add_client_error("get_policy", service_error_code="ServiceException")
        with pytest.raises(IncompleteEvaluationError, match="alias 'prod'"):
            run(scheduled_event(), clients, PUBLIC)
    assert "config:PutEvaluations" not in calls.counts()


def test_a_change_event_reads_no_qualifier_and_says_so(clients: Clients, calls: CallLog) -> None:
    """Config sends no change event for a qualifier's permission: change evaluations stay at
    PutEvaluations + BatchImportFindings."""
    create_function("orders-api")
    run(change_event(config_item("lambda_ci_compliant.json")), clients, PUBLIC)
    assert set(calls.counts()) == {
        "config:PutEvaluations",
        "securityhub:BatchImportFindings",
        "securityhub:GetFindings",  # suppressed-for-an-exemption findings (rules.aws.workflow)
    }
    (evaluation,) = calls.of("config:PutEvaluations")[0]["Evaluations"]
    assert evaluation["ComplianceType"] == "COMPLIANT"
    assert "read by the periodic evaluation" in evaluation["Annotation"]
