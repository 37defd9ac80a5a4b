"""Aggregate configuration items (``BatchGetAggregateResourceConfig``'s ``BaseConfigurationItem``
shape: ``accountId``, ``arn``, ``configuration`` and every supplementaryConfiguration value as
JSON text, no tags, no relationships) built from the invoking-event shape, and the Stubber
responses of the aggregate APIs moto 5.2.5 does not implement."""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from rules.model import LAMBDA_FUNCTION


def base_item(event_item: Mapping[str, Any]) -> dict[str, Any]:
    supplementary = event_item.get("supplementaryConfiguration") or {}
    return {
        "version": "1.3",
        "accountId": event_item["awsAccountId"],
        "configurationItemCaptureTime": event_item.get("configurationItemCaptureTime"),
        "configurationItemStatus": event_item["configurationItemStatus"],
        "configurationStateId": "1732312345678",
        "arn": event_item["ARN"],
        "resourceType": LAMBDA_FUNCTION,
        "resourceId": event_item["resourceId"],
        "resourceName": event_item["resourceName"],
        "awsRegion": event_item["awsRegion"],
        "availabilityZone": "Not Applicable",
        "configuration": json.dumps(event_item["configuration"]),
        "supplementaryConfiguration": {
            key: value if isinstance(value, str) else json.dumps(value)
            for key, value in supplementary.items()
            if key != "Tags"  # the aggregate API returns no tags
        },
    }


def identifier(item: Mapping[str, Any]) -> dict[str, str]:
    return {
        "SourceAccountId": item["accountId"],
        "SourceRegion": item["awsRegion"],
        "ResourceId": item["resourceId"],
        "ResourceType": LAMBDA_FUNCTION,
        "ResourceName": item["resourceName"],
    }


def asked(item: Mapping[str, Any]) -> dict[str, str]:
    """The identifier as the scan sends it (no ResourceName)."""
    return {k: v for k, v in identifier(item).items() if k != "ResourceName"}


def succeeded(places: Iterable[tuple[str, str]]) -> dict[str, Any]:
    return {
        "AggregatedSourceStatusList": [
            {
                "SourceId": account,
                "SourceType": "ACCOUNT",
                "AwsRegion": region,
                "LastUpdateStatus": "SUCCEEDED",
            }
            for account, region in places
        ]
    }
