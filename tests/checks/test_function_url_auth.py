from __future__ import annotations

import pytest

from rules.adapters.lambda_api import function_urls_from
from rules.checks.function_url_auth import check_function_url_auth
from rules.errors import InvalidInputError, UnknownFieldError
from rules.model import Compliance, FunctionUrl, LambdaFunction
from rules.parameters import NO_PARAMETERS

ARN = "arn:aws:lambda:us-east-1:111122223333:function:orders"


def fn(urls: tuple[FunctionUrl, ...] | None) -> LambdaFunction:
    return LambdaFunction("orders", ARN, "111122223333", "us-east-1", function_urls=urls)


@pytest.mark.parametrize(
    ("urls", "compliance", "annotation"),
    [
        ((), Compliance.COMPLIANT, "function has no function URL"),
        ((FunctionUrl(None, "AWS_IAM"),), Compliance.COMPLIANT, "every function URL uses AWS_IAM"),
        (
            (FunctionUrl(None, "AWS_IAM"), FunctionUrl("live", "NONE")),
            Compliance.NON_COMPLIANT,
            "1 function URL(s) without AWS_IAM auth: alias 'live' (auth type NONE)",
        ),
        (
            (FunctionUrl(None, "NONE"),),
            Compliance.NON_COMPLIANT,
            "the function (auth type NONE)",
        ),
    ],
)
def test_every_url_of_the_function_and_its_aliases_needs_iam(urls, compliance, annotation) -> None:
    verdict = check_function_url_auth(fn(urls), NO_PARAMETERS)
    assert verdict.compliance is compliance and annotation in verdict.annotation


def test_unknown_urls_are_read_never_compliant() -> None:
    with pytest.raises(UnknownFieldError, match="ListFunctionUrlConfigs"):
        check_function_url_auth(fn(None), NO_PARAMETERS)


def test_list_function_url_configs_response_gives_qualifiers() -> None:
    configs = [
        {"FunctionArn": f"{ARN}:live", "AuthType": "NONE", "FunctionUrl": "https://a/"},
        {"FunctionArn": ARN, "AuthType": "AWS_IAM", "FunctionUrl": "https://b/"},
    ]
    assert function_urls_from("orders", configs) == (
        FunctionUrl(None, "AWS_IAM"),
        FunctionUrl("live", "NONE"),
    )


def test_a_url_without_auth_type_is_unreadable() -> None:
    with pytest.raises(InvalidInputError, match="no AuthType"):
        function_urls_from("orders", [{"FunctionArn": ARN}])
