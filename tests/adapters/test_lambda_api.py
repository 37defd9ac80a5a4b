from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from rules.adapters.lambda_api import (
    event_invoke_config_from_lambda_api,
    function_from_lambda_api,
    qualified_policy_from_lambda_api,
)
from rules.checks.env_vars_cmk import check_env_vars_cmk
from rules.errors import InvalidInputError
from rules.model import Compliance, KeyManager, QualifierKind, ResourcePolicy, UnreadablePolicy
from rules.parameters import NO_PARAMETERS
from tests.conftest import load_event
from tests.factories import ARN, statement

CONFIGURATION = {
    "FunctionName": "orders-api",
    "FunctionArn": ARN,
    "Runtime": "python3.12",
    "Role": "arn:aws:iam::111122223333:role/orders-api-role",
    "VpcConfig": {
        "SubnetIds": ["subnet-0a1b2c3d"],
        "SecurityGroupIds": ["sg-0a1b2c3d"],
        "VpcId": "vpc-1",
    },
    "DeadLetterConfig": {"TargetArn": "arn:aws:sqs:us-east-1:111122223333:dlq"},
    "KMSKeyArn": "arn:aws:kms:us-east-1:111122223333:key/abcd",
    "Environment": {"Variables": {"TOKEN": "s3cr3t"}},
    "PackageType": "Zip",
}


def test_full_function() -> None:
    policy = {"Policy": json.dumps({"Statement": [statement()]}), "RevisionId": "r"}
    fn = function_from_lambda_api(
        CONFIGURATION,
        policy,
        {"ReservedConcurrentExecutions": 5},
        tags={"team": "a"},
        url_config={"AuthType": "NONE"},
    )
    assert (fn.name, fn.account_id, fn.region) == ("orders-api", "111122223333", "us-east-1")
    assert fn.subnet_ids == ("subnet-0a1b2c3d",) and fn.security_group_ids == ("sg-0a1b2c3d",)
    assert fn.dead_letter_target_arn == "arn:aws:sqs:us-east-1:111122223333:dlq"
    assert fn.kms_key_arn == "arn:aws:kms:us-east-1:111122223333:key/abcd"
    assert fn.environment_variable_names == ("TOKEN",) and "s3cr3t" not in repr(fn)
    assert fn.reserved_concurrency == 5
    assert isinstance(fn.policy, ResourcePolicy) and len(fn.policy.statements) == 1
    assert fn.function_url_auth_type == "NONE" and dict(fn.tags) == {"team": "a"}


def test_bare_function() -> None:
    fn = function_from_lambda_api({"FunctionName": "f", "FunctionArn": ARN}, None, {})
    assert fn.subnet_ids == () and fn.dead_letter_target_arn is None and fn.kms_key_arn is None
    assert (
        fn.environment_variable_names == ()
        and fn.reserved_concurrency is None
        and fn.policy is None
    )


def test_missing_identity_is_an_error() -> None:
    with pytest.raises(InvalidInputError):
        function_from_lambda_api({"Runtime": "python3.12"}, None, {})


def test_kms_key_field_is_read_case_insensitively() -> None:
    key = "arn:aws:kms:us-east-1:111122223333:key/abcd"
    fn = function_from_lambda_api(
        {"FunctionName": "f", "FunctionArn": ARN, "kmsKeyArn": key}, None, {}
    )
    assert fn.kms_key_arn == key


def _denied_response() -> dict[str, Any]:
    return load_event("lambda_get_function_configuration_kms_denied.json")


def test_an_environment_error_is_variables_with_unknown_names() -> None:
    # The real GetFunctionConfiguration shape when the caller cannot decrypt the CMK.
    fn = function_from_lambda_api(_denied_response(), None, {})
    assert fn.environment_error == "KMSAccessDeniedException"
    assert fn.environment_variable_names is None
    assert fn.kms_key_arn == _denied_response()["KMSKeyArn"]


@pytest.mark.parametrize(
    "error",
    [{}, "KMSAccessDeniedException", ["x"], {"ErrorCode": 5}, {"ErrorCode": ""}, {"Message": "m"}],
    ids=["empty", "string", "list", "number-code", "empty-code", "no-code"],
)
def test_an_unreadable_environment_error_is_still_an_error(error: object) -> None:
    configuration = {"FunctionName": "f", "FunctionArn": ARN, "Environment": {"Error": error}}
    fn = function_from_lambda_api(configuration, None, {})
    assert fn.environment_error == "unknown" and fn.environment_variable_names is None


def test_an_error_beside_variables_wins() -> None:
    environment = {"Variables": {}, "Error": {"ErrorCode": "KMSDisabledException"}}
    fn = function_from_lambda_api(
        {"FunctionName": "f", "FunctionArn": ARN, "Environment": environment}, None, {}
    )
    assert fn.environment_error == "KMSDisabledException"
    assert fn.environment_variable_names is None


def test_environment_keys_are_read_case_insensitively() -> None:
    configuration = {
        "FunctionName": "f",
        "FunctionArn": ARN,
        "environment": {"error": {"errorCode": "KMSAccessDeniedException"}},
    }
    assert function_from_lambda_api(configuration, None, {}).environment_error == (
        "KMSAccessDeniedException"
    )


