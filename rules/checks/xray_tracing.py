"""``lambda-xray-tracing-active``: the function samples and traces requests with AWS X-Ray."""

from __future__ import annotations

from rules.model import Compliance, LambdaFunction, Verdict
from rules.parameters import Parameters
from rules.rule import Rule, Severity

ACTIVE = "Active"
# What Lambda applies when TracingConfig is not set.
PASS_THROUGH = "PassThrough"


def check_xray_tracing(function: LambdaFunction, _parameters: Parameters) -> Verdict:
    """COMPLIANT when ``TracingConfig.Mode`` is ``Active``; any other mode, or none (Lambda's
    default, PassThrough), is NON_COMPLIANT."""
    mode = function.tracing_mode
    if mode == ACTIVE:
        return Verdict(Compliance.COMPLIANT, "X-Ray tracing mode is Active")
    shown = mode if mode else f"not set ({PASS_THROUGH}, Lambda's default)"
    return Verdict(Compliance.NON_COMPLIANT, f"X-Ray tracing mode is {shown}, not {ACTIVE}")


RULE = Rule(
    id="lambda-xray-tracing-active",
    title="Lambda functions trace requests with AWS X-Ray",
    description=(
        "Checks that the function's X-Ray tracing mode (TracingConfig.Mode) is Active, so "
        "Lambda samples incoming requests and sends traces."
    ),
    severity=Severity.LOW,
    check=check_xray_tracing,
    remediation=(
        "Set TracingConfig.Mode to Active (aws lambda update-function-configuration "
        "--tracing-config Mode=Active) and allow the role xray:PutTraceSegments and "
        "xray:PutTelemetryRecords (AWSXRayDaemonWriteAccess)."
    ),
    documentation_url="https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html",
)
