from __future__ import annotations

from rules.errors import UnknownFieldError
from rules.model import Compliance, LambdaFunction, Verdict
from rules.parameters import Parameters
from rules.rule import Field, Rule, Severity

AWS_IAM = "AWS_IAM"


def check_function_url_auth(function: LambdaFunction, parameters: Parameters) -> Verdict:
    """NON_COMPLIANT when any function URL of the function or of one of its aliases has an auth
    type other than ``AWS_IAM`` (``NONE``: anyone on the internet can call it); COMPLIANT when
    every URL uses ``AWS_IAM`` or there is none. AWS Config does not record URLs: when they are
    unknown, ``UnknownFieldError`` makes the caller read them (ListFunctionUrlConfigs)."""
    urls = function.function_urls
    if urls is None:
        raise UnknownFieldError(
            Field.FUNCTION_URLS.value,
            f"function {function.name}: its function URLs are unknown (AWS Config does not "
            "record them; ListFunctionUrlConfigs tells)",
        )
    if not urls:
        return Verdict(Compliance.COMPLIANT, "function has no function URL")
    open_urls = [url for url in urls if url.auth_type != AWS_IAM]
    if open_urls:
        named = ", ".join(f"{url.label} (auth type {url.auth_type})" for url in open_urls)
        return Verdict(
            Compliance.NON_COMPLIANT,
            f"{len(open_urls)} function URL(s) without {AWS_IAM} auth: {named}",
        )
    labels = ", ".join(url.label for url in urls)
    return Verdict(Compliance.COMPLIANT, f"every function URL uses {AWS_IAM} auth ({labels})")


RULE = Rule(
    id="lambda-function-url-auth-required",
    title="Lambda function URLs require IAM authentication",
    description=(
        "Checks that every function URL of the function and of its aliases uses auth type "
        "AWS_IAM (a URL with auth type NONE can be called by anyone who knows it)."
    ),
    severity=Severity.HIGH,
    check=check_function_url_auth,
    remediation=(
        "Set the URL's auth type to AWS_IAM (aws lambda update-function-url-config "
        "--auth-type AWS_IAM, with --qualifier for an alias), or delete the URL and front the "
        "function with an authenticating service."
    ),
    documentation_url="https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html",
    may_need=frozenset({Field.FUNCTION_URLS}),
    # Config records no function URL, so no change event follows one: the periodic sweep does.
    default_periodic_frequency="TwentyFour_Hours",
)
