"""AWS Config configuration items for ``AWS::Lambda::Function`` -> ``ConfigurationItem``.

Accepts both shapes:
- the invoking event's (camelCase, ``ARN``, ``awsAccountId``, supplementaryConfiguration values
  as objects);
- ``GetResourceConfigHistory`` / ``BatchGetResourceConfig``'s (``arn``, ``accountId``,
  ``configuration`` and each supplementaryConfiguration value as JSON *text*).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Mapping

from rules.adapters.common import (
    JSON_OBJECT,
    NOT_RECORDED,
    Environment,
    arn_field,
    decode_json_string,
    environment_from,
    get_ignoring_case,
    mapping_or_empty,
    optional_count,
    optional_string,
    optional_text,
    string_tuple,
    tags_from,
)
from rules.errors import InvalidInputError
from rules.model import LAMBDA_FUNCTION, ConfigurationItem, LambdaFunction, SecretFinding
from rules.policy import parse_policy
from rules.secrets import scan_variables

# Statuses whose item carries no configuration to evaluate.
STATUSES_WITHOUT_CONFIGURATION = frozenset(
    {"ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"}
)


def is_configuration_item(raw: Any) -> bool:
    return (
        isinstance(raw, JSON_OBJECT) and "resourceType" in raw and "configurationItemStatus" in raw
    )


def configuration_item_from_dict(raw: Any) -> ConfigurationItem:
    item = _identity(raw, "configuration item")
    if item.resource_type == LAMBDA_FUNCTION and item.status not in STATUSES_WITHOUT_CONFIGURATION:
        function = _function_from_item(
            raw, item.resource_id, item.arn, item.account_id, item.region
        )
        return replace(item, function=function)
    return item


def configuration_item_summary_from_dict(raw: Any) -> ConfigurationItem:
    """The ``configurationItemSummary`` of an oversized change notification: the item's identity,
    status and capture time, without its configuration (``function`` is None; the handler
    fetches the full item with ``GetResourceConfigHistory``)."""
    return _identity(raw, "configuration item summary")


def _identity(raw: Any, what: str) -> ConfigurationItem:
    """Type, id, status, account, region, ARN and capture time, in either shape; no function."""
    if not isinstance(raw, JSON_OBJECT):
        raise InvalidInputError(f"{what} is a {type(raw).__name__}, not an object")
    missing = [
        k for k in ("resourceType", "resourceId", "configurationItemStatus") if not raw.get(k)
    ]
    if missing:
        raise InvalidInputError(f"not a {what}: missing {', '.join(missing)}")
    return ConfigurationItem(
        resource_type=str(raw["resourceType"]),
        resource_id=str(raw["resourceId"]),
        status=str(raw["configurationItemStatus"]),
        capture_time=_timestamp(raw.get("configurationItemCaptureTime")),
        # The account decides whether a KMS key is in another account (customer managed).
        account_id=optional_text(raw.get("awsAccountId", raw.get("accountId")), "awsAccountId"),
        region=optional_text(raw.get("awsRegion"), "awsRegion"),
        arn=optional_text(raw.get("ARN", raw.get("arn")), "ARN"),
        function=None,
    )


def _timestamp(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return optional_string(value)


def _function_from_item(
    raw: Mapping[str, Any],
    resource_id: str,
    arn: str | None,
    account_id: str | None,
    region: str | None,
) -> LambdaFunction:
    decoded = decode_json_string(raw.get("configuration"), "configuration")
    if not isinstance(decoded, JSON_OBJECT) or not decoded:
        raise InvalidInputError(
            f"configuration item for {resource_id} (status {raw.get('configurationItemStatus')}) "
            "has no configuration"
        )
    configuration = decoded
    supplementary = mapping_or_empty(
        decode_json_string(raw.get("supplementaryConfiguration"), "supplementaryConfiguration"),
        "supplementaryConfiguration",
    )
    vpc = mapping_or_empty(configuration.get("vpcConfig"), "configuration.vpcConfig")
    dead_letter = mapping_or_empty(
        configuration.get("deadLetterConfig"), "configuration.deadLetterConfig"
    )
    concurrency = mapping_or_empty(
        decode_json_string(
            supplementary.get("Concurrency"), "supplementaryConfiguration.Concurrency"
        ),
        "supplementaryConfiguration.Concurrency",
    )
    function_arn = optional_text(configuration.get("functionArn"), "functionArn") or arn or ""
    tags = raw.get("tags") or decode_json_string(supplementary.get("Tags"), "Tags")
    environment = _environment(configuration)
    return LambdaFunction(
        name=optional_string(configuration.get("functionName")) or resource_id,
        arn=function_arn,
        account_id=account_id or arn_field(function_arn, 4) or "",
        region=region or arn_field(function_arn, 3) or "",
        runtime=optional_string(configuration.get("runtime")),
        role=optional_string(configuration.get("role")),
        package_type=optional_string(configuration.get("packageType")),
        subnet_ids=string_tuple(vpc.get("subnetIds"), "vpcConfig.subnetIds"),
        security_group_ids=string_tuple(vpc.get("securityGroupIds"), "vpcConfig.securityGroupIds"),
        dead_letter_target_arn=optional_text(
            dead_letter.get("targetArn"), "configuration.deadLetterConfig.targetArn"
        ),
        # The one field whose spelling varies by source: kmskeyArn / kmsKeyArn / KMSKeyArn.
        kms_key_arn=optional_text(
            get_ignoring_case(configuration, "kmsKeyArn"), "configuration.kmsKeyArn"
        ),
        environment_variable_names=environment.names,
        environment_error=environment.error,
        reserved_concurrency=optional_count(
            concurrency.get("reservedConcurrentExecutions"),
            "Concurrency.reservedConcurrentExecutions",
        ),
        policy=parse_policy(supplementary.get("Policy")),
        tags=tags_from(tags),
        tracing_mode=optional_text(
            mapping_or_empty(configuration.get("tracingConfig"), "configuration.tracingConfig").get(
                "mode"
            ),
            "configuration.tracingConfig.mode",
        ),
        environment_secrets=_secrets(configuration),
    )


def _secrets(configuration: Mapping[str, Any]) -> tuple[SecretFinding, ...] | None:
    """An item that carries variables with their values (another recorder, a hand-made item)
    is scanned here and the values dropped; Config's own items never carry them (None)."""
    environment = get_ignoring_case(configuration, "environment")
    if environment is None or _environment(configuration).error is not None:
        return None
    variables = mapping_or_empty(
        get_ignoring_case(mapping_or_empty(environment, "environment"), "variables"),
        "configuration.environment.variables",
    )
    return scan_variables(variables)


def _environment(configuration: Mapping[str, Any]) -> Environment:
    """Config does not record environment variables: an item without ``environment`` leaves
    them unknown. One that carries it (another recorder, a hand-made item) is read like the
    Lambda API's, ``error.errorCode`` included."""
    environment = get_ignoring_case(configuration, "environment")
    if environment is None:
        return NOT_RECORDED
    return environment_from(environment, "configuration.environment")
