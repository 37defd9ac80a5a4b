from __future__ import annotations

from rules.errors import InvalidInputError
from rules.model import Compliance, LambdaFunction, UnreadablePolicy, Verdict
from rules.parameters import Parameters
from rules.policy import public_finding
from rules.rule import Rule, Severity


def check_public_access(function: LambdaFunction, parameters: Parameters) -> Verdict:
    """NON_COMPLIANT when any Allow statement of the resource policy is public.

    Public: principal ``*`` / ``{"AWS": "*"}`` / a list holding ``*``, ``NotPrincipal``, or a
    service principal (confused deputy), with no restricting condition (``rules.policy``).
    Deny statements never make a function public; no policy is COMPLIANT. A policy that could not
    be read gives no verdict at all."""
    policy = function.policy
    if isinstance(policy, UnreadablePolicy):
        raise InvalidInputError(f"function {function.name}: {policy.reason}")
    if policy is None or not policy.statements:
        return Verdict(Compliance.COMPLIANT, "function has no resource-based policy")
    findings = [f for s in policy.statements if (f := public_finding(s)) is not None]
    if not findings:
        count = len(policy.statements)
        return Verdict(
            Compliance.COMPLIANT,
            f"none of the {count} resource policy statement(s) grants public access",
        )
    # Name every public statement first so all Sids survive the 256-character annotation limit.
    if len(findings) == 1:
        return Verdict(Compliance.NON_COMPLIANT, findings[0].describe())
    labels = ", ".join(finding.statement.label for finding in findings)
    described = "; ".join(finding.describe() for finding in findings)
    return Verdict(
        Compliance.NON_COMPLIANT, f"{len(findings)} public statements ({labels}): {described}"
    )


RULE = Rule(
    id="lambda-function-public-access-prohibited",
    title="Lambda function policies prohibit public access",
    description=(
        "Checks that no Allow statement of the function's resource-based policy grants access "
        "to everyone (Principal '*', NotPrincipal, a function URL with auth type NONE) or to an "
        "AWS service without a condition that pins the source account, ARN or organization."
    ),
    severity=Severity.CRITICAL,
    check=check_public_access,
    remediation=(
        "Remove the public statement (aws lambda remove-permission --statement-id SID), or add a "
        "condition on aws:SourceAccount / aws:SourceArn / aws:PrincipalOrgID; give function URLs "
        "auth type AWS_IAM."
    ),
    documentation_url="https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html",
    lambda_api_reads=("GetPolicy",),
    # Config sends no change event when an alias's or a version's permission changes: only the
    # periodic sweep reads those policies.
    default_periodic_frequency="TwentyFour_Hours",
)
