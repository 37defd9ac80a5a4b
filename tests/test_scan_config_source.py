"""scan over AWS Config's recorded items (moto records none for Lambda, so botocore's Stubber
plays Config here): the source is named with the reason, items are read in batches, and the only
Lambda reads are what Config does not record: the alias listing the public-access rule needs
(qualified policies), the function URLs, the code signing configuration and the variables'
values; none for a function whose key settles the CMK rule (one kms:DescribeKey says who
manages it); a recorder that is stopped, failing or daily makes ``auto`` read the Lambda API and
``--source config`` fail."""

from __future__ import annotations

import io
import json
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

import rules.scan
from rules.cli import main
from rules.model import Compliance
from rules.parameters import NO_PARAMETERS
from rules.registry import RULES
from rules.scan import scan_region
from tests.conftest import load_event


def batch_item(item: dict[str, Any]) -> dict[str, Any]:
    """The event-shaped item in BatchGetResourceConfig's shape (JSON text, arn, accountId)."""
    return {
        "version": "1.3",
        "accountId": item["awsAccountId"],
        "configurationItemCaptureTime": item["configurationItemCaptureTime"],
        "configurationItemStatus": item["configurationItemStatus"],
        "configurationStateId": "1",
        "arn": item["ARN"],
        "resourceType": item["resourceType"],
        "resourceId": item["resourceId"],
        "resourceName": item["resourceName"],
        "awsRegion": item["awsRegion"],
        "availabilityZone": "Not Applicable",
        "configuration": json.dumps(item["configuration"]),
        "supplementaryConfiguration": {
            key: value if isinstance(value, str) else json.dumps(value)
            for key, value in item["supplementaryConfiguration"].items()
        },
    }


HEALTHY = {"name": "default", "recording": True, "lastStatus": "Success"}
RECORDS_ALL = {
    "ConfigurationRecorders": [{"name": "default", "recordingGroup": {"allSupported": True}}]
}


class StubbedClients:
    region = "us-east-1"

    def __init__(self) -> None:
        session = botocore.session.get_session()
        self._clients = {
            name: session.create_client(
                name, region_name=self.region, aws_access_key_id="a", aws_secret_access_key="b"
            )
            for name in ("config", "lambda", "kms", "ec2")
        }
        self.stubbers = {name: Stubber(client) for name, client in self._clients.items()}

    def client(self, service: str) -> Any:
        return self._clients[service]


CODE_SIGNING_CONFIG = (
    "arn:aws:lambda:us-east-1:111122223333:code-signing-config:csc-0a1b2c3d4e5f60718"
)


def _stub_unrecorded_lambda_reads(stub: Stubber, item: dict[str, Any]) -> None:
    """What Config never records, one Lambda read each (AWS's response shapes): the function
    URLs (lambda-function-url-auth-required), the code signing configuration
    (lambda-code-signing-enforced), the variables' values (lambda-no-secrets-in-env-vars).
    lambda-unique-execution-role reads nothing more: the inventory is its view."""
    arn = item["ARN"]
    stub.add_response(
        "list_function_url_configs",
        {
            "FunctionUrlConfigs": [
                {
                    "FunctionUrl": "https://abcdefghij.lambda-url.us-east-1.on.aws/",
                    "FunctionArn": arn,
                    "CreationTime": "2026-01-01T00:00:00.000+0000",
                    "LastModifiedTime": "2026-01-01T00:00:00.000+0000",
                    "AuthType": "AWS_IAM",
                }
            ]
        },
        {"FunctionName": arn},
    )
    stub.add_response(
        "get_function_code_signing_config",
        {"CodeSigningConfigArn": CODE_SIGNING_CONFIG, "FunctionName": item["resourceId"]},
        {"FunctionName": arn},
    )
    stub.add_response(
        "get_code_signing_config",
        {
            "CodeSigningConfig": {
                "CodeSigningConfigId": "csc-0a1b2c3d4e5f60718",
                "CodeSigningConfigArn": CODE_SIGNING_CONFIG,
                "AllowedPublishers": {
                    "SigningProfileVersionArns": [
                        "arn:aws:signer:us-east-1:111122223333:/signing-profiles/Release/abcdef1234"
                    ]
                },
                "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"},
                "LastModified": "2026-01-01T00:00:00.000+0000",
            }
        },
        {"CodeSigningConfigArn": CODE_SIGNING_CONFIG},
    )
    stub.add_response(
        "get_function_configuration",
        {
            "FunctionName": item["resourceId"],
            "FunctionArn": arn,
            "Environment": {"Variables": {"STAGE": "prod", "LOG_LEVEL": "info"}},
        },
        {"FunctionName": arn},
    )


