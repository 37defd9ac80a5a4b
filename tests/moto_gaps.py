"""Answers for the Lambda APIs moto 5.2.5 does not implement, on a botocore session.

moto lacks ``ListFunctionUrlConfigs``, ``GetFunctionCodeSigningConfig`` and
``GetCodeSigningConfig`` (code signing is not modelled at all). A ``before-call`` hook answers
them with a canned response, so the handler keeps its real calls (recorded by the call log,
checked against ``rules.permissions``) on the moto path; tests of their content use Stubber.
"""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse

CSC = "arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-0123456789abcdef0"
CANNED: dict[str, dict[str, Any]] = {
    "ListFunctionUrlConfigs": {"FunctionUrlConfigs": []},
    "GetFunctionCodeSigningConfig": {"CodeSigningConfigArn": CSC, "FunctionName": "f"},
    "GetCodeSigningConfig": {
        "CodeSigningConfig": {
            "CodeSigningConfigId": "csc-0123456789abcdef0",
            "CodeSigningConfigArn": CSC,
            "AllowedPublishers": {
                "SigningProfileVersionArns": [
                    "arn:aws:signer:us-east-1:123456789012:/signing-profiles/Release/abcdef1234"
                ]
            },
            "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"},
            "LastModified": "2026-01-01T00:00:00Z",
        }
    },
}


def answer_moto_gaps(
    session: Any, canned: dict[str, dict[str, Any]] | None = None, service: str = "lambda"
) -> None:
    responses = CANNED if canned is None else canned

    def answer(model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if model.name not in responses:
            return None
        http = AWSResponse("https://moto-gap.invalid", 200, {}, None)
        return http, {**responses[model.name], "ResponseMetadata": {"HTTPStatusCode": 200}}

    session.register(f"before-call.{service}.*", answer)
