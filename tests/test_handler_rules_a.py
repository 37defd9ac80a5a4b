"""The handler over moto for issue 11's rules (rules-a): runtime, tracing, zones, tags, and the
DLQ rule's OnFailure destination. Each reads what Config does not record through the AWS edge:
ec2:DescribeSubnets (once per subnet per invocation), GetFunctionEventInvokeConfig, ListTags."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from rules.aws.clients import Clients
from rules.aws.errors import ReadError
from rules.handler import Settings, handle
from rules.registry import get_rule
from tests.aws.fixtures import (
    ACCOUNT,
    REGION,
    CallLog,
    change_event,
    config_item,
    create_function,
    run,
    scheduled_event,
    setup_clients,
)

RUNTIME = "lambda-runtime-supported"
XRAY = "lambda-xray-tracing-active"
MULTI_AZ = "lambda-vpc-multi-az"
TAGGED = "lambda-tagged"
DLQ = "lambda-dlq-check"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders-failures"


def _evaluations(calls: CallLog) -> dict[str, dict[str, Any]]:
    return {
        e["ComplianceResourceId"]: e
        for call in calls.of("config:PutEvaluations")
        for e in call["Evaluations"]
    }


def _only(calls: CallLog) -> dict[str, Any]:
    [evaluation] = _evaluations(calls).values()
    return evaluation


def _handle_at(event: dict[str, Any], clients: Clients, rule_id: str, now: datetime) -> None:
    settings = Settings(get_rule(rule_id), REGION, max_attempts=3)
    handle(event, settings=settings, clients=clients, now=now)


# --- lambda-runtime-supported ------------------------------------------------------------------


def test_the_invocation_time_is_the_evaluation_date(clients: Clients, calls: CallLog) -> None:
    item = config_item(runtime="python3.10")  # deprecated 2026-10-31
    _handle_at(change_event(item), clients, RUNTIME, datetime(2026, 1, 2, tzinfo=UTC))
    assert _only(calls)["ComplianceType"] == "COMPLIANT"
    calls.calls.clear()
    _handle_at(change_event(item), clients, RUNTIME, datetime(2026, 11, 22, tzinfo=UTC))
    evaluation = _only(calls)
    assert evaluation["ComplianceType"] == "NON_COMPLIANT"
    assert "deprecated since 2026-10-31" in evaluation["Annotation"]


def test_days_before_deprecation_comes_from_the_rule_parameters(
    clients: Clients, calls: CallLog
) -> None:
    item = config_item(runtime="python3.10")
    event = change_event(item, parameters={"daysBeforeDeprecation": "365"})
    _handle_at(event, clients, RUNTIME, datetime(2026, 1, 2, tzinfo=UTC))
    evaluation = _only(calls)
    assert evaluation["ComplianceType"] == "NON_COMPLIANT"
    assert "in 302 day(s)" in evaluation["Annotation"]


def test_an_image_function_is_not_applicable(clients: Clients, calls: CallLog) -> None:
    item = config_item(runtime=None, packageType="Image")
    run(change_event(item), clients, RUNTIME)
    assert _only(calls)["ComplianceType"] == "NOT_APPLICABLE"


# --- lambda-xray-tracing-active ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "expected"), [("Active", "COMPLIANT"), ("PassThrough", "NON_COMPLIANT")]
)
def test_tracing_from_the_item(clients: Clients, calls: CallLog, mode: str, expected: str) -> None:
    run(change_event(config_item(tracingConfig={"mode": mode})), clients, XRAY)
    assert _only(calls)["ComplianceType"] == expected
    # GetFindings: the exemption workflow (rules.aws.workflow) looks for findings it suppressed.
    assert calls.actions() == {
        "config:PutEvaluations",
        "securityhub:BatchImportFindings",
        "securityhub:GetFindings",
    }


def test_tracing_in_the_lambda_api_sweep(clients: Clients, calls: CallLog) -> None:
    create_function("untraced")
    # moto gap: UpdateFunctionConfiguration ignores TracingConfig; CreateFunction keeps it.
    setup = setup_clients()
    setup["lambda"].create_function(
        FunctionName="traced",
        Runtime="python3.12",
        Role=setup["iam"].get_role(RoleName="fn-role")["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        TracingConfig={"Mode": "Active"},
    )
    _sweep(clients, XRAY)
    found = _evaluations(calls)
    assert found["traced"]["ComplianceType"] == "COMPLIANT"
    assert found["untraced"]["ComplianceType"] == "NON_COMPLIANT"


def _sweep(clients: Clients, rule_id: str, parameters: dict[str, str] | None = None) -> None:
    """A periodic evaluation from the Lambda API (moto gap: no Lambda items, no compliance
    queries: the Config client is stubbed)."""
    with Stubber(clients.client("config")) as stub:
        stub.add_response("describe_configuration_recorders", {"ConfigurationRecorders": []})
        stub.add_response("get_compliance_details_by_config_rule", {"EvaluationResults": []})
        stub.add_response("put_evaluations", {"FailedEvaluations": []})
        run(scheduled_event(parameters=parameters), clients, rule_id)


# --- lambda-vpc-multi-az -----------------------------------------------------------------------


def _subnets(*zones: str) -> list[str]:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    return [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate(zones)
    ]


def _vpc_item(subnets: list[str]) -> dict[str, Any]:
    return config_item(vpcConfig={"subnetIds": subnets, "securityGroupIds": ["sg-0a1b2c3d"]})


def test_zones_are_read_from_ec2(clients: Clients, calls: CallLog) -> None:
    subnets = _subnets("us-east-1a", "us-east-1b")
    run(change_event(_vpc_item(subnets)), clients, MULTI_AZ)
    evaluation = _only(calls)
    assert evaluation["ComplianceType"] == "COMPLIANT"
    assert "us-east-1a, us-east-1b" in evaluation["Annotation"]
    assert calls.of("ec2:DescribeSubnets") == [{"SubnetIds": subnets}]


def test_one_zone_is_not_enough(clients: Clients, calls: CallLog) -> None:
    subnets = _subnets("us-east-1a", "us-east-1a")
    run(change_event(_vpc_item(subnets)), clients, MULTI_AZ)
    assert _only(calls)["ComplianceType"] == "NON_COMPLIANT"


def test_a_subnet_ec2_does_not_know_has_no_zone(clients: Clients, calls: CallLog) -> None:
    [known] = _subnets("us-east-1a")
    run(change_event(_vpc_item([known, "subnet-0dead0000beef0000"])), clients, MULTI_AZ)
    evaluation = _only(calls)
    assert evaluation["ComplianceType"] == "NON_COMPLIANT"
    assert "subnet-0dead0000beef0000 is unknown" in evaluation["Annotation"]


def test_outside_a_vpc_nothing_is_read(clients: Clients, calls: CallLog) -> None:
    run(change_event(config_item(vpcConfig={"subnetIds": []})), clients, MULTI_AZ)
    assert _only(calls)["ComplianceType"] == "NOT_APPLICABLE"
    assert not calls.of("ec2:DescribeSubnets")


def test_a_failed_describe_subnets_is_no_verdict(clients: Clients, calls: CallLog) -> None:
    # Stubber: moto cannot be made to fail DescribeSubnets.
    with Stubber(clients.client("ec2")) as stub:
        stub.add_client_error("describe_subnets", service_error_code="InternalError")
        with pytest.raises(ReadError, match="availability zones of subnet"):
            run(change_event(_vpc_item(["subnet-0a1b2c3d"])), clients, MULTI_AZ)
    assert not calls.of("config:PutEvaluations")


def test_the_sweep_reads_each_subnet_once(clients: Clients, calls: CallLog) -> None:
    subnets = _subnets("us-east-1a", "us-east-1b")
    lambda_ = setup_clients()["lambda"]
    for name in ("a", "b", "c"):
        create_function(name)
        lambda_.update_function_configuration(
            FunctionName=name, VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": ["sg-1"]}
        )
    _sweep(clients, MULTI_AZ)
    assert {e["ComplianceType"] for e in _evaluations(calls).values()} == {"COMPLIANT"}
    assert len(calls.of("ec2:DescribeSubnets")) == 1


# --- lambda-tagged -----------------------------------------------------------------------------


def test_tags_from_the_item(clients: Clients, calls: CallLog) -> None:
    item = config_item()  # tags app=orders, env=prod
    event = change_event(item, parameters={"requiredTagKeys": "app,team"})
    run(event, clients, TAGGED)
    evaluation = _only(calls)
    assert evaluation["ComplianceType"] == "NON_COMPLIANT"
    assert "missing required tag(s) team" in evaluation["Annotation"]


def test_the_lambda_api_sweep_lists_tags(clients: Clients, calls: CallLog) -> None:
    arn = create_function("tagged-fn")
    setup_clients()["lambda"].tag_resource(Resource=arn, Tags={"team": "orders", "env": "dev"})
    create_function("untagged-fn")
    _sweep(clients, TAGGED, {"allowedTagValues": json.dumps({"env": ["prod", "dev"]})})
    found = _evaluations(calls)
    assert found["tagged-fn"]["ComplianceType"] == "COMPLIANT"
    # allowedTagValues does not require the key; with no required key, an untagged function
    # passes it (requiredTagKeys would fail it).
    assert found["untagged-fn"]["ComplianceType"] == "COMPLIANT"
    assert len(calls.of("lambda:ListTags")) == 2


# --- lambda-dlq-check: acceptOnFailureDestination -----------------------------------------------


def _no_dlq_item() -> dict[str, Any]:
    return config_item(deadLetterConfig=None)


def test_the_on_failure_destination_is_read_only_when_accepted(
    clients: Clients, calls: CallLog
) -> None:
    create_function("orders-api")
    setup_clients()["lambda"].put_function_event_invoke_config(
        FunctionName="orders-api", DestinationConfig={"OnFailure": {"Destination": QUEUE}}
    )
    run(change_event(_no_dlq_item()), clients, DLQ)
    assert _only(calls)["ComplianceType"] == "NON_COMPLIANT"
    assert not calls.of("lambda:GetFunctionEventInvokeConfig")
    calls.calls.clear()
    event = change_event(_no_dlq_item(), parameters={"acceptOnFailureDestination": "true"})
    run(event, clients, DLQ)
    evaluation = _only(calls)
    assert evaluation["ComplianceType"] == "COMPLIANT"
    assert QUEUE in evaluation["Annotation"]
    [read] = calls.of("lambda:GetFunctionEventInvokeConfig")
    assert "Qualifier" not in read  # the unqualified function, as DeadLetterConfig


def test_no_invoke_config_is_no_destination(clients: Clients, calls: CallLog) -> None:
    create_function("orders-api")
    event = change_event(_no_dlq_item(), parameters={"acceptOnFailureDestination": "true"})
    run(event, clients, DLQ)
    evaluation = _only(calls)
    assert evaluation["ComplianceType"] == "NON_COMPLIANT"
    assert "no OnFailure destination" in evaluation["Annotation"]


def test_an_unreadable_invoke_config_is_no_verdict(clients: Clients, calls: CallLog) -> None:
    event = change_event(_no_dlq_item(), parameters={"acceptOnFailureDestination": "true"})
    with Stubber(clients.client("lambda")) as stub:
        stub.add_client_error(
            "get_function_event_invoke_config", service_error_code="ServiceException"
        )
        with pytest.raises(ReadError, match="asynchronous invocation configuration"):
            run(event, clients, DLQ)
    assert not calls.of("config:PutEvaluations")


def test_the_sweep_reads_the_destination_of_functions_without_a_dlq(
    clients: Clients, calls: CallLog
) -> None:
    create_function("with-destination")
    setup_clients()["lambda"].put_function_event_invoke_config(
        FunctionName="with-destination", DestinationConfig={"OnFailure": {"Destination": QUEUE}}
    )
    create_function("without")
    _sweep(clients, DLQ, {"acceptOnFailureDestination": "true"})
    found = _evaluations(calls)
    assert found["with-destination"]["ComplianceType"] == "COMPLIANT"
    assert found["without"]["ComplianceType"] == "NON_COMPLIANT"
