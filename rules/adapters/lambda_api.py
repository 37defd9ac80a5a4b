"""Lambda API responses (``GetFunctionConfiguration`` or a ``ListFunctions`` item, ``GetPolicy``,
``GetFunctionConcurrency``, optionally ``GetFunctionUrlConfig``) -> ``LambdaFunction``."""

from __future__ import annotations

from typing import Any, Mapping

from rules.adapters.common import (
    Environment,
    arn_field,
    environment_from,
    get_ignoring_case,
    mapping_or_empty,
    optional_count,
    optional_string,
    optional_text,
    string_tuple,
    tags_from,
)
from rules.errors import InvalidInputError
from rules.model import (
    NO_EVENT_INVOKE_CONFIG,
    CodeSigning,
    CodeSigningPolicy,
    EventInvokeConfig,
    FunctionUrl,
    LambdaFunction,
    QualifiedPolicy,
    QualifierKind,
    ResourcePolicy,
    SecretFinding,
    UnreadablePolicy,
)
from rules.policy import parse_policy
from rules.secrets import scan_variables


def function_from_lambda_api(
    configuration: Mapping[str, Any],
    policy: Mapping[str, Any] | None,
    concurrency: Mapping[str, Any] | None,
    *,
    tags: Mapping[str, str] | None = None,
    url_config: Mapping[str, Any] | None = None,
) -> LambdaFunction:
    """``policy`` is the GetPolicy response, None when Lambda answered ResourceNotFound (no
    policy). ``concurrency`` is the GetFunctionConcurrency response (``{}`` when none is
    reserved).

    ``Environment.Error`` (variables encrypted with a key the caller cannot use) gives
    ``environment_error`` and unknown names, never "no variables"."""
    function_arn = optional_text(configuration.get("FunctionArn"), "FunctionArn")
    name = optional_text(configuration.get("FunctionName"), "FunctionName")
    if not function_arn or not name:
        raise InvalidInputError("Lambda function configuration lacks FunctionName/FunctionArn")
    vpc = mapping_or_empty(configuration.get("VpcConfig"), "VpcConfig")
    dead_letter = mapping_or_empty(configuration.get("DeadLetterConfig"), "DeadLetterConfig")
    environment = environment_of(configuration)
    return LambdaFunction(
        name=name,
        arn=function_arn,
        account_id=arn_field(function_arn, 4) or "",
        region=arn_field(function_arn, 3) or "",
        runtime=optional_string(configuration.get("Runtime")),
        role=optional_string(configuration.get("Role")),
        package_type=optional_string(configuration.get("PackageType")),
        subnet_ids=string_tuple(vpc.get("SubnetIds"), "VpcConfig.SubnetIds"),
        security_group_ids=string_tuple(vpc.get("SecurityGroupIds"), "VpcConfig.SecurityGroupIds"),
        dead_letter_target_arn=optional_text(
            dead_letter.get("TargetArn"), "DeadLetterConfig.TargetArn"
        ),
        kms_key_arn=optional_text(get_ignoring_case(configuration, "KMSKeyArn"), "KMSKeyArn"),
        environment_variable_names=environment.names,
        environment_error=environment.error,
        reserved_concurrency=optional_count(
            (concurrency or {}).get("ReservedConcurrentExecutions"), "ReservedConcurrentExecutions"
        ),
        policy=_policy(policy, f"GetPolicy for {name}"),
        function_url_auth_type=optional_text((url_config or {}).get("AuthType"), "AuthType"),
        tags=tags_from(tags),
        tracing_mode=optional_text(
            mapping_or_empty(configuration.get("TracingConfig"), "TracingConfig").get("Mode"),
            "TracingConfig.Mode",
        ),
    )


def event_invoke_config_from_lambda_api(response: Mapping[str, Any] | None) -> EventInvokeConfig:
    """``response`` is the GetFunctionEventInvokeConfig response, None when Lambda answered
    ResourceNotFound (the function has no asynchronous invocation configuration). An empty
    ``Destination`` is none; a destination that is not a string is unreadable."""
    if response is None:
        return NO_EVENT_INVOKE_CONFIG
    destinations = mapping_or_empty(response.get("DestinationConfig"), "DestinationConfig")
    on_failure = mapping_or_empty(destinations.get("OnFailure"), "DestinationConfig.OnFailure")
    return EventInvokeConfig(
        optional_text(on_failure.get("Destination"), "DestinationConfig.OnFailure.Destination")
    )


