from __future__ import annotations

import pytest

from rules.checks.env_vars_cmk import RULE, check_env_vars_cmk
from rules.errors import UnknownFieldError
from rules.model import Compliance
from rules.parameters import parse_parameters
from tests.factories import function

KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER = "arn:aws:kms:us-east-1:111122223333:key/9999abcd-12ab-34cd-56ef-1234567890ab"
AWS_MANAGED = "arn:aws:kms:us-east-1:111122223333:alias/aws/lambda"


@pytest.mark.parametrize(
    ("names", "key", "raw", "expected", "fragment"),
    [
        ((), None, {}, Compliance.COMPLIANT, "no environment variables"),
        ((), None, {"kmsKeyArns": KEY}, Compliance.COMPLIANT, "no environment variables"),
        (("DB_HOST",), None, {}, Compliance.NON_COMPLIANT, "no customer-managed KMS key"),
        (("DB_HOST",), KEY, {}, Compliance.COMPLIANT, KEY),
        (("DB_HOST",), KEY, {"kmsKeyArns": f"{OTHER}, {KEY}"}, Compliance.COMPLIANT, KEY),
        (("DB_HOST",), KEY, {"kmsKeyArns": OTHER}, Compliance.NON_COMPLIANT, "not in kmsKeyArns"),
        (("DB_HOST",), AWS_MANAGED, {}, Compliance.NON_COMPLIANT, "AWS managed"),
        (None, KEY, {}, Compliance.COMPLIANT, KEY),
        (None, KEY, {"kmsKeyArns": KEY}, Compliance.COMPLIANT, KEY),
    ],
    ids=[
        "no-vars",
        "no-vars-with-list",
        "vars-no-key",
        "vars-cmk",
        "vars-cmk-in-list",
        "vars-cmk-not-in-list",
        "vars-aws-managed",
        "unknown-vars-cmk-needs-no-read",
        "unknown-vars-listed-cmk",
    ],
)
def test_verdicts(
    names: tuple[str, ...] | None, key: str | None, raw: dict, expected: Compliance, fragment: str
) -> None:
    fn = function(environment_variable_names=names, kms_key_arn=key)
    result = check_env_vars_cmk(fn, parse_parameters(RULE, raw))
    assert result.compliance is expected
    assert fragment in result.annotation


@pytest.mark.parametrize(("key", "raw"), [(None, {}), (KEY, {"kmsKeyArns": OTHER})])
def test_unknown_variables_that_matter_are_not_guessed(key: str | None, raw: dict) -> None:
    with pytest.raises(UnknownFieldError) as error:
        check_env_vars_cmk(function(kms_key_arn=key), parse_parameters(RULE, raw))
    assert error.value.field == "environment variables"


def test_annotation_never_carries_variable_values() -> None:
    result = check_env_vars_cmk(
        function(environment_variable_names=("DB_PASSWORD",)), parse_parameters(RULE, {})
    )
    assert "DB_PASSWORD" not in result.annotation
    assert "1 environment variable(s)" in result.annotation
