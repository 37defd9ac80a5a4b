from __future__ import annotations

import pytest

from rules.adapters.lambda_api import code_signing_from
from rules.checks.code_signing import RULE, check_code_signing
from rules.errors import InvalidParameterError, UnknownFieldError
from rules.model import CodeSigning, CodeSigningPolicy, Compliance, LambdaFunction
from rules.parameters import NO_PARAMETERS, parse_parameters

CSC = "arn:aws:lambda:us-east-1:111122223333:code-signing-config:csc-0a1b2c3d4e5f67890"
PROFILE = "arn:aws:signer:us-east-1:111122223333:/signing-profiles/Release/abcdef1234"
OTHER = "arn:aws:signer:us-east-1:111122223333:/signing-profiles/Dev/0123456789"


def fn(signing: CodeSigning | None) -> LambdaFunction:
    return LambdaFunction(
        "orders", "arn:aws:lambda:us-east-1:111122223333:function:orders", "1", "r",
        code_signing=signing,
    )  # fmt: skip


ENFORCED = CodeSigning(CSC, CodeSigningPolicy("Enforce", (PROFILE, OTHER)))


@pytest.mark.parametrize(
    ("signing", "parameters", "compliance", "annotation"),
    [
        (CodeSigning(None), {}, Compliance.NON_COMPLIANT, "no code signing configuration"),
        (
            CodeSigning(CSC, CodeSigningPolicy("Warn", (PROFILE,))),
            {},
            Compliance.NON_COMPLIANT,
            "UntrustedArtifactOnDeployment Warn, not Enforce",
        ),
        (ENFORCED, {}, Compliance.COMPLIANT, "enforces signatures of 2 signing profile"),
        (
            ENFORCED,
            {"signingProfileVersionArns": PROFILE},
            Compliance.NON_COMPLIANT,
            f"not in signingProfileVersionArns: {OTHER}",
        ),
        (ENFORCED, {"signingProfileVersionArns": f"{PROFILE},{OTHER}"}, Compliance.COMPLIANT, ""),
    ],
)
def test_code_signing_table(signing, parameters, compliance, annotation) -> None:
    verdict = check_code_signing(fn(signing), parse_parameters(RULE, parameters))
    assert verdict.compliance is compliance and annotation in verdict.annotation


@pytest.mark.parametrize("signing", [None, CodeSigning(CSC)])
def test_unknown_configuration_is_read_never_compliant(signing) -> None:
    with pytest.raises(UnknownFieldError):
        check_code_signing(fn(signing), NO_PARAMETERS)


def test_profile_arns_are_validated() -> None:
    with pytest.raises(InvalidParameterError):
        parse_parameters(RULE, {"signingProfileVersionArns": "Release"})


def test_lambda_api_responses() -> None:
    assert code_signing_from({"CodeSigningConfigArn": "", "FunctionName": "f"}, None) == (
        CodeSigning(None)
    )
    config = {
        "CodeSigningConfig": {
            "CodeSigningConfigArn": CSC,
            "AllowedPublishers": {"SigningProfileVersionArns": [PROFILE]},
            "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"},
        }
    }
    assert code_signing_from({"CodeSigningConfigArn": CSC}, config) == CodeSigning(
        CSC, CodeSigningPolicy("Enforce", (PROFILE,))
    )
    # AWS's default policy is Warn.
    config["CodeSigningConfig"].pop("CodeSigningPolicies")
    signing = code_signing_from({"CodeSigningConfigArn": CSC}, config)
    assert signing.policy is not None and signing.policy.untrusted_artifact_on_deployment == "Warn"


def test_off_by_default() -> None:
    assert RULE.enabled_by_default is False