def environment_of(configuration: Mapping[str, Any]) -> Environment:
    """The environment of a GetFunctionConfiguration response or a ListFunctions item: names,
    or the error Lambda gave instead of them."""
    return environment_from(get_ignoring_case(configuration, "Environment"), "Environment")


def qualified_policy_from_lambda_api(
    kind: QualifierKind, qualifier: str, policy: Mapping[str, Any] | None
) -> QualifiedPolicy:
    """``policy`` is the ``GetPolicy(Qualifier=...)`` response, None when Lambda answered
    ResourceNotFound (the alias or version has no policy of its own)."""
    where = f"GetPolicy for {kind.value} '{qualifier}'"
    return QualifiedPolicy(kind, qualifier, _policy(policy, where))


def _policy(
    response: Mapping[str, Any] | None, what: str
) -> ResourcePolicy | UnreadablePolicy | None:
    """None (no policy) only when Lambda said so (ResourceNotFound, passed as None): a response
    without its ``Policy`` text is unreadable, never "no policy"."""
    if response is None:
        return None
    document = response.get("Policy")
    if not isinstance(document, str) or not document:
        return UnreadablePolicy(f"{what} answered without a Policy document")
    return parse_policy(document)


# --- issue 11 (rules-b): function URLs, code signing, secrets ---
def function_urls_from(
    function_name: str, configs: list[Mapping[str, Any]]
) -> tuple[FunctionUrl, ...]:
    """``ListFunctionUrlConfigs``' ``FunctionUrlConfigs`` (every page): the function's own URL
    has an unqualified ``FunctionArn``, an alias's URL the alias as qualifier. A URL whose auth
    type is missing is unreadable, never "AWS_IAM"."""
    urls = []
    for config in configs:
        arn = optional_text(config.get("FunctionArn"), "FunctionUrlConfig.FunctionArn") or ""
        auth = optional_text(config.get("AuthType"), "FunctionUrlConfig.AuthType")
        if auth is None:
            raise InvalidInputError(f"function {function_name}: a function URL has no AuthType")
        parts = arn.split(":")
        qualifier = parts[7] if len(parts) == 8 and parts[7] != "$LATEST" else None
        urls.append(FunctionUrl(qualifier, auth))
    return tuple(sorted(urls, key=lambda url: (url.qualifier is not None, url.qualifier or "")))


def code_signing_from(
    function_config: Mapping[str, Any], signing_config: Mapping[str, Any] | None
) -> CodeSigning:
    """``GetFunctionCodeSigningConfig`` (an empty ``CodeSigningConfigArn`` when none is attached)
    and, when one is, ``GetCodeSigningConfig``'s ``CodeSigningConfig``."""
    arn = optional_text(function_config.get("CodeSigningConfigArn"), "CodeSigningConfigArn")
    if arn is None:
        return CodeSigning(None)
    config = mapping_or_empty((signing_config or {}).get("CodeSigningConfig"), "CodeSigningConfig")
    if not config:
        raise InvalidInputError(
            f"GetCodeSigningConfig for {arn} answered without its configuration"
        )
    policies = mapping_or_empty(config.get("CodeSigningPolicies"), "CodeSigningPolicies")
    publishers = mapping_or_empty(config.get("AllowedPublishers"), "AllowedPublishers")
    # AWS's default when the policy is not given is Warn.
    untrusted = optional_text(
        policies.get("UntrustedArtifactOnDeployment"), "UntrustedArtifactOnDeployment"
    )
    return CodeSigning(
        arn,
        CodeSigningPolicy(
            untrusted or "Warn",
            string_tuple(publishers.get("SigningProfileVersionArns"), "SigningProfileVersionArns"),
        ),
    )


def environment_secrets_of(
    configuration: Mapping[str, Any],
) -> tuple[tuple[SecretFinding, ...] | None, str | None]:
    """(findings, None), or (None, the error code Lambda gave instead of the variables). The
    values are scanned here, where they arrive, and dropped: only (name, kind) leaves."""
    environment = mapping_or_empty(get_ignoring_case(configuration, "Environment"), "Environment")
    names = environment_of(configuration)
    if names.error is not None:
        return None, names.error
    variables = mapping_or_empty(get_ignoring_case(environment, "Variables"), "Variables")
    return scan_variables(variables), None
