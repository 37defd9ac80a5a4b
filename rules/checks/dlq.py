from __future__ import annotations

from rules.errors import UnknownFieldError
from rules.model import Compliance, LambdaFunction, Verdict
from rules.parameters import DLQ_ARN, ParameterKind, Parameters, ParameterSpec
from rules.rule import Field, Rule, Severity

DLQ_ARNS = ParameterSpec(
    "dlqArns",
    ParameterKind.CSV,
    "Comma-separated SQS queue / SNS topic ARNs allowed as the dead-letter target.",
    DLQ_ARN,
)


# issue 11: an OnFailure destination of the asynchronous invocation configuration also counts.
ACCEPT_ON_FAILURE_DESTINATION = ParameterSpec(
    "acceptOnFailureDestination",
    ParameterKind.BOOLEAN,
    "Also accept an OnFailure destination (SQS, SNS, Lambda, EventBridge, S3) of the "
    "function's asynchronous invocation configuration (unqualified, as DeadLetterConfig); "
    "with dlqArns set, only the listed SQS/SNS ARNs are accepted there too.",
    default="false",
)


def check_dlq(function: LambdaFunction, parameters: Parameters) -> Verdict:
    """NON_COMPLIANT when no dead-letter target is set, or (with ``dlqArns``) when the target is
    not in the list. With ``acceptOnFailureDestination``, a function without an acceptable
    dead-letter target passes on its asynchronous invocation configuration's OnFailure
    destination (in ``dlqArns`` when that is set); that configuration unread (Config does not
    record it) raises ``UnknownFieldError``, so the caller reads it."""
    target = function.dead_letter_target_arn
    accept_destination = parameters.boolean(ACCEPT_ON_FAILURE_DESTINATION.name) is True
    if accept_destination and (not target or not _listed(target, parameters.csv(DLQ_ARNS.name))):
        return _on_failure_destination(function, parameters, target)
    if not target:
        return Verdict(Compliance.NON_COMPLIANT, "no dead-letter queue is configured")
    allowed = parameters.csv(DLQ_ARNS.name)
    if allowed is not None and target not in allowed:
        return Verdict(Compliance.NON_COMPLIANT, f"dead-letter target {target} is not in dlqArns")
    return Verdict(Compliance.COMPLIANT, f"dead-letter target is {target}")


def _listed(arn: str, allowed: tuple[str, ...] | None) -> bool:
    return allowed is None or arn in allowed


def _on_failure_destination(
    function: LambdaFunction, parameters: Parameters, target: str | None
) -> Verdict:
    allowed = parameters.csv(DLQ_ARNS.name)
    dead_letter = (
        f"dead-letter target {target} is not in dlqArns"
        if target
        else "no dead-letter queue is configured"
    )
    config = function.event_invoke_config
    if config is None:
        raise UnknownFieldError(
            Field.EVENT_INVOKE_CONFIG.value,
            f"function {function.name}: {dead_letter}, and its asynchronous invocation "
            "configuration is unknown (AWS Config does not record it: "
            "GetFunctionEventInvokeConfig tells)",
        )
    destination = config.on_failure_destination
    if not destination:
        return Verdict(
            Compliance.NON_COMPLIANT,
            f"{dead_letter}, and no OnFailure destination is configured for asynchronous "
            "invocations",
        )
    if not _listed(destination, allowed):
        return Verdict(
            Compliance.NON_COMPLIANT,
            f"{dead_letter}, and OnFailure destination {destination} is not in dlqArns",
        )
    return Verdict(
        Compliance.COMPLIANT,
        f"failed asynchronous invocations go to OnFailure destination {destination} "
        f"({dead_letter})",
    )


RULE = Rule(
    id="lambda-dlq-check",
    title="Lambda functions have a dead-letter queue",
    description=(
        "Checks that failed asynchronous invocations go to a dead-letter SQS queue or SNS "
        "topic (one of dlqArns, when set); with acceptOnFailureDestination, an OnFailure "
        "destination of the asynchronous invocation configuration also counts."
    ),
    severity=Severity.MEDIUM,
    check=check_dlq,
    remediation=(
        "Set DeadLetterConfig.TargetArn to an encrypted SQS queue or SNS topic and allow the "
        "function's role sqs:SendMessage / sns:Publish on it."
    ),
    documentation_url=(
        "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html"
    ),
    parameters=(DLQ_ARNS, ACCEPT_ON_FAILURE_DESTINATION),
    # Read on demand (GetFunctionEventInvokeConfig), only with acceptOnFailureDestination.
    may_need=frozenset({Field.EVENT_INVOKE_CONFIG}),
)
