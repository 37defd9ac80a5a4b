from __future__ import annotations

import pytest

from rules.checks.env_vars_cmk import RULE, check_env_vars_cmk
from rules.errors import InvalidParameterError, UnknownFieldError
from rules.model import Compliance, KeyManager
from rules.parameters import parse_parameters
from rules.rule import Field
from tests.factories import function

KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER = "arn:aws:kms:us-east-1:111122223333:key/9999abcd-12ab-34cd-56ef-1234567890ab"
AWS_MANAGED_ALIAS = "arn:aws:kms:us-east-1:111122223333:alias/aws/lambda"
CUSTOMER_ALIAS = "arn:aws:kms:us-east-1:111122223333:alias/orders"
# A key of another account than the function's (tests.factories: 111122223333).
FOREIGN = "arn:aws:kms:us-east-1:999988887777:key/5555abcd-12ab-34cd-56ef-1234567890ab"
CUSTOMER = KeyManager.CUSTOMER
AWS = KeyManager.AWS


@pytest.mark.parametrize(
    ("names", "key", "manager", "raw", "expected", "fragment"),
    [
        ((), None, None, {}, Compliance.COMPLIANT, "no environment variables"),
        ((), None, None, {"kmsKeyArns": KEY}, Compliance.COMPLIANT, "no environment variables"),
        ((), KEY, None, {}, Compliance.COMPLIANT, "no environment variables"),
        (("DB_HOST",), None, None, {}, Compliance.NON_COMPLIANT, "no customer-managed KMS key"),
        (("DB_HOST",), KEY, CUSTOMER, {}, Compliance.COMPLIANT, KEY),
        (("DB_HOST",), KEY, CUSTOMER, {"kmsKeyArns": f"{OTHER}, {KEY}"}, Compliance.COMPLIANT, KEY),
        (
            ("DB_HOST",),
            KEY,
            None,
            {"kmsKeyArns": OTHER},
            Compliance.NON_COMPLIANT,
            "not in kmsKeyArns",
        ),
        (("DB_HOST",), AWS_MANAGED_ALIAS, None, {}, Compliance.NON_COMPLIANT, "AWS managed"),
        (("DB_HOST",), KEY, AWS, {}, Compliance.NON_COMPLIANT, f"key {KEY} is AWS managed"),
        (("DB_HOST",), KEY, AWS, {"kmsKeyArns": KEY}, Compliance.NON_COMPLIANT, "AWS managed"),
        (("DB_HOST",), CUSTOMER_ALIAS, None, {}, Compliance.COMPLIANT, CUSTOMER_ALIAS),
        (("DB_HOST",), FOREIGN, None, {}, Compliance.COMPLIANT, FOREIGN),
        (None, KEY, CUSTOMER, {}, Compliance.COMPLIANT, KEY),
        (None, KEY, CUSTOMER, {"kmsKeyArns": KEY}, Compliance.COMPLIANT, KEY),
        (None, FOREIGN, None, {}, Compliance.COMPLIANT, FOREIGN),
    ],
    ids=[
        "no-vars",
        "no-vars-with-list",
        "no-vars-key-manager-not-needed",
        "vars-no-key",
        "vars-cmk",
        "vars-cmk-in-list",
        "vars-not-in-list-needs-no-manager",
        "vars-aws-managed-alias",
        "vars-aws-managed-key-arn",
        "vars-aws-managed-key-arn-even-when-listed",
        "vars-customer-alias-by-name",
        "vars-cross-account-key-is-customer-managed",
        "unknown-vars-cmk-needs-no-read",
        "unknown-vars-listed-cmk",
        "unknown-vars-cross-account-key",
    ],
)
def test_verdicts(
    names: tuple[str, ...] | None,
    key: str | None,
    manager: KeyManager | None,
    raw: dict,
    expected: Compliance,
    fragment: str,
) -> None:
    fn = function(environment_variable_names=names, kms_key_arn=key, kms_key_manager=manager)
    result = check_env_vars_cmk(fn, parse_parameters(RULE, raw))
    assert result.compliance is expected
    assert fragment in result.annotation


@pytest.mark.parametrize(("key", "raw"), [(None, {}), (KEY, {"kmsKeyArns": OTHER})])
def test_unknown_variables_that_matter_are_not_guessed(key: str | None, raw: dict) -> None:
    with pytest.raises(UnknownFieldError) as error:
        check_env_vars_cmk(function(kms_key_arn=key), parse_parameters(RULE, raw))
    assert error.value.field == Field.ENVIRONMENT.value


