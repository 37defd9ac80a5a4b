from __future__ import annotations

from rules.errors import InvalidParameterError
from rules.model import Compliance, LambdaFunction, Verdict
from rules.parameters import ParameterKind, Parameters, ParameterSpec
from rules.rule import Rule, Severity

LOW = ParameterSpec(
    "ConcurrencyLimitLow",
    ParameterKind.INTEGER,
    "Lowest allowed reserved concurrency (inclusive).",
    minimum=0,
)
HIGH = ParameterSpec(
    "ConcurrencyLimitHigh",
    ParameterKind.INTEGER,
    "Highest allowed reserved concurrency (inclusive).",
    minimum=0,
)


def validate_bounds(rule_id: str, parameters: Parameters) -> None:
    low, high = parameters.integer(LOW.name), parameters.integer(HIGH.name)
    if low is not None and high is not None and low > high:
        raise InvalidParameterError(rule_id, LOW.name, low, f"is greater than {HIGH.name} ({high})")


def check_concurrency(function: LambdaFunction, parameters: Parameters) -> Verdict:
    """NON_COMPLIANT when no reserved concurrency is set or it lies outside the inclusive bounds.
    0 is a set limit (the function is throttled): COMPLIANT unless below the low bound."""
    reserved = function.reserved_concurrency
    if reserved is None:
        return Verdict(Compliance.NON_COMPLIANT, "no reserved concurrency is set")
    low, high = parameters.integer(LOW.name), parameters.integer(HIGH.name)
    if low is not None and reserved < low:
        return Verdict(
            Compliance.NON_COMPLIANT,
            f"reserved concurrency {reserved} is below {LOW.name} {low}",
        )
    if high is not None and reserved > high:
        return Verdict(
            Compliance.NON_COMPLIANT,
            f"reserved concurrency {reserved} is above {HIGH.name} {high}",
        )
    throttled = " (0: the function is throttled)" if reserved == 0 else ""
    return Verdict(Compliance.COMPLIANT, f"reserved concurrency is {reserved}{throttled}")


RULE = Rule(
    id="lambda-concurrency-check",
    title="Lambda functions have reserved concurrency",
    description=(
        "Checks that the function reserves concurrency and, when ConcurrencyLimitLow / "
        "ConcurrencyLimitHigh are set, that the reservation lies within them (inclusive)."
    ),
    severity=Severity.LOW,
    check=check_concurrency,
    remediation=(
        "Reserve concurrency for the function (aws lambda put-function-concurrency) within the "
        "bounds your account's capacity plan allows."
    ),
    documentation_url="https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html",
    parameters=(LOW, HIGH),
    validate_parameters=validate_bounds,
    lambda_api_reads=("GetFunctionConcurrency",),
)
