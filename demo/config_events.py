"""Config rule events shaped as AWS Config delivers them, built from the Lambda API's state.

moto records no configuration items for Lambda, so the demo plays the recorder: it reads each
function through the Lambda API and writes the item Config would record (camelCase
configuration, ``kmskeyArn`` as in AWS's resource schema, no environment variables and no
function URL — Config records neither —, the policy and the reserved concurrency under
``supplementaryConfiguration``). Two moto policy quirks are undone on the way, because Config
records the policy Lambda really stores: a function URL's auth type becomes the
``lambda:FunctionUrlAuthType`` condition, and a bare account id principal becomes
``{"AWS": "arn:aws:iam::<account>:root"}``.

``resultToken`` is ``TESTMODE``: moto 5.2.5 accepts PutEvaluations only with ``TestMode=True``.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any, Mapping

from rules.model import LAMBDA_FUNCTION

TEST_MODE = "TESTMODE"
ACCOUNT_ID = re.compile(r"\d{12}")
RENAMED = {"KMSKeyArn": "kmskeyArn"}
NOT_RECORDED = frozenset({"Environment", "VpcId", "ResponseMetadata"})


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _camel(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            RENAMED.get(key, key[:1].lower() + key[1:]): _camel(item)
            for key, item in value.items()
            if key not in NOT_RECORDED
        }
    if isinstance(value, list):
        return [_camel(item) for item in value]
    return value


def real_policy(document: str) -> str:
    """Undo moto's two departures from the policy Lambda stores."""
    policy = json.loads(document)
    for statement in policy.get("Statement", []):
        auth_type = statement.pop("FunctionUrlAuthType", None)
        if auth_type:
            condition = statement.setdefault("Condition", {}).setdefault("StringEquals", {})
            condition["lambda:FunctionUrlAuthType"] = auth_type
        principal = statement.get("Principal")
        if isinstance(principal, str) and ACCOUNT_ID.fullmatch(principal):
            statement["Principal"] = {"AWS": f"arn:aws:iam::{principal}:root"}
    return json.dumps(policy, separators=(",", ":"))


def configuration_item(lambda_client: Any, name: str, *, capture_time: str) -> dict[str, Any]:
    """The item Config records for function ``name`` as it is now (status OK)."""
    response = lambda_client.get_function(FunctionName=name)
    configuration = response["Configuration"]
    tags = response.get("Tags") or {}
    supplementary: dict[str, Any] = {"Tags": tags}
    try:
        policy = lambda_client.get_policy(FunctionName=name)["Policy"]
        supplementary["Policy"] = real_policy(policy)
    except lambda_client.exceptions.ResourceNotFoundException:
        pass
    reserved = lambda_client.get_function_concurrency(FunctionName=name).get(
        "ReservedConcurrentExecutions"
    )
    if reserved is not None:
        supplementary["Concurrency"] = {"reservedConcurrentExecutions": reserved}
    relationships = [
        {
            "resourceId": None,
            "resourceName": configuration["Role"].rsplit("/", 1)[-1],
            "resourceType": "AWS::IAM::Role",
            "name": "Is associated with Role",
        }
    ]
    return {
        **_item_identity(configuration["FunctionArn"], "OK", capture_time=capture_time),
        "relationships": relationships,
        "configuration": _camel(configuration),
        "supplementaryConfiguration": supplementary,
        "tags": tags,
        "availabilityZone": "Not Applicable",
    }


def deleted_item(arn: str, *, capture_time: str) -> dict[str, Any]:
    """The item Config records when a function is deleted: no configuration."""
    return _item_identity(arn, "ResourceDeleted", capture_time=capture_time)


def _item_identity(arn: str, status: str, *, capture_time: str) -> dict[str, Any]:
    """The keys every Lambda configuration item carries, with an empty configuration."""
    _, _, _, region, account, rest = arn.split(":", 5)
    name = rest.split(":", 1)[1]
    return {
        "relatedEvents": [],
        "relationships": [],
        "configuration": None,
        "supplementaryConfiguration": {},
        "tags": {},
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": capture_time,
        "configurationStateId": int(datetime.now(UTC).timestamp() * 1000),
        "awsAccountId": account,
        "configurationItemStatus": status,
        "resourceType": LAMBDA_FUNCTION,
        "resourceId": name,
        "resourceName": name,
        "ARN": arn,
        "awsRegion": region,
        "availabilityZone": None,
        "configurationStateMd5Hash": "",
        "resourceCreationTime": None,
    }


def config_rule_arn(account: str, region: str, rule_name: str, partition: str = "aws") -> str:
    suffix = hashlib.sha256(rule_name.encode()).hexdigest()[:6]
    return f"arn:{partition}:config:{region}:{account}:config-rule/config-rule-{suffix}"


def _envelope(
    invoking: Mapping[str, Any],
    *,
    rule_name: str,
    account: str,
    region: str,
    parameters: Mapping[str, str] | None,
) -> dict[str, Any]:
    rule_arn = config_rule_arn(account, region, rule_name)
    event: dict[str, Any] = {
        "version": "1.0",
        "invokingEvent": json.dumps(invoking),
        "resultToken": TEST_MODE,
        "eventLeftScope": False,
        "executionRoleArn": (
            f"arn:aws:iam::{account}:role/aws-service-role/config.amazonaws.com/"
            "AWSServiceRoleForConfig"
        ),
        "configRuleArn": rule_arn,
        "configRuleName": rule_name,
        "configRuleId": rule_arn.rsplit("/", 1)[-1],
        "accountId": account,
    }
    if parameters:  # Config leaves ruleParameters out when the rule has none
        event["ruleParameters"] = json.dumps(parameters)
    return event


def change_event(
    item: Mapping[str, Any],
    *,
    rule_name: str,
    parameters: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    invoking = {
        "configurationItemDiff": None,
        "configurationItem": item,
        "notificationCreationTime": now(),
        "messageType": "ConfigurationItemChangeNotification",
        "recordVersion": "1.3",
    }
    return _envelope(
        invoking,
        rule_name=rule_name,
        account=str(item["awsAccountId"]),
        region=str(item["awsRegion"]),
        parameters=parameters,
    )


def scheduled_event(
    *,
    rule_name: str,
    account: str,
    region: str,
    parameters: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    invoking = {
        "awsAccountId": account,
        "notificationCreationTime": now(),
        "messageType": "ScheduledNotification",
        "recordVersion": "1.0",
    }
    return _envelope(
        invoking, rule_name=rule_name, account=account, region=region, parameters=parameters
    )