def test_scan_reads_configs_batches_and_names_the_source() -> None:
    item = load_event("lambda_ci_compliant.json")
    clients = StubbedClients()
    config = clients.stubbers["config"]
    config.add_response(
        "describe_configuration_recorders",
        {"ConfigurationRecorders": [{"name": "default", "recordingGroup": {"allSupported": True}}]},
    )
    config.add_response(
        "describe_configuration_recorder_status",
        {"ConfigurationRecordersStatus": [HEALTHY]},
    )
    config.add_response(
        "list_discovered_resources",
        {
            "resourceIdentifiers": [
                {"resourceType": "AWS::Lambda::Function", "resourceId": item["resourceId"]}
            ]
        },
    )
    config.add_response(
        "batch_get_resource_config",
        {"baseConfigurationItems": [batch_item(item)]},
    )
    kms = clients.stubbers["kms"]
    key = item["configuration"]["kmskeyArn"]
    kms.add_response(
        "describe_key",
        {"KeyMetadata": {"KeyId": key.rsplit("/", 1)[1], "Arn": key, "KeyManager": "CUSTOMER"}},
        {"KeyId": key},
    )
    clients.stubbers["lambda"].add_response(
        "list_aliases", {"Aliases": []}, {"FunctionName": item["resourceId"]}
    )
    # lambda-vpc-multi-az: the item's two subnets, one DescribeSubnets call for the scan.
    subnets = item["configuration"]["vpcConfig"]["subnetIds"]
    ec2 = clients.stubbers["ec2"]
    ec2.add_response(
        "describe_subnets",
        {
            "Subnets": [
                {"SubnetId": s, "AvailabilityZone": f"us-east-1{zone}"}
                for s, zone in zip(subnets, "ab", strict=True)
            ]
        },
        {"SubnetIds": subnets},
    )
    _stub_unrecorded_lambda_reads(clients.stubbers["lambda"], item)
    with (
        config,
        kms,
        ec2,
        clients.stubbers["lambda"],
    ):  # no other Lambda call is stubbed: none may happen
        scan = scan_region(clients, RULES, {r.id: NO_PARAMETERS for r in RULES})  # type: ignore[arg-type]
        config.assert_no_pending_responses()
        kms.assert_no_pending_responses()
        ec2.assert_no_pending_responses()
        clients.stubbers["lambda"].assert_no_pending_responses()
    assert scan.source == "config"
    assert "AWS Config" in scan.source_description
    assert scan.source_explanation == (
        "AWS Config's recorded configuration items: Config recorder 'default' records "
        "AWS::Lambda::Function continuously (last status Success)"
    )
    assert [f.name for f in scan.functions] == [item["resourceId"]]
    assert {r.evaluation.rule_id: r.evaluation.compliance for r in scan.results} == {
        rule.id: Compliance.COMPLIANT for rule in RULES
    }
    assert all(r.arn == item["ARN"] for r in scan.results)


PUBLIC_FUNCTION = {
    "FunctionName": "open-api",
    "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:open-api",
    "Runtime": "python3.12",
    "Role": "arn:aws:iam::123456789012:role/fn",
    "Handler": "app.handler",
    "PackageType": "Zip",
}
PUBLIC_POLICY = {
    "Policy": json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "everyone",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "lambda:InvokeFunction",
                    "Resource": PUBLIC_FUNCTION["FunctionArn"],
                }
            ],
        }
    ),
    "RevisionId": "1",
}