def test_an_aws_managed_key_arn_with_unknown_variables_needs_them_read() -> None:
    with pytest.raises(UnknownFieldError) as error:
        check_env_vars_cmk(
            function(kms_key_arn=KEY, kms_key_manager=AWS), parse_parameters(RULE, {})
        )
    assert error.value.field == Field.ENVIRONMENT.value


@pytest.mark.parametrize(
    ("names", "error"), [(("DB_HOST",), None), (None, None), (None, "KMSAccessDeniedException")]
)
def test_an_unasked_key_manager_that_matters_is_not_guessed(
    names: tuple[str, ...] | None, error: str | None
) -> None:
    fn = function(environment_variable_names=names, environment_error=error, kms_key_arn=KEY)
    with pytest.raises(UnknownFieldError) as raised:
        check_env_vars_cmk(fn, parse_parameters(RULE, {}))
    assert raised.value.field == Field.KEY_MANAGER.value
    assert KEY in str(raised.value)


def test_a_key_of_an_unknown_account_function_is_asked_about() -> None:
    fn = function(account_id="", environment_variable_names=("A",), kms_key_arn=FOREIGN)
    with pytest.raises(UnknownFieldError) as raised:
        check_env_vars_cmk(fn, parse_parameters(RULE, {}))
    assert raised.value.field == Field.KEY_MANAGER.value


@pytest.mark.parametrize(
    ("key", "expected", "verified"),
    [
        (KEY, Compliance.COMPLIANT, False),
        (AWS_MANAGED_ALIAS, Compliance.NON_COMPLIANT, True),
        (FOREIGN, Compliance.COMPLIANT, True),
        (CUSTOMER_ALIAS, Compliance.COMPLIANT, True),
    ],
)
def test_an_unverified_manager_leaves_the_arn_rule_and_says_so(
    key: str, expected: Compliance, verified: bool
) -> None:
    fn = function(
        environment_variable_names=("A",), kms_key_arn=key, kms_key_manager=KeyManager.UNVERIFIED
    )
    result = check_env_vars_cmk(fn, parse_parameters(RULE, {}))
    assert result.compliance is expected
    assert ("not verified" not in result.annotation) is verified


@pytest.mark.parametrize(
    ("key", "manager", "expected", "fragments"),
    [
        (KEY, CUSTOMER, Compliance.COMPLIANT, (KEY,)),
        (FOREIGN, None, Compliance.COMPLIANT, (FOREIGN,)),
        (None, None, Compliance.NON_COMPLIANT, ("KMSAccessDeniedException", "no customer-managed")),
        (KEY, AWS, Compliance.NON_COMPLIANT, ("KMSAccessDeniedException", "AWS managed")),
        (AWS_MANAGED_ALIAS, None, Compliance.NON_COMPLIANT, ("KMSAccessDeniedException",)),
    ],
    ids=["cmk", "foreign-cmk", "no-key", "aws-managed-key-arn", "aws-managed-alias"],
)
def test_unreadable_variables_exist_and_the_key_alone_decides(
    key: str | None, manager: KeyManager | None, expected: Compliance, fragments: tuple[str, ...]
) -> None:
    fn = function(
        environment_variable_names=None,
        environment_error="KMSAccessDeniedException",
        kms_key_arn=key,
        kms_key_manager=manager,
    )
    result = check_env_vars_cmk(fn, parse_parameters(RULE, {}))
    assert result.compliance is expected
    assert all(fragment in result.annotation for fragment in fragments)
    assert "no environment variables" not in result.annotation


def test_an_error_beside_empty_names_is_not_no_variables() -> None:
    fn = function(environment_variable_names=(), environment_error="unknown")
    result = check_env_vars_cmk(fn, parse_parameters(RULE, {}))
    assert result.compliance is Compliance.NON_COMPLIANT
    assert "could not be read (unknown)" in result.annotation


def test_an_alias_arn_in_kms_key_arns_is_an_invalid_parameter() -> None:
    with pytest.raises(InvalidParameterError) as error:
        parse_parameters(RULE, {"kmsKeyArns": f"{KEY},{CUSTOMER_ALIAS}"})
    assert error.value.name == "kmsKeyArns"
    assert "alias" in error.value.reason and CUSTOMER_ALIAS in error.value.reason


def test_annotation_never_carries_variable_values() -> None:
    result = check_env_vars_cmk(
        function(environment_variable_names=("DB_PASSWORD",)), parse_parameters(RULE, {})
    )
    assert "DB_PASSWORD" not in result.annotation
    assert "1 environment variable(s)" in result.annotation
