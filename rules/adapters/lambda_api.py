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
    EventInvokeConfig,
    LambdaFunction,
    QualifiedPolicy,
    QualifierKind,
    ResourcePolicy,
    UnreadablePolicy,
)
from rules.policy import parse_policy


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
