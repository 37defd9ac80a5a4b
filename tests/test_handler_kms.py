"""The CMK rule through the handler: Lambda's ``Environment.Error`` and who manages the key.

moto gaps, named where they are worked around: moto never answers GetFunctionConfiguration with
an ``Environment.Error`` (it decrypts nothing), and its DescribeKey reports ``KeyManager:
CUSTOMER`` for every key, AWS managed ones included. Those answers come from botocore's Stubber
on the client the handler itself uses, so the real calls stay in the code.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from rules.aws.clients import Clients
from rules.aws.errors import IncompleteEvaluationError
from rules.aws.kms import KeyManagerError
from rules.parameters import NO_PARAMETERS
from rules.registry import get_rule
from rules.scan import scan_region
from tests.aws.fixtures import (
    ACCOUNT,
    KEY_ARN,
    REGION,
    CallLog,
    change_event,
    config_item,
    create_function,
    load,
    run,
    scheduled_event,
)
from tests.test_handler_errors import _metrics

ENV_CMK = "lambda-env-vars-cmk-encrypted"
ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-api"
TESTMODE_PUT = {"Evaluations": ANY, "ResultToken": "TESTMODE", "TestMode": True}
DENIAL = (
    f"User: arn:aws:sts::{ACCOUNT}:assumed-role/guardrails-env-cmk/s is not authorized to "
    f"perform: kms:DescribeKey on resource: {KEY_ARN}"
)


def _evaluations(calls: CallLog) -> list[dict[str, Any]]:
    return [e for call in calls.of("config:PutEvaluations") for e in call["Evaluations"]]


def _denied_configuration(*, key: str | None = KEY_ARN, name: str = "orders-api") -> dict:
    """The real GetFunctionConfiguration answer for variables the caller cannot decrypt."""
    response = copy.deepcopy(load("lambda_get_function_configuration_kms_denied.json"))
    response.update(
        FunctionName=name, FunctionArn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    )
    if key is None:
        # A role re-created under the same name loses Lambda's grant on aws/lambda too.
        del response["KMSKeyArn"]
    else:
        response["KMSKeyArn"] = key
    return response


def _key_metadata(key: str, manager: str) -> dict[str, Any]:
    return {"KeyMetadata": {"KeyId": key.rsplit("/", 1)[1], "Arn": key, "KeyManager": manager}}


def _moto_key() -> str:
    """A key in moto (whose DescribeKey says CUSTOMER, rightly for this one)."""
    import boto3

    kms = boto3.client("kms", region_name=REGION)
    return str(kms.create_key(Description="orders")["KeyMetadata"]["Arn"])


# --- Unreadable environment ---------------------------------------------------------------


def test_an_environment_error_without_a_cmk_is_non_compliant_naming_the_error(
    clients: Clients, calls: CallLog
) -> None:
    item = config_item("lambda_ci_noncompliant.json")  # no KMS key: variables must be read
    with Stubber(clients.client("lambda")) as stub:
        stub.add_response(
            "get_function_configuration",
            _denied_configuration(key=None),
            {"FunctionName": ARN},
        )
        run(change_event(item), clients, ENV_CMK)
        stub.assert_no_pending_responses()
    [evaluation] = _evaluations(calls)
    assert evaluation["ComplianceType"] == "NON_COMPLIANT"
    assert "KMSAccessDeniedException" in evaluation["Annotation"]
    assert "no environment variables" not in evaluation["Annotation"]


def test_an_environment_error_with_an_aws_managed_key_arn_is_non_compliant(
    clients: Clients, calls: CallLog
) -> None:
    item = config_item("lambda_ci_compliant.json")  # kmskeyArn = KEY_ARN, this account
    with Stubber(clients.client("kms")) as kms, Stubber(clients.client("lambda")) as lam:
        kms.add_response("describe_key", _key_metadata(KEY_ARN, "AWS"), {"KeyId": KEY_ARN})
        lam.add_response(
            "get_function_configuration", _denied_configuration(), {"FunctionName": ARN}
        )
        run(change_event(item), clients, ENV_CMK)
        kms.assert_no_pending_responses()
        lam.assert_no_pending_responses()
    [evaluation] = _evaluations(calls)
    assert evaluation["ComplianceType"] == "NON_COMPLIANT"
    assert "KMSAccessDeniedException" in evaluation["Annotation"]
    assert "AWS managed" in evaluation["Annotation"]


def test_the_sweep_reads_an_environment_error_from_list_functions(
    clients: Clients, calls: CallLog
) -> None:
    listed = [_denied_configuration(key=None, name="locked"), _denied_configuration(name="keyed")]
    keyed = listed[1]["KMSKeyArn"]
    with (
        Stubber(clients.client("config")) as config,
        Stubber(clients.client("lambda")) as lam,
        Stubber(clients.client("kms")) as kms,
    ):
        config.add_response("describe_configuration_recorders", {"ConfigurationRecorders": []})
        lam.add_response("list_functions", {"Functions": listed})
        for _ in listed:  # the exemption tag: ListFunctions carries no tags
            lam.add_response("list_tags", {"Tags": {}})
        kms.add_response("describe_key", _key_metadata(keyed, "CUSTOMER"), {"KeyId": keyed})
        config.add_response("get_compliance_details_by_config_rule", {"EvaluationResults": []})
        config.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        run(scheduled_event(), clients, ENV_CMK, export=False)
    verdicts = {e["ComplianceResourceId"]: e for e in _evaluations(calls)}
    assert verdicts["locked"]["ComplianceType"] == "NON_COMPLIANT"
    assert "KMSAccessDeniedException" in verdicts["locked"]["Annotation"]
    assert verdicts["keyed"]["ComplianceType"] == "COMPLIANT"
    assert calls.counts()["lambda:GetFunctionConfiguration"] == 0


# --- Who manages the key ------------------------------------------------------------------


def test_an_aws_managed_key_given_by_its_key_arn_is_not_customer_managed(
    clients: Clients, calls: CallLog
) -> None:
    create_function("orders-api", environment={"DB_HOST": "db"}, kms_key_arn=KEY_ARN)
    # moto gap: its DescribeKey says CUSTOMER for every key; AWS says AWS for aws/lambda's key.
    with Stubber(clients.client("kms")) as kms:
        kms.add_response("describe_key", _key_metadata(KEY_ARN, "AWS"), {"KeyId": KEY_ARN})
        run(change_event(config_item("lambda_ci_compliant.json")), clients, ENV_CMK)
        kms.assert_no_pending_responses()
    [evaluation] = _evaluations(calls)
    assert evaluation["ComplianceType"] == "NON_COMPLIANT"
    assert f"key {KEY_ARN} is AWS managed" in evaluation["Annotation"]
    assert "1 environment variable(s)" in evaluation["Annotation"]
    assert calls.counts()["kms:DescribeKey"] == 1


def test_a_warm_container_asks_about_a_key_once(clients: Clients, calls: CallLog) -> None:
    key = _moto_key()
    for name in ("orders-api", "billing-api"):
        item = config_item("lambda_ci_compliant.json", kmskeyArn=key, functionName=name)
        item.update(resourceId=name, resourceName=name, ARN=ARN.replace("orders-api", name))
        run(change_event(item), clients, ENV_CMK)
    assert [e["ComplianceType"] for e in _evaluations(calls)] == ["COMPLIANT", "COMPLIANT"]
    assert calls.of("kms:DescribeKey") == [{"KeyId": key}]
    assert calls.counts()["lambda:GetFunctionConfiguration"] == 0


def test_scan_threads_share_one_describe_key_per_key(clients: Clients, calls: CallLog) -> None:
    key = _moto_key()
    names = [f"fn-{i}" for i in range(6)]
    for name in names:
        create_function(name, environment={"A": "x"}, kms_key_arn=key)
    rule = get_rule(ENV_CMK)
    scan = scan_region(clients, [rule], {rule.id: NO_PARAMETERS}, source="lambda", workers=4)
    assert sorted(r.evaluation.resource_id for r in scan.results) == names
    assert {r.evaluation.compliance.value for r in scan.results} == {"COMPLIANT"}
    assert calls.of("kms:DescribeKey") == [{"KeyId": key}]


def test_a_denied_describe_key_gives_no_verdict_naming_the_key(
    clients: Clients, calls: CallLog, capsys: pytest.CaptureFixture[str]
) -> None:
    with Stubber(clients.client("kms")) as kms:
        kms.add_client_error(
            "describe_key", "AccessDeniedException", DENIAL, 400, expected_params={"KeyId": KEY_ARN}
        )
        with pytest.raises(KeyManagerError) as error:
            run(change_event(config_item("lambda_ci_compliant.json")), clients, ENV_CMK)
    assert error.value.key_arn == KEY_ARN and KEY_ARN in str(error.value)
    assert "kms:DescribeKey was denied" in str(error.value)
    assert _evaluations(calls) == []
    # Counted as a resource without a verdict, not as an unexpected error.
    metrics = _metrics(capsys.readouterr().out)
    assert metrics["EvaluationErrors"] == [1.0]
    assert "Errors" not in metrics


def test_a_missing_key_gives_no_verdict_naming_the_key(clients: Clients, calls: CallLog) -> None:
    # KEY_ARN does not exist in moto: DescribeKey answers NotFoundException.
    with pytest.raises(KeyManagerError, match="NotFoundException") as error:
        run(change_event(config_item("lambda_ci_compliant.json")), clients, ENV_CMK)
    assert KEY_ARN in str(error.value)
    assert _evaluations(calls) == []


def test_in_a_sweep_a_denied_key_fails_only_its_function(clients: Clients, calls: CallLog) -> None:
    listed = [_denied_configuration(name="denied"), _denied_configuration(key=None, name="open")]
    with (
        Stubber(clients.client("config")) as config,
        Stubber(clients.client("lambda")) as lam,
        Stubber(clients.client("kms")) as kms,
    ):
        config.add_response("describe_configuration_recorders", {"ConfigurationRecorders": []})
        lam.add_response("list_functions", {"Functions": listed})
        for _ in listed:  # the exemption tag: ListFunctions carries no tags
            lam.add_response("list_tags", {"Tags": {}})
        kms.add_client_error("describe_key", "AccessDeniedException", DENIAL, 400)
        config.add_response("get_compliance_details_by_config_rule", {"EvaluationResults": []})
        config.add_response("put_evaluations", {"FailedEvaluations": []}, TESTMODE_PUT)
        with pytest.raises(IncompleteEvaluationError) as error:
            run(scheduled_event(), clients, ENV_CMK, export=False)
    [(resource, message)] = error.value.problems
    assert resource == "denied" and KEY_ARN in message
    assert [(e["ComplianceResourceId"], e["ComplianceType"]) for e in _evaluations(calls)] == [
        ("open", "NON_COMPLIANT")
    ]


def test_a_failed_describe_key_is_asked_again_next_time(clients: Clients, calls: CallLog) -> None:
    event = change_event(config_item("lambda_ci_compliant.json"))
    with Stubber(clients.client("kms")) as kms:
        kms.add_client_error("describe_key", "InvalidArnException", "not now", 400)
        kms.add_response("describe_key", _key_metadata(KEY_ARN, "CUSTOMER"), {"KeyId": KEY_ARN})
        with pytest.raises(KeyManagerError, match="InvalidArnException"):
            run(event, clients, ENV_CMK)
        run(event, clients, ENV_CMK)
        kms.assert_no_pending_responses()
    assert [e["ComplianceType"] for e in _evaluations(calls)] == ["COMPLIANT"]
