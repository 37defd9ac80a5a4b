from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from rules.adapters.config_item import configuration_item_from_dict
from rules.checks import env_vars_cmk
from rules.engine import evaluate_item_offline
from rules.errors import InvalidInputError
from rules.model import Compliance, ResourcePolicy, UnreadablePolicy
from rules.parameters import NO_PARAMETERS


def function_of(item: dict[str, Any]):
    parsed = configuration_item_from_dict(item)
    assert parsed.function is not None
    return parsed.function


def test_event_shape_item(compliant_item: dict) -> None:
    fn = function_of(compliant_item)
    assert fn.name == "orders-api"
    assert fn.arn == "arn:aws:lambda:us-east-1:111122223333:function:orders-api"
    assert (fn.account_id, fn.region, fn.partition) == ("111122223333", "us-east-1", "aws")
    assert fn.subnet_ids == ("subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788")
    assert fn.security_group_ids == ("sg-0123456789abcdef0",)
    assert fn.dead_letter_target_arn == "arn:aws:sqs:us-east-1:111122223333:orders-api-dlq"
    assert (
        fn.kms_key_arn
        == "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    assert fn.reserved_concurrency == 50
    assert fn.environment_variable_names is None  # Config does not record them
    assert isinstance(fn.policy, ResourcePolicy) and len(fn.policy.statements) == 2
    assert dict(fn.tags) == {"app": "orders", "env": "prod"}
    assert fn.runtime == "python3.12" and fn.package_type == "Zip"


def history_shape(item: dict[str, Any]) -> dict[str, Any]:
    """What GetResourceConfigHistory / BatchGetResourceConfig return for the same item."""
    history = copy.deepcopy(item)
    history["arn"] = history.pop("ARN")
    history["accountId"] = history.pop("awsAccountId")
    history["configuration"] = json.dumps(history["configuration"])
    history["supplementaryConfiguration"] = {
        key: json.dumps(value) for key, value in history["supplementaryConfiguration"].items()
    }
    return history


def test_history_shape_gives_the_same_function(compliant_item: dict) -> None:
    assert function_of(history_shape(compliant_item)) == function_of(compliant_item)


@pytest.mark.parametrize("spelling", ["kmskeyArn", "kmsKeyArn", "KMSKeyArn", "KmsKeyArn"])
def test_kms_key_field_is_read_case_insensitively(compliant_item: dict, spelling: str) -> None:
    key = compliant_item["configuration"].pop("kmskeyArn")
    compliant_item["configuration"][spelling] = key
    assert function_of(compliant_item).kms_key_arn == key


@pytest.mark.parametrize(("raw", "expected"), [(10.0, 10), (0, 0), (0.0, 0), ("7", 7)])
def test_reserved_concurrency_numbers(compliant_item: dict, raw: object, expected: int) -> None:
    compliant_item["supplementaryConfiguration"]["Concurrency"] = {
        "reservedConcurrentExecutions": raw
    }
    assert function_of(compliant_item).reserved_concurrency == expected


@pytest.mark.parametrize("concurrency", [{}, None, "missing"])
def test_absent_reserved_concurrency_is_none(compliant_item: dict, concurrency: object) -> None:
    if concurrency == "missing":
        del compliant_item["supplementaryConfiguration"]["Concurrency"]
    else:
        compliant_item["supplementaryConfiguration"]["Concurrency"] = concurrency
    assert function_of(compliant_item).reserved_concurrency is None


@pytest.mark.parametrize("raw", [10.5, -1, "ten", True])
def test_unreadable_concurrency_is_an_error(compliant_item: dict, raw: object) -> None:
    compliant_item["supplementaryConfiguration"]["Concurrency"] = {
        "reservedConcurrentExecutions": raw
    }
    with pytest.raises(InvalidInputError, match="reservedConcurrentExecutions"):
        configuration_item_from_dict(compliant_item)


@pytest.mark.parametrize("vpc", [{"subnetIds": [], "securityGroupIds": []}, None, "missing", {}])
def test_outside_a_vpc(compliant_item: dict, vpc: object) -> None:
    if vpc == "missing":
        del compliant_item["configuration"]["vpcConfig"]
    else:
        compliant_item["configuration"]["vpcConfig"] = vpc
    assert function_of(compliant_item).subnet_ids == ()


@pytest.mark.parametrize("dlq", [{}, None, {"targetArn": None}, "missing"])
def test_unset_dead_letter_target(compliant_item: dict, dlq: object) -> None:
    if dlq == "missing":
        del compliant_item["configuration"]["deadLetterConfig"]
    else:
        compliant_item["configuration"]["deadLetterConfig"] = dlq
    assert function_of(compliant_item).dead_letter_target_arn is None


@pytest.mark.parametrize("policy", [None, "missing"])
def test_no_policy(compliant_item: dict, policy: object) -> None:
    if policy == "missing":
        del compliant_item["supplementaryConfiguration"]["Policy"]
    else:
        compliant_item["supplementaryConfiguration"]["Policy"] = policy
    assert function_of(compliant_item).policy is None


def test_garbled_policy_is_kept_as_unreadable(compliant_item: dict) -> None:
    compliant_item["supplementaryConfiguration"]["Policy"] = "{oops"
    assert isinstance(function_of(compliant_item).policy, UnreadablePolicy)


def test_environment_names_are_used_when_recorded_and_values_dropped(compliant_item: dict) -> None:
    compliant_item["configuration"]["environment"] = {
        "variables": {"B": "secret-b", "A": "secret-a"}
    }
    fn = function_of(compliant_item)
    assert fn.environment_variable_names == ("A", "B")
    assert "secret-a" not in repr(fn) and "secret-b" not in repr(fn)


def test_recorded_empty_environment_is_known_empty(compliant_item: dict) -> None:
    compliant_item["configuration"]["environment"] = {"variables": {}}
    assert function_of(compliant_item).environment_variable_names == ()


@pytest.mark.parametrize(
    "status", ["ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"]
)
def test_items_without_configuration_have_no_function(compliant_item: dict, status: str) -> None:
    compliant_item["configurationItemStatus"] = status
    compliant_item["configuration"] = None
    item = configuration_item_from_dict(compliant_item)
    assert item.function is None and item.status == status


def test_other_resource_types_have_no_function(compliant_item: dict) -> None:
    compliant_item["resourceType"] = "AWS::S3::Bucket"
    assert configuration_item_from_dict(compliant_item).function is None


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda item: item.pop("resourceType"), "missing resourceType"),
        (lambda item: item.update(configuration=None), "has no configuration"),
        (lambda item: item.update(configuration="{broken"), "configuration is not valid JSON"),
        (
            lambda item: item["configuration"].update(vpcConfig={"subnetIds": "subnet-1"}),
            "subnetIds",
        ),
    ],
    ids=["no-type", "no-configuration", "garbled-configuration", "subnets-not-a-list"],
)
def test_unreadable_items_are_errors(compliant_item: dict, mutate: Any, message: str) -> None:
    mutate(compliant_item)
    with pytest.raises(InvalidInputError, match=message):
        configuration_item_from_dict(compliant_item)


