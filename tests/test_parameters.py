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


@pytest.mark.parametrize(
    "value",
    [
        "\u0665",  # ARABIC-INDIC DIGIT FIVE: \d and int() accept it
        "\uff15",  # FULLWIDTH DIGIT FIVE
        "1\u0660",
        "12345678901",
        "+12345678901",
        "00000000001",
        "1" * 5000,  # int() of it raises ValueError: this must be an invalid parameter instead
        10**10,
        -(10**10),
        1e20,
    ],
    ids=[
        "arabic-indic",
        "fullwidth",
        "mixed-scripts",
        "eleven-digits",
        "signed-eleven-digits",
        "leading-zeros",
        "beyond-int-max-str-digits",
        "json-number-eleven-digits",
        "negative-eleven-digits",
        "json-float-huge",
    ],
)
def test_integers_are_ascii_and_at_most_ten_digits(value: object) -> None:
    with pytest.raises(InvalidParameterError) as error:
        parse_parameters(CONCURRENCY, {"ConcurrencyLimitHigh": value})
    assert (error.value.name, error.value.value) == ("ConcurrencyLimitHigh", value)


def test_ten_digit_integers_are_accepted() -> None:
    parameters = parse_parameters(CONCURRENCY, {"ConcurrencyLimitHigh": "9999999999"})
    assert parameters.integer("ConcurrencyLimitHigh") == 9_999_999_999


@pytest.mark.parametrize("value", [",,", " , ", ",", " ,\t, "])
def test_a_list_of_only_commas_is_invalid_not_unset(value: str) -> None:
    with pytest.raises(InvalidParameterError) as error:
        parse_parameters(DLQ, {"dlqArns": value})
    assert (error.value.name, error.value.value) == ("dlqArns", value)
    assert "no items" in error.value.reason


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_list_parameter_is_unset(value: str) -> None:
    # AWS Config passes every parameter as a string; "" is how an optional one is left out.
    assert parse_parameters(DLQ, {"dlqArns": value}).csv("dlqArns") is None
