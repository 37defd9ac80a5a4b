"""scan over AWS Config's recorded items (moto records none for Lambda, so botocore's Stubber
plays Config here): the source is named, items are read in batches, and no Lambda read is made
for a function whose key settles the CMK rule (one kms:DescribeKey says who manages it)."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
from botocore.stub import Stubber

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


class StubbedClients:
    region = "us-east-1"

    def __init__(self) -> None:
        session = botocore.session.get_session()
        self._clients = {
            name: session.create_client(
                name, region_name=self.region, aws_access_key_id="a", aws_secret_access_key="b"
            )
            for name in ("config", "lambda", "kms")
        }
        self.stubbers = {name: Stubber(client) for name, client in self._clients.items()}

    def client(self, service: str) -> Any:
        return self._clients[service]


def test_scan_reads_configs_batches_and_names_the_source() -> None:
    item = load_event("lambda_ci_compliant.json")
    clients = StubbedClients()
    config = clients.stubbers["config"]
    config.add_response(
        "describe_configuration_recorders",
        {"ConfigurationRecorders": [{"name": "default", "recordingGroup": {"allSupported": True}}]},
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
    with config, kms, clients.stubbers["lambda"]:  # no Lambda call is stubbed: none may happen
        scan = scan_region(clients, RULES, {r.id: NO_PARAMETERS for r in RULES})  # type: ignore[arg-type]
        config.assert_no_pending_responses()
        kms.assert_no_pending_responses()
    assert scan.source == "config"
    assert "AWS Config" in scan.source_description
    assert [f.name for f in scan.functions] == [item["resourceId"]]
    assert {r.evaluation.rule_id: r.evaluation.compliance for r in scan.results} == {
        rule.id: Compliance.COMPLIANT for rule in RULES
    }
    assert all(r.arn == item["ARN"] for r in scan.results)
