from __future__ import annotations

from rules.model import Compliance, LambdaFunction, Verdict
from rules.parameters import DLQ_ARN, ParameterKind, Parameters, ParameterSpec
from rules.rule import Rule, Severity

DLQ_ARNS = ParameterSpec(
    "dlqArns",
    ParameterKind.CSV,
    "Comma-separated SQS queue / SNS topic ARNs allowed as the dead-letter target.",
    DLQ_ARN,
)


def check_dlq(function: LambdaFunction, parameters: Parameters) -> Verdict:
    """NON_COMPLIANT when no dead-letter target is set, or (with ``dlqArns``) when the target is
    not in the list."""
    target = function.dead_letter_target_arn
    if not target:
        return Verdict(Compliance.NON_COMPLIANT, "no dead-letter queue is configured")
    allowed = parameters.csv(DLQ_ARNS.name)
    if allowed is not None and target not in allowed:
        return Verdict(Compliance.NON_COMPLIANT, f"dead-letter target {target} is not in dlqArns")
    return Verdict(Compliance.COMPLIANT, f"dead-letter target is {target}")


RULE = Rule(
    id="lambda-dlq-check",
    title="Lambda functions have a dead-letter queue",
    description=(
        "Checks that the function sends failed asynchronous invocations to a dead-letter SQS "
        "queue or SNS topic and, when dlqArns is set, to one of the listed targets."
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
    parameters=(DLQ_ARNS,),
)
