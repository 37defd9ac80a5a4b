from __future__ import annotations

from rules.errors import InvalidInputError
from rules.model import (
    Compliance,
    LambdaFunction,
    QualifiedPolicy,
    QualifierKind,
    ResourcePolicy,
    UnreadablePolicy,
    Verdict,
)
from rules.parameters import CHECK_VERSIONS, Parameters
from rules.policy import PublicFinding, public_finding
from rules.rule import Field, Rule, Severity

QUALIFIERS_NOT_READ = (
    "aliases' and versions' policies are read by the periodic evaluation, not on a change"
)


def check_public_access(function: LambdaFunction, parameters: Parameters) -> Verdict:
    """NON_COMPLIANT when any Allow statement of the function's resource policy, or of an
    alias's or version's policy, is public.

    Public: principal ``*`` / ``{"AWS": "*"}`` / a list holding ``*``, ``NotPrincipal``, or a
    service principal (confused deputy), with no restricting condition (``rules.policy``).
    Deny statements never make a function public; no policy is COMPLIANT. A policy that could not
    be read gives no verdict at all. Qualified policies (``function.qualified_policies``) are
    known only to periodic evaluations; without them the annotation says they were not read."""
    sources: list[tuple[str | None, ResourcePolicy | UnreadablePolicy | None]] = [
        (None, function.policy)
    ]
    sources += [(q.label, q.policy) for q in function.qualified_policies or ()]
    findings: list[tuple[str | None, PublicFinding]] = []
    statements = 0
    for label, policy in sources:
        if isinstance(policy, UnreadablePolicy):
            where = f"{label} policy" if label else "policy"
            raise InvalidInputError(f"function {function.name}: {where}: {policy.reason}")
        if policy is not None:
            statements += len(policy.statements)
            findings += [(label, f) for s in policy.statements if (f := public_finding(s))]
    if findings:
        return Verdict(Compliance.NON_COMPLIANT, _describe(findings))
    versions_read = parameters.boolean(CHECK_VERSIONS.name) is True
    return Verdict(
        Compliance.COMPLIANT, _compliant(function.qualified_policies, statements, versions_read)
    )


def _compliant(
    qualified: tuple[QualifiedPolicy, ...] | None, statements: int, versions_read: bool
) -> str:
    if qualified is None:
        found = (
            f"none of the {statements} resource policy statement(s) grants public access"
            if statements
            else "function has no resource-based policy"
        )
        return f"{found} ({QUALIFIERS_NOT_READ})"
    versions = sum(q.kind is QualifierKind.VERSION for q in qualified)
    scope = f"the function and its {len(qualified) - versions} alias(es)"
    if versions or versions_read:
        scope += f" and {versions} published version(s)"
    unread = "" if versions or versions_read else " (versions not read: checkVersions is off)"
    if not statements:
        return f"no resource-based policy on {scope}{unread}"
    return f"none of the {statements} policy statement(s) of {scope} grants public access{unread}"


def _describe(findings: list[tuple[str | None, PublicFinding]]) -> str:
    """Name every public statement first so all Sids survive Config's 256-character cut."""

    def label(where: str | None, finding: PublicFinding) -> str:
        return f"{where}: {finding.statement.label}" if where else finding.statement.label

    def described(where: str | None, finding: PublicFinding) -> str:
        return f"{where}: {finding.describe()}" if where else finding.describe()

    if len(findings) == 1:
        return described(*findings[0])
    labels = ", ".join(label(where, finding) for where, finding in findings)
    details = "; ".join(described(where, finding) for where, finding in findings)
    return f"{len(findings)} public statements ({labels}): {details}"


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
        "Remove the public statement (aws lambda remove-permission --statement-id SID, with "
        "--qualifier for an alias or version), or add a condition on aws:SourceAccount / "
        "aws:SourceArn / aws:PrincipalOrgID; give function URLs auth type AWS_IAM."
    ),
    documentation_url="https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html",
    parameters=(CHECK_VERSIONS,),
    lambda_api_reads=("GetPolicy",),
    periodic_reads=frozenset({Field.QUALIFIED_POLICIES}),
    # Config sends no change event when an alias's or a version's permission changes: only the
    # periodic sweep reads those policies.
    default_periodic_frequency="TwentyFour_Hours",
)