def test_history_shape_null_policy_is_no_policy(compliant_item: dict) -> None:
    compliant_item["supplementaryConfiguration"]["Policy"] = None
    history = history_shape(compliant_item)
    assert history["supplementaryConfiguration"]["Policy"] == "null"
    assert function_of(history).policy is None


DENIED = {"errorCode": "KMSAccessDeniedException", "message": "Lambda was unable to decrypt"}


@pytest.mark.parametrize(
    "environment",
    [
        {"error": DENIED},
        {"variables": {}, "error": DENIED},
        {"Error": {"ErrorCode": "KMSAccessDeniedException"}},
        {"ERROR": {"errorcode": "KMSAccessDeniedException"}},
    ],
    ids=["camel-case", "error-beside-empty-variables", "api-case", "odd-case"],
)
def test_an_environment_error_is_variables_with_unknown_names(
    compliant_item: dict, environment: dict
) -> None:
    compliant_item["configuration"]["environment"] = environment
    fn = function_of(compliant_item)
    assert fn.environment_error == "KMSAccessDeniedException"
    assert fn.environment_variable_names is None


@pytest.mark.parametrize("error", [{}, "denied", [], {"errorCode": None}, {"errorCode": 3}])
def test_an_unreadable_environment_error_is_still_an_error(
    compliant_item: dict, error: object
) -> None:
    compliant_item["configuration"]["environment"] = {"error": error}
    assert function_of(compliant_item).environment_error == "unknown"


