from __future__ import annotations

import re

from rules.errors import UnknownFieldError
from rules.model import Compliance, LambdaFunction, Verdict
from rules.parameters import PARTITION, ParameterKind, Parameters, ParameterSpec, ValueFormat
from rules.rule import Field, Rule, Severity

ENFORCE = "Enforce"
SIGNING_PROFILE_VERSION_ARN = ValueFormat(
    re.compile(rf"arn:{PARTITION}:signer:[a-z0-9-]+:\d{{12}}:/signing-profiles/[A-Za-z0-9_]+/\w+"),
    "a signing profile version ARN like "
    "arn:aws:signer:us-east-1:111122223333:/signing-profiles/MyProfile/abcdef1234",
)
SIGNING_PROFILE_VERSION_ARNS = ParameterSpec(
    "signingProfileVersionArns",
    ParameterKind.CSV,
    "Comma-separated signing profile version ARNs; the code signing configuration may allow "
    "only these (any other allowed publisher is NON_COMPLIANT).",
    SIGNING_PROFILE_VERSION_ARN,
)


def check_code_signing(function: LambdaFunction, parameters: Parameters) -> Verdict:
    """NON_COMPLIANT when no code signing configuration is attached, when it does not enforce
    (``UntrustedArtifactOnDeployment`` is ``Warn``: unsigned code still deploys), or (with
    ``signingProfileVersionArns``) when it allows a signing profile outside the list.
    AWS Config does not record the configuration: ``UnknownFieldError`` until it is read
    (GetFunctionCodeSigningConfig, then GetCodeSigningConfig)."""
    signing = function.code_signing
    if signing is not None and signing.config_arn is None:
        return Verdict(Compliance.NON_COMPLIANT, "no code signing configuration is attached")
    if signing is None or signing.policy is None:
        what = f"code signing configuration {signing.config_arn}" if signing else "code signing"
        raise UnknownFieldError(
            Field.CODE_SIGNING.value,
            f"function {function.name}: its {what} is unknown (AWS Config does not record it; "
            "GetFunctionCodeSigningConfig and GetCodeSigningConfig tell)",
        )
    policy = signing.policy
    if policy.untrusted_artifact_on_deployment != ENFORCE:
        return Verdict(
            Compliance.NON_COMPLIANT,
            f"code signing configuration {signing.config_arn} has UntrustedArtifactOnDeployment "
            f"{policy.untrusted_artifact_on_deployment}, not {ENFORCE}: unsigned code deploys",
        )
    allowed = parameters.csv(SIGNING_PROFILE_VERSION_ARNS.name)
    if allowed is not None:
        others = [arn for arn in policy.signing_profile_version_arns if arn not in allowed]
        if others:
            return Verdict(
                Compliance.NON_COMPLIANT,
                f"code signing configuration {signing.config_arn} allows signing profile(s) not "
                f"in {SIGNING_PROFILE_VERSION_ARNS.name}: {', '.join(others)}",
            )
    return Verdict(
        Compliance.COMPLIANT,
        f"code signing configuration {signing.config_arn} enforces signatures of "
        f"{len(policy.signing_profile_version_arns)} signing profile version(s)",
    )


RULE = Rule(
    id="lambda-code-signing-enforced",
    title="Lambda functions enforce code signing",
    description=(
        "Checks that a code signing configuration is attached to the function with "
        "UntrustedArtifactOnDeployment Enforce and, when signingProfileVersionArns is set, "
        "that it allows only the listed signing profiles."
    ),
    severity=Severity.MEDIUM,
    check=check_code_signing,
    remediation=(
        "Create a code signing configuration with UntrustedArtifactOnDeployment Enforce and your "
        "AWS Signer profile versions as allowed publishers, and attach it to the function (aws "
        "lambda put-function-code-signing-config)."
    ),
    documentation_url="https://docs.aws.amazon.com/lambda/latest/dg/configuration-codesigning.html",
    parameters=(SIGNING_PROFILE_VERSION_ARNS,),
    may_need=frozenset({Field.CODE_SIGNING}),
    enabled_by_default=False,
)
