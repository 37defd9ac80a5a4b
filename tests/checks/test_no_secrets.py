from __future__ import annotations

import pytest

from rules import secrets
from rules.adapters.lambda_api import environment_secrets_of
from rules.checks.no_secrets import RULE, check_no_secrets
from rules.errors import InvalidInputError, InvalidParameterError, UnknownFieldError
from rules.model import Compliance, LambdaFunction, SecretFinding
from rules.parameters import NO_PARAMETERS, parse_parameters

# Distinctive, fake sample values: none may ever reach a model, annotation or error.
SAMPLES = {
    "KEY_ID": ("AKIAZZDISTINCTIVE99", None),
    "AWS_KEY": ("AKIAIOSFODNN7EXAMPLE", secrets.AWS_ACCESS_KEY_ID),
    "AWS_SECRET": ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", secrets.AWS_SECRET_ACCESS_KEY),
    "PEM": ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow...", secrets.PRIVATE_KEY),
    "GH": ("ghp_" + "Zq9" * 12, secrets.GITHUB_TOKEN),
    "SLACK": ("xoxb-1234567890-DISTINCTIVESLACK", secrets.SLACK_TOKEN),
    "STRIPE": ("sk_live_DISTINCTIVE0123456789", secrets.STRIPE_KEY),
    "JWT": ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXZhbHVl", secrets.JWT),
    "DB_URL": ("postgres://app:pa55w0rd@db.internal/orders", secrets.URL_CREDENTIALS),
    "DB_PASSWORD": ("hunter2-DISTINCTIVE", secrets.SECRET_NAME_LITERAL),
    "apiToken": ("plain-DISTINCTIVE", secrets.SECRET_NAME_LITERAL),
    "DB_SECRET_ARN": ("arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf", None),
    "TOKEN_PARAM": ("arn:aws:ssm:us-east-1:111122223333:parameter/prod/token", None),
    "TOKEN_TTL": ("3600", None),
    "RESOLVED": ("{{resolve:secretsmanager:db:SecretString:password}}", secrets.RESOLVED_SECRET),
    "RANDOM": ("Zx8kQ2pL9vN4mR7tY1wE5uI3oP6aS0dF", secrets.HIGH_ENTROPY),
    "STAGE": ("production", None),
    "TABLE": ("orders-table-v2", None),
}


@pytest.mark.parametrize("name", SAMPLES)
def test_the_detector_names_the_kind_never_the_value(name: str) -> None:
    value, kind = SAMPLES[name]
    found = secrets.scan_variables({name: value})
    if kind is None:
        # KEY_ID: 19 characters after AKIA is not an access key id's shape.
        assert found == () or (found[0].kind == secrets.HIGH_ENTROPY and name == "KEY_ID")
    else:
        assert [(f.name, f.kind) for f in found] == [(name, kind)]
    assert value not in repr(found)


def fn(findings, error: str | None = None) -> LambdaFunction:
    return LambdaFunction(
        "orders", "arn:aws:lambda:us-east-1:111122223333:function:orders", "1", "r",
        environment_secrets=findings, environment_error=error,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("findings", "parameters", "compliance", "annotation"),
    [
        ((), {}, Compliance.COMPLIANT, "no environment variable value looks like a secret"),
        (
            (SecretFinding("DB_PASSWORD", secrets.SECRET_NAME_LITERAL),),
            {},
            Compliance.NON_COMPLIANT,
            "1 environment variable(s) look like secrets (DB_PASSWORD: literal value",
        ),
        ((SecretFinding("R", secrets.HIGH_ENTROPY, 4.2),), {}, Compliance.COMPLIANT, ""),
        (
            (SecretFinding("R", secrets.HIGH_ENTROPY, 4.2),),
            {"entropyThreshold": "4.0"},
            Compliance.NON_COMPLIANT,
            "R: high-entropy string",
        ),
        (
            (SecretFinding("DB_PASSWORD", secrets.SECRET_NAME_LITERAL),),
            {"ignoredVariableNames": "DB_PASSWORD"},
            Compliance.COMPLIANT,
            "",
        ),
        (
            tuple(SecretFinding(f"V{i}", secrets.JWT) for i in range(5)),
            {},
            Compliance.NON_COMPLIANT,
            "5 environment variable(s) look like secrets (V0: JSON Web Token; V1: JSON Web Token; "
            "V2: JSON Web Token; and 2 more)",
        ),
    ],
)
def test_no_secrets_table(findings, parameters, compliance, annotation) -> None:
    verdict = check_no_secrets(fn(findings), parse_parameters(RULE, parameters))
    assert verdict.compliance is compliance and annotation in verdict.annotation


def test_unscanned_variables_are_read_and_undecryptable_ones_give_no_verdict() -> None:
    with pytest.raises(UnknownFieldError):
        check_no_secrets(fn(None), NO_PARAMETERS)
    with pytest.raises(InvalidInputError, match="KMSAccessDeniedException"):
        check_no_secrets(fn(None, "KMSAccessDeniedException"), NO_PARAMETERS)


def test_the_threshold_is_validated() -> None:
    with pytest.raises(InvalidParameterError, match=r"between 3\.0 and 6\.0"):
        parse_parameters(RULE, {"entropyThreshold": "9"})


def test_get_function_configuration_with_values_or_error() -> None:
    configuration = {"Environment": {"Variables": {"DB_PASSWORD": "hunter2-DISTINCTIVE"}}}
    findings, error = environment_secrets_of(configuration)
    assert error is None and findings == (
        SecretFinding("DB_PASSWORD", secrets.SECRET_NAME_LITERAL),
    )
    denied = {"Environment": {"Error": {"ErrorCode": "KMSAccessDeniedException", "Message": "x"}}}
    assert environment_secrets_of(denied) == (None, "KMSAccessDeniedException")