def test_a_null_error_is_no_error() -> None:
    environment = {"Variables": {"A": "secret"}, "Error": None}
    fn = function_from_lambda_api(
        {"FunctionName": "f", "FunctionArn": ARN, "Environment": environment}, None, {}
    )
    assert fn.environment_error is None and fn.environment_variable_names == ("A",)


@pytest.mark.parametrize(
    ("manager", "key", "expected", "fragment"),
    [
        (KeyManager.CUSTOMER, "keep", Compliance.COMPLIANT, "customer-managed key"),
        (None, None, Compliance.NON_COMPLIANT, "KMSAccessDeniedException"),
        (KeyManager.AWS, "keep", Compliance.NON_COMPLIANT, "KMSAccessDeniedException"),
    ],
)
def test_the_cmk_rule_over_an_unreadable_environment_decides_by_the_key(
    manager: KeyManager | None, key: str | None, expected: Compliance, fragment: str
) -> None:
    response = _denied_response()
    if key is None:
        del response["KMSKeyArn"]
    fn = replace(function_from_lambda_api(response, None, {}), kms_key_manager=manager)
    result = check_env_vars_cmk(fn, NO_PARAMETERS)
    assert result.compliance is expected and fragment in result.annotation
    assert "no environment variables" not in result.annotation


@pytest.mark.parametrize(
    ("field", "container", "value"),
    [
        ("TargetArn", "DeadLetterConfig", 42),
        ("TargetArn", "DeadLetterConfig", {"Arn": "arn:aws:sqs:us-east-1:1:q"}),
        ("KMSKeyArn", None, ["arn:aws:kms:us-east-1:111122223333:key/abcd"]),
        ("FunctionArn", None, 7),
        ("AuthType", "url", True),
    ],
)
def test_a_non_string_verdict_field_is_an_error_not_absent(
    field: str, container: str | None, value: object
) -> None:
    configuration: dict[str, Any] = {"FunctionName": "f", "FunctionArn": ARN}
    url_config: dict[str, Any] | None = None
    if container == "url":
        url_config = {field: value}
    elif container:
        configuration[container] = {field: value}
    else:
        configuration[field] = value
    with pytest.raises(InvalidInputError, match=field):
        function_from_lambda_api(configuration, None, {}, url_config=url_config)


@pytest.mark.parametrize("target", ["", None])
def test_an_empty_or_null_target_arn_is_no_dlq(target: object) -> None:
    configuration = {
        "FunctionName": "f",
        "FunctionArn": ARN,
        "DeadLetterConfig": {"TargetArn": target},
    }
    assert function_from_lambda_api(configuration, None, {}).dead_letter_target_arn is None


@pytest.mark.parametrize("response", [{}, {"Policy": ""}, {"Policy": None}, {"RevisionId": "r"}])
def test_a_get_policy_answer_without_its_document_is_unreadable_not_no_policy(
    response: dict[str, Any],
) -> None:
    function = function_from_lambda_api(CONFIGURATION, response, {})
    assert isinstance(function.policy, UnreadablePolicy)
    assert "answered without a Policy document" in function.policy.reason
    qualified = qualified_policy_from_lambda_api(QualifierKind.ALIAS, "prod", response)
    assert isinstance(qualified.policy, UnreadablePolicy)
    assert "alias 'prod'" in qualified.policy.reason


def test_resource_not_found_is_no_policy() -> None:
    assert function_from_lambda_api(CONFIGURATION, None, {}).policy is None


# --- issue 11 (rules-a): tracing mode, asynchronous invocation configuration ------------------


@pytest.mark.parametrize(
    ("tracing", "expected"),
    [({"Mode": "Active"}, "Active"), ({"Mode": "PassThrough"}, "PassThrough"), (None, None)],
)
def test_tracing_mode(tracing: object, expected: str | None) -> None:
    configuration = dict(CONFIGURATION, TracingConfig=tracing)
    assert function_from_lambda_api(configuration, None, {}).tracing_mode == expected


def test_an_unreadable_tracing_mode_is_an_error() -> None:
    with pytest.raises(InvalidInputError, match=r"TracingConfig\.Mode"):
        function_from_lambda_api(dict(CONFIGURATION, TracingConfig={"Mode": 1}), None, {})


def test_event_invoke_config_on_failure_destination() -> None:
    response = load_event("lambda_get_function_event_invoke_config.json")
    config = event_invoke_config_from_lambda_api(response)
    assert config.on_failure_destination == "arn:aws:sqs:us-east-1:111122223333:orders-failures"


@pytest.mark.parametrize(
    "response",
    [
        None,  # ResourceNotFound: no configuration
        {"FunctionArn": ARN, "MaximumRetryAttempts": 2},  # retries only
        {"DestinationConfig": {"OnSuccess": {"Destination": "arn:aws:sqs:us-east-1:1:ok"}}},
        {"DestinationConfig": {"OnFailure": {"Destination": ""}}},  # Lambda's "none"
        {"DestinationConfig": {"OnFailure": {}}},
    ],
)
def test_no_on_failure_destination(response: object) -> None:
    assert event_invoke_config_from_lambda_api(response).on_failure_destination is None


def test_an_unreadable_destination_is_an_error_not_absent() -> None:
    with pytest.raises(InvalidInputError, match="OnFailure"):
        event_invoke_config_from_lambda_api(
            {"DestinationConfig": {"OnFailure": {"Destination": 7}}}
        )
