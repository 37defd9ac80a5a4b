from __future__ import annotations

import json

import pytest

from rules.adapters.lambda_api import function_from_lambda_api
from rules.errors import InvalidInputError
from rules.model import ResourcePolicy
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
