from __future__ import annotations

import pytest

from rules.errors import InvalidParameterError
from rules.parameters import parse_parameters
from rules.registry import get_rule

PUBLIC = get_rule("lambda-function-public-access-prohibited")
VPC = get_rule("lambda-inside-vpc")
CMK = get_rule("lambda-env-vars-cmk-encrypted")
DLQ = get_rule("lambda-dlq-check")
CONCURRENCY = get_rule("lambda-concurrency-check")


@pytest.mark.parametrize(
    ("rule", "raw", "name", "value"),
    [
        (PUBLIC, {"subnetIds": "subnet-0a1b2c3d"}, "subnetIds", "subnet-0a1b2c3d"),
        (VPC, {"SubnetIds": "subnet-0a1b2c3d"}, "SubnetIds", "subnet-0a1b2c3d"),
        (
            VPC,
            {"subnetIds": "subnet-0a1b2c3d,sg-12345678"},
            "subnetIds",
            "subnet-0a1b2c3d,sg-12345678",
        ),
        (
            CMK,
            {"kmsKeyArns": "arn:aws:kms:us-east-1:1111:key/abc"},
            "kmsKeyArns",
            "arn:aws:kms:us-east-1:1111:key/abc",
        ),
        (CMK, {"kmsKeyArns": "alias/my-key"}, "kmsKeyArns", "alias/my-key"),
        (DLQ, {"dlqArns": "arn:aws:s3:::bucket"}, "dlqArns", "arn:aws:s3:::bucket"),
        (
            DLQ,
            {"dlqArns": "https://sqs.us-east-1.amazonaws.com/111122223333/q"},
            "dlqArns",
            "https://sqs.us-east-1.amazonaws.com/111122223333/q",
        ),
        (DLQ, {"dlqArns": 5}, "dlqArns", 5),
        (CONCURRENCY, {"ConcurrencyLimitLow": "1e3"}, "ConcurrencyLimitLow", "1e3"),
        (CONCURRENCY, {"ExecutionRoleName": "bad role name"}, "ExecutionRoleName", "bad role name"),
    ],
    ids=[
        "unknown-for-rule",
        "wrong-case-name",
        "not-a-subnet",
        "short-account",
        "bare-alias",
        "not-sqs-or-sns",
        "queue-url-not-arn",
        "not-a-string",
        "exponent",
        "bad-role-name",
    ],
)
def test_invalid_parameters_name_the_parameter_and_value(
    rule, raw: dict, name: str, value: object
) -> None:
    with pytest.raises(InvalidParameterError) as error:
        parse_parameters(rule, raw)
    assert (error.value.name, error.value.value) == (name, value)
    assert (
        rule.id in str(error.value) and name in str(error.value) and repr(value) in str(error.value)
    )


def test_csv_values_are_trimmed_and_empty_items_dropped() -> None:
    parameters = parse_parameters(VPC, {"subnetIds": " subnet-0a1b2c3d ,, subnet-0f1e2d3c ,"})
    assert parameters.csv("subnetIds") == ("subnet-0a1b2c3d", "subnet-0f1e2d3c")


def test_arns_of_any_partition_are_accepted() -> None:
    raw = {
        "dlqArns": "arn:aws-cn:sqs:cn-north-1:111122223333:q,"
        "arn:aws-us-gov:sns:us-gov-west-1:111122223333:t"
    }
    assert len(parse_parameters(DLQ, raw).csv("dlqArns") or ()) == 2


def test_integer_bounds_accept_json_numbers_and_text() -> None:
    parameters = parse_parameters(
        CONCURRENCY, {"ConcurrencyLimitLow": 2, "ConcurrencyLimitHigh": " 20 "}
    )
    assert (
        parameters.integer("ConcurrencyLimitLow"),
        parameters.integer("ConcurrencyLimitHigh"),
    ) == (2, 20)


def test_empty_values_mean_unset() -> None:
    parameters = parse_parameters(
        CONCURRENCY, {"ConcurrencyLimitLow": "", "ConcurrencyLimitHigh": None}
    )
    assert parameters.values == {}


def test_execution_role_name_is_accepted_by_every_rule() -> None:
    for rule in (PUBLIC, VPC, CMK, DLQ, CONCURRENCY):
        assert (
            parse_parameters(rule, {"ExecutionRoleName": "ConfigRuleEvaluationRole"}).text(
                "ExecutionRoleName"
            )
            == "ConfigRuleEvaluationRole"
        )