def _stopped_recorder(clients: StubbedClients) -> None:
    config = clients.stubbers["config"]
    config.add_response("describe_configuration_recorders", RECORDS_ALL)
    config.add_response(
        "describe_configuration_recorder_status",
        {"ConfigurationRecordersStatus": [{**HEALTHY, "recording": False}]},
    )


PUBLIC_RULE = [r for r in RULES if r.id == "lambda-function-public-access-prohibited"]


def test_a_stopped_recorder_makes_scan_read_the_lambda_api_and_say_why() -> None:
    clients = StubbedClients()
    _stopped_recorder(clients)
    functions = clients.stubbers["lambda"]
    functions.add_response("list_functions", {"Functions": [PUBLIC_FUNCTION]})
    functions.add_response("get_policy", PUBLIC_POLICY)
    functions.add_response("list_tags", {"Tags": {}})  # the exemption tag (Rule.api_reads)
    functions.add_response("list_aliases", {"Aliases": []})
    with clients.stubbers["config"], functions:
        scan = scan_region(clients, PUBLIC_RULE, {r.id: NO_PARAMETERS for r in PUBLIC_RULE})  # type: ignore[arg-type]
    assert scan.source == "lambda"
    assert scan.source_explanation == ("the Lambda API: Config recorder 'default' is not recording")
    assert [(r.evaluation.resource_id, r.evaluation.compliance) for r in scan.results] == [
        ("open-api", Compliance.NON_COMPLIANT)
    ]


@pytest.fixture
def stubbed_cli(monkeypatch: pytest.MonkeyPatch) -> StubbedClients:
    """``python -m rules scan`` on StubbedClients (a Config moto cannot put in these states)."""
    clients = StubbedClients()
    monkeypatch.setattr(rules.scan, "region_clients", lambda session, region: clients)
    return clients


def test_scan_auto_on_a_stopped_recorder_fails_on_the_public_function(
    stubbed_cli: StubbedClients, capsys: pytest.CaptureFixture[str]
) -> None:
    _stopped_recorder(stubbed_cli)
    functions = stubbed_cli.stubbers["lambda"]
    functions.add_response("list_functions", {"Functions": [PUBLIC_FUNCTION]})
    functions.add_response("get_policy", PUBLIC_POLICY)
    functions.add_response("list_tags", {"Tags": {}})  # the exemption tag (Rule.api_reads)
    functions.add_response("list_aliases", {"Aliases": []})
    with stubbed_cli.stubbers["config"], functions:
        code = main(
            [
                "scan",
                "--region",
                "us-east-1",
                "--rule",
                PUBLIC_RULE[0].id,
                "--fail-on",
                "non-compliant",
                "--format",
                "jsonl",
            ],
            io.StringIO(),
        )
    assert code == 1
    assert (
        "rules scan: us-east-1: 1 function(s) read from the Lambda API: "
        "Config recorder 'default' is not recording" in capsys.readouterr().err
    )


def test_scan_source_config_on_a_daily_recorder_exits_2_with_the_reason(
    stubbed_cli: StubbedClients, capsys: pytest.CaptureFixture[str]
) -> None:
    config = stubbed_cli.stubbers["config"]
    daily = {
        "name": "default",
        "recordingGroup": {"allSupported": True},
        "recordingMode": {"recordingFrequency": "DAILY"},
    }
    config.add_response("describe_configuration_recorders", {"ConfigurationRecorders": [daily]})
    with config, stubbed_cli.stubbers["lambda"]:  # no Lambda call is stubbed: none may happen
        code = main(["scan", "--region", "us-east-1", "--source", "config"], io.StringIO())
    assert code == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(
            "rules scan: cannot read functions from AWS Config: Config recorder 'default' records "
            "AWS::Lambda::Function only daily (recordingFrequency DAILY)"
        )
    )