def test_the_history_shape_carries_the_environment_error(compliant_item: dict) -> None:
    compliant_item["configuration"]["environment"] = {"error": DENIED}
    assert function_of(history_shape(compliant_item)).environment_error == (
        "KMSAccessDeniedException"
    )


@pytest.mark.parametrize(
    ("key", "expected"),
    [(None, Compliance.NON_COMPLIANT), ("keep", Compliance.COMPLIANT)],
)
def test_an_item_with_an_environment_error_is_decided_by_the_key(
    compliant_item: dict, key: str | None, expected: Compliance
) -> None:
    compliant_item["configuration"]["environment"] = {"error": DENIED}
    if key is None:
        del compliant_item["configuration"]["kmskeyArn"]
    item = configuration_item_from_dict(compliant_item)
    evaluation = evaluate_item_offline(env_vars_cmk.RULE, item, NO_PARAMETERS)
    assert evaluation.compliance is expected
    assert "no environment variables" not in evaluation.annotation
    if expected is Compliance.NON_COMPLIANT:
        assert "KMSAccessDeniedException" in evaluation.annotation


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda c: c.update(deadLetterConfig={"targetArn": 42}), "deadLetterConfig.targetArn"),
        (lambda c: c.update(deadLetterConfig={"targetArn": ["arn"]}), "deadLetterConfig.targetArn"),
        (lambda c: c.update(kmskeyArn={"arn": "x"}), "kmsKeyArn"),
        (lambda c: c.update(functionArn=12), "functionArn"),
    ],
    ids=["dlq-number", "dlq-list", "kms-object", "function-arn-number"],
)
def test_a_non_string_verdict_field_is_an_error_not_absent(
    compliant_item: dict, mutate: Any, field: str
) -> None:
    mutate(compliant_item["configuration"])
    with pytest.raises(InvalidInputError, match=field):
        configuration_item_from_dict(compliant_item)


@pytest.mark.parametrize("key", ["awsAccountId", "ARN", "awsRegion"])
def test_a_non_string_identity_is_an_error(compliant_item: dict, key: str) -> None:
    compliant_item[key] = 111122223333
    with pytest.raises(InvalidInputError, match=key):
        configuration_item_from_dict(compliant_item)


def test_an_empty_target_arn_is_no_dlq(compliant_item: dict) -> None:
    compliant_item["configuration"]["deadLetterConfig"] = {"targetArn": ""}
    assert function_of(compliant_item).dead_letter_target_arn is None


def test_two_spellings_of_one_field_are_unreadable(compliant_item: dict) -> None:
    """{"Error": null, "error": {...}}: the null must not hide the error (nor the other way)."""
    item = compliant_item
    item["configuration"]["environment"] = {
        "Error": None,
        "error": {"errorCode": "KMSAccessDeniedException"},
        "variables": {},
    }
    with pytest.raises(InvalidInputError, match="differ only in case"):
        configuration_item_from_dict(item)


# --- issue 11 (rules-a) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tracing", "expected"),
    [({"mode": "Active"}, "Active"), ({"mode": "PassThrough"}, "PassThrough"), (None, None)],
)
def test_tracing_mode(compliant_item: dict, tracing: object, expected: str | None) -> None:
    compliant_item["configuration"]["tracingConfig"] = tracing
    assert function_of(compliant_item).tracing_mode == expected


def test_what_config_does_not_record_stays_unread(compliant_item: dict) -> None:
    # Subnets' zones and the asynchronous invocation configuration: None, never "none".
    fn = function_of(compliant_item)
    assert fn.subnet_zones is None and fn.event_invoke_config is None
    assert dict(fn.tags) == {"app": "orders", "env": "prod"}
