"""CloudFormation templates -> ``LambdaFunction`` models, for synth-time checks.

Reads ``AWS::Lambda::Function`` resources, the ``AWS::Lambda::Permission`` resources that target
them (which become resource-policy statements, as Lambda itself builds them), their
``AWS::Lambda::Alias`` / ``AWS::Lambda::Version`` resources and ``AWS::Lambda::Url`` auth types.

Resolved values. Intrinsic functions are resolved for the stack's environment: ``Ref`` to pseudo
parameters and to resources of the template whose ``Ref`` value is known (see ``ARN_SHAPES``),
``Fn::GetAtt`` of their ARN, ``Fn::Sub``, ``Fn::Join`` of a literal list, ``Fn::Select`` from a
literal list. An identifier CloudFormation generates at deploy time (a name the template does not
set, a key id) stands as the logical id; it never sits in an ARN's account field. Anything else
(``Ref`` to a template parameter, ``Fn::If``, ``Fn::FindInMap``, ``Fn::ImportValue``,
``Fn::Split``, an attribute or a resource type this module does not know, ...) is only known at
deploy time: it becomes ``rules.policy.unresolved_value("Ref MyParam")``, which the policy
analysis never takes for a fixed principal, account, ARN or organization, and names in its
annotation. An unresolved value is never read as absent nor as a fixed value.

Environment-agnostic stacks. ``StackEnvironment(account=None)`` (the default) stands for "the
account the stack is deployed to": ``Ref AWS::AccountId`` is that one fixed account (written
``123456789012`` in ARNs, so ``SourceAccount: !Ref AWS::AccountId`` restricts), but the models'
``account_id`` is empty, so no check compares a literal account of the template with it.

Aliases and versions. A permission whose ``FunctionName`` is an alias (``Ref`` to an
``AWS::Lambda::Alias``, ``<function ARN or name>:<alias>``) or a version (``Ref`` to an
``AWS::Lambda::Version``, ``...:<number>``) lands in that qualifier's policy,
``LambdaFunction.qualified_policies``, as Lambda keeps it; a version the template publishes is
labelled by its logical id (its number is known only at deploy time). Every alias and version of
the template is listed there (``policy=None`` when nothing grants on it); a function with none has
``qualified_policies=()``. An ``AWS::Lambda::Url`` with a ``Qualifier`` belongs to that alias.

Unattributed resources. A permission or URL whose target is not a function of the template (a
parameter, an imported value, a function of another stack) is never dropped silently:
``read_template`` lists it in ``TemplateModels.unattributed`` and ``functions_from_template``
refuses the template (``UnattributedPermissionError``) rather than model functions without it.

Environments. An ``Environment`` or ``Variables`` given by an intrinsic (``Fn::If`` ...) leaves
``environment_variable_names`` unknown (None), never "no variables". ``Ref AWS::NoValue`` there
means none.

Keys. The template's own ``AWS::KMS::Key`` is customer managed; an alias ARN names its key's
manager; any other key ARN the template spells out has an unknown manager, listed in
``unknowns`` (``ModelField.KEY_MANAGER``): only kms:DescribeKey tells, nothing asks KMS at synth
time, and an AWS managed key has a key ARN too. A caller that did ask passes the answers in
``StackEnvironment.key_managers``. A key that stays unresolved has an unknown manager too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple

from rules.adapters.cloudformation_unknowns import ModelField, UnresolvedValue
from rules.adapters.common import JSON_OBJECT, tags_from
from rules.errors import InvalidInputError
from rules.model import (
    NO_EVENT_INVOKE_CONFIG,
    CodeSigning,
    CodeSigningPolicy,
    Condition,
    EventInvokeConfig,
    FunctionUrl,
    KeyManager,
    LambdaFunction,
    PolicyStatement,
    Principal,
    QualifiedPolicy,
    QualifierKind,
    ResourcePolicy,
    SecretFinding,
)
from rules.policy import UNRESOLVED, unresolved_sources, unresolved_value
from rules.role_index import with_role_peers
from rules.secrets import scan_variables

FUNCTION = "AWS::Lambda::Function"
ALIAS = "AWS::Lambda::Alias"
VERSION = "AWS::Lambda::Version"
PERMISSION = "AWS::Lambda::Permission"
URL = "AWS::Lambda::Url"
EVENT_INVOKE_CONFIG = "AWS::Lambda::EventInvokeConfig"
# A template that still holds these has not been through the SAM transform.
SAM_PREFIX = "AWS::Serverless::"
KMS_KEY = "AWS::KMS::Key"
SUBNET = "AWS::EC2::Subnet"
EVENTS_RULE = "AWS::Events::Rule"
CODE_SIGNING_CONFIG = "AWS::Lambda::CodeSigningConfig"


class ResourceShape(NamedTuple):
    """How a resource type's ARN is built and what ``Ref`` gives for it.

    ``resource`` is the ARN's resource part: ``{name}`` the resource's name (``name_property``,
    else the logical id standing for the generated name), ``{id}`` an id CloudFormation always
    generates (the logical id stands for it), ``{path}`` an IAM path."""

    service: str
    resource: str
    name_property: str | None
    ref: str  # "name", "arn" or "url"
    arn_attribute: str = "Arn"
    regional: bool = True
    in_account: bool = True


ARN_SHAPES = {
    FUNCTION: ResourceShape("lambda", "function:{name}", "FunctionName", "name"),
    # Bucket ARNs carry neither region nor account: an S3 grant needs SourceAccount.
    "AWS::S3::Bucket": ResourceShape(
        "s3", "{name}", "BucketName", "name", regional=False, in_account=False
    ),
    "AWS::SQS::Queue": ResourceShape("sqs", "{name}", "QueueName", "url"),
    "AWS::SNS::Topic": ResourceShape("sns", "{name}", "TopicName", "arn", "TopicArn"),
    # Ref gives the key id, which CloudFormation generates.
    KMS_KEY: ResourceShape("kms", "key/{id}", None, "name"),
    # The ARN holds the generated rule id (config-rule/config-rule-ab12cd), Ref the name.
    "AWS::Config::ConfigRule": ResourceShape(
        "config", "config-rule/{id}", "ConfigRuleName", "name"
    ),
    EVENTS_RULE: ResourceShape("events", "rule/{name}", "Name", "name"),
    "AWS::IAM::Role": ResourceShape("iam", "role{path}{name}", "RoleName", "name", regional=False),
}
# The Region of a stack deployed to a Region known only at deploy time: never a guessed one, so
# no ARN built from ``AWS::Region`` matches a listed ARN (dlqArns, kmsKeyArns) by chance.
UNKNOWN_REGION = unresolved_value("Ref AWS::Region")
# What ``Ref AWS::AccountId`` stands for in an environment-agnostic stack.
PLACEHOLDER_ACCOUNT = "123456789012"
URL_SUFFIXES = {"aws-cn": "amazonaws.com.cn", "aws-iso": "c2s.ic.gov", "aws-iso-b": "sc2s.sgov.gov"}
SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")
# CloudFormation reads an Integer property given as a string holding one ("5").
INTEGER_TEXT = re.compile(r"-?[0-9]+")
VERSION_NUMBER = re.compile(r"[0-9]+")
# A key given by its key ARN (an alias ARN names its key's manager: alias/aws/... is AWS's).
KMS_KEY_ARN = re.compile(r"arn:[^:]+:kms:[^:]*:[0-9]{12}:key/.+")
# AWS::Lambda::Permission properties -> the condition AddPermission writes for each.
STATEMENT_CONDITIONS = {
    "SourceAccount": ("StringEquals", "AWS:SourceAccount"),
    "SourceArn": ("ArnLike", "AWS:SourceArn"),
    "PrincipalOrgID": ("StringEquals", "aws:PrincipalOrgID"),
    "EventSourceToken": ("StringEquals", "lambda:EventSourceToken"),
    "FunctionUrlAuthType": ("StringEquals", "lambda:FunctionUrlAuthType"),
    "InvokedViaFunctionUrl": ("Bool", "lambda:InvokedViaFunctionUrl"),
}
# Lambda's own name for the unpublished code: a permission on it is the function's.
LATEST = "$LATEST"
DESCRIPTION_LIMIT = 100
# What a description prints for a literal that may be a secret (an environment variable value).
SECRET_PLACEHOLDER = "<value>"
# Intrinsics whose arguments are names (of a parameter, resource, mapping or export).
NAME_FUNCTIONS = frozenset({"Ref", "Fn::GetAtt", "Fn::FindInMap", "Fn::ImportValue"})


@dataclass(frozen=True, slots=True)
class StackEnvironment:
    """Where the template is deployed. ``account=None``: an environment-agnostic stack (CDK's
    default), deployed to an account known only at deploy time; ``region=UNKNOWN_REGION``: a
    Region known only at deploy time (ARNs hold its marker, which matches no listed ARN)."""

    account: str | None = None
    region: str = "us-east-1"
    partition: str = "aws"
    # Who manages each key ARN, as kms:DescribeKey told a caller that may ask (the hook): a key
    # listed here has a known manager; any other key ARN's manager is an unresolved value.
    key_managers: tuple[tuple[str, KeyManager], ...] = ()
    # The zone of each subnet id, as ec2:DescribeSubnets told a caller that may ask (the hook);
    # any other subnet given by id has an unresolved zone.
    subnet_zones: tuple[tuple[str, str], ...] = ()
    # The policy of each code signing configuration ARN, as lambda:GetCodeSigningConfig told a
    # caller that may ask (the hook); any other configuration the template does not hold has
    # an unknown policy.
    code_signing_configs: tuple[tuple[str, CodeSigningPolicy], ...] = ()


class Qualifier(NamedTuple):
    kind: QualifierKind
    name: str


class _Target(NamedTuple):
    function: str
    qualifier: Qualifier | None


@dataclass(frozen=True, slots=True)
class UnattributedResource:
    """A permission or function URL whose target is no function of the template."""

    logical_id: str
    resource_type: str
    target: str  # how the template names the target (``Ref FunctionNameParam``)

    def describe(self) -> str:
        return f"{self.logical_id} ({self.resource_type} on {self.target})"


@dataclass(frozen=True, slots=True)
class TemplateModels:
    """``functions`` and ``unknowns`` by the function's logical id; ``sources`` lists, per
    function, the logical ids of the resources its model was built from (the function first,
    then its aliases, versions, permissions, URLs and EventInvokeConfigs), so a report can point
    at each of them."""

    functions: Mapping[str, LambdaFunction]
    unattributed: tuple[UnattributedResource, ...]
    # Values the template leaves to deploy time that a check may read (see UnresolvedValue).
    unknowns: Mapping[str, tuple[UnresolvedValue, ...]] = field(default_factory=dict)
    sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class UntransformedTemplateError(InvalidInputError):
    """A SAM template before its transform: its functions are not Lambda resources yet."""


class UnattributedPermissionError(InvalidInputError):
    """The template grants on a function it does not hold: modelling its functions without
    those grants would hide them."""

    def __init__(self, unattributed: tuple[UnattributedResource, ...]) -> None:
        self.unattributed = unattributed
        named = "; ".join(item.describe() for item in unattributed)
        super().__init__(
            f"{len(unattributed)} permission(s)/URL(s) target no function of the template: "
            f"{named} (read_template lists them)"
        )


def functions_from_template(
    template: Mapping[str, Any], environment: StackEnvironment | None = None
) -> dict[str, LambdaFunction]:
    """Every Lambda function of ``template`` by logical id; ``UnattributedPermissionError``
    when a permission or URL targets something else (``read_template`` returns both)."""
    models = read_template(template, environment)
    if models.unattributed:
        raise UnattributedPermissionError(models.unattributed)
    return dict(models.functions)


def read_template(
    template: Mapping[str, Any], environment: StackEnvironment | None = None
) -> TemplateModels:
    """The template's functions, and the permissions/URLs that target none of them."""
    resources: Mapping[str, Any] = template.get("Resources") or {}
    _refuse_untransformed(template, resources)
    resolver = _Resolver(resources, environment or StackEnvironment())
    function_ids = [lid for lid, resource in resources.items() if _type(resource) == FUNCTION]
    unqualified: dict[str, list[PolicyStatement]] = {lid: [] for lid in function_ids}
    qualified: dict[str, dict[Qualifier, list[PolicyStatement]]] = {lid: {} for lid in function_ids}
    url_auth: dict[str, str] = {}
    urls: dict[str, list[FunctionUrl]] = {lid: [] for lid in function_ids}
    unattributed: list[UnattributedResource] = []
    unknowns: dict[str, list[UnresolvedValue]] = {
        lid: _function_unknowns(lid, _properties(resources[lid]), resolver) for lid in function_ids
    }
    sources: dict[str, list[str]] = {lid: [lid] for lid in function_ids}
    # Aliases and versions first: each is listed even when nothing grants on it.
    for logical_id, resource in resources.items():
        target = _owner(logical_id, resource, resolver)
        if target is not None:
            sources[target.function].append(logical_id)
            if target.qualifier is not None:
                qualified[target.function].setdefault(target.qualifier, [])
    invoke_configs = _event_invoke_configs(resources, resolver, unknowns)
    for logical_id, resource in resources.items():
        kind, properties = _type(resource), _properties(resource)
        if kind not in (PERMISSION, URL):
            continue
        given = properties.get("FunctionName" if kind == PERMISSION else "TargetFunctionArn")
        target = resolver.target(given)
        if target is not None and kind == URL and "Qualifier" in properties:
            target = resolver.qualify(target, properties["Qualifier"])
        if target is None:
            unattributed.append(UnattributedResource(logical_id, kind, describe_intrinsic(given)))
            continue
        sources[target.function].append(logical_id)
        if target.qualifier is None:
            statements = unqualified[target.function]
        else:
            statements = qualified[target.function].setdefault(target.qualifier, [])
        if kind == PERMISSION:
            statements.append(_statement(len(statements), logical_id, properties, resolver))
            unknowns[target.function] += _statement_unknowns(logical_id, resource, resolver)
        else:
            url = _url(target, properties, resolver)
            urls[target.function].append(url)
            unknowns[target.function] += _url_unknowns(logical_id, url.auth_type)
            if url.qualifier is None:
                url_auth[target.function] = url.auth_type
    functions = {
        lid: _function(
            lid,
            _properties(resources[lid]),
            resolver,
            policy=ResourcePolicy(tuple(unqualified[lid])) if unqualified[lid] else None,
            qualified_policies=tuple(
                QualifiedPolicy(q.kind, q.name, ResourcePolicy(tuple(s)) if s else None)
                for q, s in qualified[lid].items()
            ),
            url_auth_type=url_auth.get(lid),
            event_invoke_config=invoke_configs.get(lid, NO_EVENT_INVOKE_CONFIG),
            urls=tuple(urls[lid]),
            code_signing=_code_signing(_properties(resources[lid]), resources, resolver),
        )
        for lid in function_ids
    }
    functions = _with_template_views(functions, unknowns, resources, resolver.env)
    return TemplateModels(
        functions,
        tuple(unattributed),
        unknowns={lid: tuple(found) for lid, found in unknowns.items()},
        sources={lid: tuple(ids) for lid, ids in sources.items()},
    )


def _owner(logical_id: str, resource: Any, resolver: _Resolver) -> _Target | None:
    """The function an alias, version or EventInvokeConfig belongs to (None for other types).

    An EventInvokeConfig is attributed to its function, never a qualifier of it; the one for
    ``$LATEST`` gives the function's ``event_invoke_config`` (its OnFailure destination, which
    lambda-dlq-check accepts with acceptOnFailureDestination), as the handler reads it with
    GetFunctionEventInvokeConfig without a qualifier."""
    kind = _type(resource)
    if kind in (ALIAS, VERSION):
        target = resolver.target({"Ref": logical_id})
        return target if target is not None and target.qualifier is not None else None
    if kind == EVENT_INVOKE_CONFIG:
        invoked = resolver.target(_properties(resource).get("FunctionName"), qualified=False)
        return _Target(invoked.function, None) if invoked is not None else None
    return None


def _refuse_untransformed(template: Mapping[str, Any], resources: Mapping[str, Any]) -> None:
    serverless = sorted(
        lid for lid, resource in resources.items() if str(_type(resource)).startswith(SAM_PREFIX)
    )
    if serverless:
        raise UntransformedTemplateError(
            f"the template holds SAM resources ({', '.join(serverless)}): check it after the SAM "
            "transform (sam validate --debug, or the processed template CloudFormation shows), "
            "whose AWS::Lambda::* resources the rules read"
        )


def _type(resource: Any) -> Any:
    return resource.get("Type") if isinstance(resource, JSON_OBJECT) else None


def _properties(resource: Any) -> Mapping[str, Any]:
    properties = resource.get("Properties") if isinstance(resource, JSON_OBJECT) else None
    return properties if isinstance(properties, JSON_OBJECT) else {}


def _function(
    logical_id: str,
    properties: Mapping[str, Any],
    resolver: _Resolver,
    *,
    policy: ResourcePolicy | None,
    qualified_policies: tuple[QualifiedPolicy, ...],
    url_auth_type: str | None,
    event_invoke_config: EventInvokeConfig,
    urls: tuple[FunctionUrl, ...] = (),
    code_signing: CodeSigning | None = None,
) -> LambdaFunction:
    # ``Ref AWS::NoValue`` removes a property: it is absent, not an unresolved value.
    properties = {key: value for key, value in properties.items() if not _is_no_value(value)}
    vpc = _literal_object(properties.get("VpcConfig"))
    dead_letter = _literal_object(properties.get("DeadLetterConfig"))
    tags = {t.get("Key"): t.get("Value") for t in properties.get("Tags") or [] if "Key" in t}
    return LambdaFunction(
        name=resolver.name(logical_id),
        arn=resolver.arn(logical_id) or "",
        # Empty for an environment-agnostic stack: no account of the template compares to it.
        account_id=resolver.env.account or "",
        region=resolver.env.region,
        runtime=_optional(resolver.text(properties.get("Runtime"))),
        role=_optional(resolver.text(properties.get("Role"))),
        package_type=str(properties.get("PackageType", "Zip")),
        subnet_ids=tuple(resolver.texts(_unless_maybe_absent(vpc.get("SubnetIds")))),
        security_group_ids=tuple(resolver.texts(vpc.get("SecurityGroupIds"))),
        dead_letter_target_arn=_optional(
            resolver.text(_unless_maybe_absent(dead_letter.get("TargetArn")))
        ),
        kms_key_arn=_optional(resolver.text(_unless_maybe_absent(properties.get("KmsKeyArn")))),
        kms_key_manager=resolver.key_manager(properties.get("KmsKeyArn")),
        environment_variable_names=_variable_names(properties.get("Environment")),
        reserved_concurrency=_reserved(properties.get("ReservedConcurrentExecutions"), resolver),
        policy=policy,
        qualified_policies=qualified_policies,
        function_url_auth_type=url_auth_type,
        tags=tags_from({key: resolver.text(value) for key, value in tags.items()}),
        tracing_mode=_optional(
            resolver.text(
                _unless_maybe_absent(_literal_object(properties.get("TracingConfig")).get("Mode"))
            )
        ),
        subnet_zones={
            resolver.text(subnet): resolver.subnet_zone(subnet)
            for subnet in _subnet_values(properties)
        },
        event_invoke_config=event_invoke_config,
        function_urls=urls,
        code_signing=code_signing,
        environment_secrets=_variable_secrets(properties.get("Environment")),
    )


def _subnet_values(properties: Mapping[str, Any]) -> list[Any]:
    """The SubnetIds entries as written (one intrinsic for a list given whole)."""
    subnets = _unless_maybe_absent(_literal_object(properties.get("VpcConfig")).get("SubnetIds"))
    if subnets is None or _is_no_value(subnets):
        return []
    return list(subnets) if isinstance(subnets, list) else [subnets]


def _event_invoke_configs(
    resources: Mapping[str, Any],
    resolver: _Resolver,
    unknowns: dict[str, list[UnresolvedValue]],
) -> dict[str, EventInvokeConfig]:
    """Each function's ``$LATEST`` asynchronous invocation configuration; what is left to
    deploy time goes to ``unknowns``."""
    configs: dict[str, EventInvokeConfig] = {}
    for logical_id, resource in resources.items():
        if _type(resource) != EVENT_INVOKE_CONFIG:
            continue
        target = _owner(logical_id, resource, resolver)
        if target is None:
            continue
        config, found = _event_invoke_config(logical_id, resource, resolver)
        if config is not None:
            configs[target.function] = config
        unknowns[target.function] += found
    return configs


def _event_invoke_config(
    logical_id: str, resource: Mapping[str, Any], resolver: _Resolver
) -> tuple[EventInvokeConfig | None, list[UnresolvedValue]]:
    """The function's configuration when this EventInvokeConfig is ``$LATEST``'s (None for an
    alias's or a version's, which the live read does not look at either), and what is left to
    deploy time: a qualifier, a destination an ``Fn::If`` may remove, a resource that exists
    only under a template ``Condition`` (each taken at its worst: no destination)."""
    properties = _properties(resource)
    qualifier = resolver.text(properties.get("Qualifier"))
    unknowns: list[UnresolvedValue] = []

    def unknown(path: str, source: str) -> None:
        unknowns.append(UnresolvedValue(logical_id, path, source, ModelField.EVENT_INVOKE_CONFIG))

    if unresolved_sources(qualifier):
        unknown("Qualifier", describe_intrinsic(properties.get("Qualifier")))
        return None, unknowns
    if qualifier != LATEST:
        return None, unknowns
    destinations = _literal_object(properties.get("DestinationConfig"))
    destination = _literal_object(destinations.get("OnFailure")).get("Destination")
    condition = resource.get("Condition")
    if isinstance(condition, str):
        unknown("Condition", f"Condition {condition}")
        return NO_EVENT_INVOKE_CONFIG, unknowns
    if _maybe_absent(destination):
        unknown("DestinationConfig.OnFailure.Destination", describe_intrinsic(destination))
        return NO_EVENT_INVOKE_CONFIG, unknowns
    if destination is None or _is_no_value(destination):
        return NO_EVENT_INVOKE_CONFIG, unknowns
    return EventInvokeConfig(_optional(resolver.text(destination))), unknowns


def _literal_object(value: Any) -> Mapping[str, Any]:
    """A property object as written; {} when absent or computed (an intrinsic decides it, and
    ``_function_unknowns`` records that)."""
    if isinstance(value, JSON_OBJECT) and not _is_intrinsic(value):
        return value
    return {}


def _maybe_absent(value: Any) -> bool:
    """Whether an intrinsic may remove the value: ``Fn::If`` with a branch that is
    ``AWS::NoValue``, empty, or itself maybe absent."""
    if not (isinstance(value, JSON_OBJECT) and len(value) == 1 and "Fn::If" in value):
        return False
    branches = value["Fn::If"]
    if not isinstance(branches, list) or len(branches) != 3:
        return True  # malformed: nothing says the value is there
    return any(
        _is_no_value(branch) or branch in ("", [], {}) or _maybe_absent(branch)
        for branch in branches[1:]
    )


def _unless_maybe_absent(value: Any) -> Any:
    """None (absent, the worst case) for a value an intrinsic may remove; else the value."""
    return None if _maybe_absent(value) else value


def _function_unknowns(
    logical_id: str, properties: Mapping[str, Any], resolver: _Resolver
) -> list[UnresolvedValue]:
    """What a check may read that the template leaves to deploy time, as the model holds it:
    a value an intrinsic may remove is absent there, any other one an unresolved marker."""
    properties = {key: value for key, value in properties.items() if not _is_no_value(value)}
    found: list[UnresolvedValue] = []

    def note(path: str, value: Any, model_field: ModelField, *, whole: bool = False) -> None:
        if value is None or _is_no_value(value):
            return
        if whole or _maybe_absent(value):
            found.append(UnresolvedValue(logical_id, path, describe_intrinsic(value), model_field))
            return
        for text in resolver.texts(value):
            for source in unresolved_sources(text):
                found.append(UnresolvedValue(logical_id, path, source, model_field))

    for prop, inner, model_field in (
        ("VpcConfig", "SubnetIds", ModelField.SUBNETS),
        ("DeadLetterConfig", "TargetArn", ModelField.DEAD_LETTER),
    ):
        outer = properties.get(prop)
        if not (isinstance(outer, JSON_OBJECT) and _is_intrinsic(outer)):
            note(f"{prop}.{inner}", _literal_object(outer).get(inner), model_field)
        else:  # the whole object is computed (Fn::If ...): its subnets / target are unknown
            note(prop, outer, model_field, whole=True)
    key = properties.get("KmsKeyArn")
    note("KmsKeyArn", key, ModelField.KMS_KEY)
    key_text = "" if key is None or _maybe_absent(key) else resolver.text(key)
    if (
        KMS_KEY_ARN.fullmatch(key_text)
        and not unresolved_sources(key_text)
        and resolver.key_manager(key) is None
    ):
        # A key given by its key ARN: its ARN does not say who manages it (an AWS managed key
        # has one too), and nothing asks KMS at synth time. Never guessed: an unknown.
        found.append(
            UnresolvedValue(
                logical_id,
                "KmsKeyArn",
                f"key {key_text}, whose manager only kms:DescribeKey tells",
                ModelField.KEY_MANAGER,
            )
        )
    # Runtime, tracing mode, tag values and subnets' zones, where the template computes them.
    note("Runtime", properties.get("Runtime"), ModelField.RUNTIME)
    tracing = properties.get("TracingConfig")
    if isinstance(tracing, JSON_OBJECT) and _is_intrinsic(tracing):
        note("TracingConfig", tracing, ModelField.TRACING, whole=True)
    else:
        note("TracingConfig.Mode", _literal_object(tracing).get("Mode"), ModelField.TRACING)
    for tag in properties.get("Tags") or []:
        if isinstance(tag, JSON_OBJECT) and isinstance(tag.get("Key"), str):
            note(f"Tags.{tag['Key']}", tag.get("Value"), ModelField.TAGS)
    for index, subnet in enumerate(_subnet_values(properties)):
        zone = resolver.subnet_zone(subnet)
        for source in unresolved_sources(zone):
            found.append(
                UnresolvedValue(
                    logical_id,
                    f"VpcConfig.SubnetIds[{index}] availability zone",
                    source,
                    ModelField.SUBNET_ZONES,
                )
            )
    environment = properties.get("Environment")
    if _variable_names(environment) is None:
        variables = environment.get("Variables") if isinstance(environment, JSON_OBJECT) else None
        inner_unknown = isinstance(environment, JSON_OBJECT) and not _is_intrinsic(environment)
        path, value = (
            ("Environment.Variables", variables) if inner_unknown else ("Environment", environment)
        )
        # Names only: the variables' values (a password in a Fn::If branch) are never described.
        found.append(
            UnresolvedValue(
                logical_id, path, describe_intrinsic(value, secret=True), ModelField.ENVIRONMENT
            )
        )
    reserved = properties.get("ReservedConcurrentExecutions")
    if isinstance(reserved, JSON_OBJECT) and _reserved(reserved, resolver) is None:
        found.append(
            UnresolvedValue(
                logical_id,
                "ReservedConcurrentExecutions",
                describe_intrinsic(reserved),
                ModelField.RESERVED_CONCURRENCY,
            )
        )
    return found


def _statement_unknowns(
    logical_id: str, resource: Mapping[str, Any], resolver: _Resolver
) -> list[UnresolvedValue]:
    """A permission's unresolved principal or condition values, and its ``Condition``: a
    statement that exists only when a template condition holds."""
    found: list[UnresolvedValue] = []
    properties = _properties(resource)
    for prop in ("Principal", *STATEMENT_CONDITIONS):
        if prop in properties and not _is_no_value(properties[prop]):
            for source in unresolved_sources(resolver.text(properties[prop])):
                found.append(UnresolvedValue(logical_id, prop, source, ModelField.POLICY))
    condition = resource.get("Condition")
    if isinstance(condition, str):
        found.append(
            UnresolvedValue(logical_id, "Condition", f"Condition {condition}", ModelField.STATEMENT)
        )
    return found


def _variable_names(environment: Any) -> tuple[str, ...] | None:
    """The variables' names; None when an intrinsic decides them (``Fn::If`` may add them)."""
    if environment is None or _is_no_value(environment):
        return ()
    if not isinstance(environment, JSON_OBJECT) or _is_intrinsic(environment):
        return None
    variables = environment.get("Variables")
    if variables is None or _is_no_value(variables):
        return ()
    if not isinstance(variables, JSON_OBJECT) or _is_intrinsic(variables):
        return None
    return tuple(sorted(variables))


def _is_intrinsic(value: Mapping[str, Any]) -> bool:
    """CloudFormation reads an object with one ``Ref`` / ``Fn::...`` key as a function call."""
    if len(value) != 1:
        return False
    (key,) = value
    return key == "Ref" or str(key).startswith("Fn::")


def _is_no_value(value: Any) -> bool:
    return isinstance(value, JSON_OBJECT) and dict(value) == {"Ref": "AWS::NoValue"}


def _statement(
    position: int, logical_id: str, properties: Mapping[str, Any], resolver: _Resolver
) -> PolicyStatement:
    """The statement Lambda adds for an AddPermission call with these properties."""
    properties = {key: value for key, value in properties.items() if not _is_no_value(value)}
    principal = resolver.text(properties.get("Principal"))
    if principal == "*":
        principals = (Principal("*", "*"),)
    elif principal.endswith(".amazonaws.com") or principal.endswith(".amazonaws.com.cn"):
        principals = (Principal("Service", principal),)
    else:
        principals = (Principal("AWS", principal),)
    conditions = []
    for prop, (operator, key) in STATEMENT_CONDITIONS.items():
        if prop in properties:
            value = properties[prop]
            # A Boolean property: Lambda writes the condition value as text ("true").
            text = str(value).lower() if isinstance(value, bool) else resolver.text(value)
            conditions.append(Condition(operator, key, (text,)))
    return PolicyStatement(
        position=position,
        sid=logical_id,
        effect="Allow",
        principals=principals,
        uses_not_principal=False,
        actions=(resolver.text(properties.get("Action")),),
        conditions=tuple(conditions),
    )


def _optional(value: str) -> str | None:
    return value or None


def _integer(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and INTEGER_TEXT.fullmatch(value):
        return int(value)
    return None


def _reserved(value: Any, resolver: _Resolver) -> int | None:
    """The reservation; None when unset or computed at deploy time (an unknown then)."""
    if isinstance(value, JSON_OBJECT):
        text = resolver.text(value)
        return None if unresolved_sources(text) else _integer(text)
    return _integer(value)


def _get_att(argument: Any) -> tuple[str, str] | None:
    """``[LogicalId, Attribute]`` or the short ``"LogicalId.Attribute"``."""
    if isinstance(argument, list) and len(argument) == 2:
        logical_id, attribute = argument
        if isinstance(logical_id, str) and isinstance(attribute, str):
            return logical_id, attribute
        return None
    if isinstance(argument, str) and "." in argument:
        logical_id, attribute = argument.split(".", 1)
        return logical_id, attribute
    return None


def describe_intrinsic(value: Any, *, secret: bool = False) -> str:
    """How an annotation names a value the template computes: ``Ref MyParam``,
    ``Fn::FindInMap [Accounts, Partner, Id]``, ``Fn::ImportValue shared-account``.

    With ``secret`` (a value in a position that may hold one: ``Environment``, whose values no
    report repeats) a literal object is named by its keys only (``{DB_PASSWORD: <value>}``) and
    every literal but a name (what ``Ref``, ``Fn::GetAtt``, ``Fn::FindInMap`` and
    ``Fn::ImportValue`` take, a ``Fn::If`` condition) is ``<value>``: a ``Fn::Sub``,
    ``Fn::Join`` or ``Fn::Select`` there may spell a secret out."""
    text = _described(value, secret)
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 3] + "..."


def _described(value: Any, secret: bool) -> str:
    if isinstance(value, JSON_OBJECT) and _is_intrinsic(value):
        ((function, argument),) = value.items()
        return f"{function} {_described_call(function, argument, secret)}"
    return _described_argument(value, secret)


def _described_call(function: str, argument: Any, secret: bool) -> str:
    """An intrinsic's argument; the names it takes are never secret."""
    if function in NAME_FUNCTIONS:
        return _described_argument(argument, secret=False)
    if function == "Fn::If" and isinstance(argument, list) and argument:
        condition, *branches = argument
        return _described_argument([condition], secret=False)[:-1] + "".join(
            ", " + _described_argument(branch, secret) for branch in branches
        ) + "]"
    return _described_argument(argument, secret)


def _described_argument(argument: Any, secret: bool) -> str:
    if isinstance(argument, str):
        return SECRET_PLACEHOLDER if secret else argument
    if isinstance(argument, list):
        return "[" + ", ".join(_described_argument(item, secret) for item in argument) + "]"
    if isinstance(argument, JSON_OBJECT) and _is_intrinsic(argument):
        return "(" + _described(argument, secret) + ")"
    if isinstance(argument, JSON_OBJECT):  # a literal object (``{}``, a variables map)
        items = (f"{k}: {_described_argument(v, secret)}" for k, v in argument.items())
        return "{" + ", ".join(items) + "}"
    return SECRET_PLACEHOLDER if secret else json.dumps(argument)


class _Resolver:
    """Resolves the intrinsic functions CDK emits, for one stack environment."""

    def __init__(self, resources: Mapping[str, Any], env: StackEnvironment) -> None:
        self.resources = resources
        self.env = env
        self.account = env.account or PLACEHOLDER_ACCOUNT
        # Guards Ref cycles between aliases (a malformed template must not recurse forever).
        self._resolving: set[str] = set()
        # A published version's number is known at deploy time only: its marker names it.
        self._version_markers = {
            unresolved_value(f"Fn::GetAtt [{lid}, Version]"): lid
            for lid, resource in resources.items()
            if _type(resource) == VERSION
        }

    def name(self, logical_id: str) -> str:
        shape = ARN_SHAPES.get(_type(self.resources[logical_id]))
        properties = _properties(self.resources[logical_id])
        explicit = properties.get(shape.name_property) if shape and shape.name_property else None
        return self.text(explicit) if explicit else logical_id

    def arn(self, logical_id: str) -> str | None:
        """The ARN CloudFormation will give the resource; None when its shape is unknown."""
        kind = _type(self.resources.get(logical_id))
        shape = ARN_SHAPES.get(kind)
        if shape is None:
            return None
        properties = _properties(self.resources[logical_id])
        resource_format = shape.resource
        if kind == EVENTS_RULE:
            bus = properties.get("EventBusName", "default")
            if not isinstance(bus, str) or ":" in bus:
                # A bus given by ARN or computed: the rule belongs to the bus's account.
                return None
            if bus != "default":
                resource_format = "rule/" + bus + "/{name}"
        path = properties.get("Path", "/")
        resource = resource_format.format(
            name=self.name(logical_id),
            id=logical_id,
            path=path if isinstance(path, str) else self.text(path),
        )
        region = self.env.region if shape.regional else ""
        account = self.account if shape.in_account else ""
        return f"arn:{self.env.partition}:{shape.service}:{region}:{account}:{resource}"

    def target(self, value: Any, qualified: bool = True) -> _Target | None:
        """The function (and alias/version) a Permission/Url/Alias targets: ``Ref`` or
        ``Fn::GetAtt`` of a function, alias or version, or a name/ARN, possibly qualified."""
        if isinstance(value, JSON_OBJECT) and len(value) == 1:
            ((function, argument),) = value.items()
            referenced: str | None = None
            if function == "Ref" and isinstance(argument, str):
                referenced = argument
            elif function == "Fn::GetAtt":
                parsed = _get_att(argument)
                if parsed and parsed[1] in ("Arn", "AliasArn", "FunctionArn"):
                    referenced = parsed[0]
            if referenced is not None and referenced in self.resources:
                return self._target_resource(referenced, qualified)
        return self._target_text(self.text(value), qualified)

    def qualify(self, target: _Target, qualifier: Any) -> _Target | None:
        """``target`` with a URL's ``Qualifier`` (an alias name; ``$LATEST`` is the function)."""
        name = self.text(qualifier)
        if name == LATEST:
            return target
        if target.qualifier is not None and target.qualifier.name != name:
            return None
        return _Target(target.function, self._qualifier(name))

    def _target_resource(self, logical_id: str, qualified: bool) -> _Target | None:
        kind = _type(self.resources[logical_id])
        if kind == FUNCTION:
            return _Target(logical_id, None)
        if kind not in (ALIAS, VERSION) or not qualified:
            return None
        properties = _properties(self.resources[logical_id])
        base = self.target(properties.get("FunctionName"), qualified=False)
        if base is None:
            return None
        if kind == ALIAS:
            return _Target(
                base.function, Qualifier(QualifierKind.ALIAS, self.text(properties.get("Name")))
            )
        return _Target(base.function, Qualifier(QualifierKind.VERSION, logical_id))

    def _target_text(self, text: str, qualified: bool) -> _Target | None:
        """A function name, ARN or partial ARN (``123456789012:function:name``), each with an
        optional ``:qualifier``."""
        for logical_id, resource in self.resources.items():
            if _type(resource) != FUNCTION:
                continue
            name = self.name(logical_id)
            for spelled in (self.arn(logical_id), f"{self.account}:function:{name}", name):
                if not spelled or not text.startswith(spelled):
                    continue
                rest = text[len(spelled) :]
                if not rest:
                    return _Target(logical_id, None)
                qualifier = rest[1:]
                # An unresolved qualifier's marker holds colons of its own.
                if rest[0] != ":" or not qualifier or ":" in UNRESOLVED.sub("", qualifier):
                    continue
                if qualifier == LATEST:
                    return _Target(logical_id, None)
                return _Target(logical_id, self._qualifier(qualifier)) if qualified else None
        return None

    def _qualifier(self, name: str) -> Qualifier:
        if VERSION_NUMBER.fullmatch(name):
            return Qualifier(QualifierKind.VERSION, name)
        if name in self._version_markers:
            return Qualifier(QualifierKind.VERSION, self._version_markers[name])
        # Alias names never consist of digits only; an unresolved one is taken for an alias.
        return Qualifier(QualifierKind.ALIAS, name)

    def texts(self, value: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, list):
            return [self.text(item) for item in value]
        return [self.text(value)]

    def text(self, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, bool | int | float):
            return str(value)
        if isinstance(value, JSON_OBJECT) and len(value) == 1:
            ((function, argument),) = value.items()
            resolved = self._intrinsic(function, argument)
            if resolved is not None:
                return resolved
        return unresolved_value(describe_intrinsic(value))

    def subnet_zone(self, subnet: Any) -> str:
        """The availability zone of a subnet of ``VpcConfig.SubnetIds``: the literal
        ``AvailabilityZone`` of the template's own ``AWS::EC2::Subnet`` it references, or the
        zone DescribeSubnets answered for a subnet id (``StackEnvironment.subnet_zones``),
        else a marker (only ec2:DescribeSubnets knows the zone of a subnet given by id, and
        ``Fn::GetAZs`` is resolved at deploy time)."""
        referenced = None
        if isinstance(subnet, JSON_OBJECT) and set(subnet) == {"Ref"}:
            referenced = subnet["Ref"]
        if isinstance(referenced, str) and _type(self.resources.get(referenced)) == SUBNET:
            zone = _properties(self.resources[referenced]).get("AvailabilityZone")
            if zone is not None:
                text = self.text(zone)
                return (
                    text
                    if not unresolved_sources(text)
                    else unresolved_value(
                        f"AvailabilityZone of {referenced}: {describe_intrinsic(zone)}"
                    )
                )
            # AWS picks a zone when the subnet names none.
            return unresolved_value(f"AvailabilityZone of {referenced} (chosen by AWS)")
        described = dict(self.env.subnet_zones).get(subnet) if isinstance(subnet, str) else None
        if described is not None:
            return described
        return unresolved_value(f"AvailabilityZone of subnet {describe_intrinsic(subnet)}")

    def key_manager(self, value: Any) -> KeyManager | None:
        """The template's own ``AWS::KMS::Key`` is customer managed; a key DescribeKey was asked
        about (``StackEnvironment.key_managers``) has the manager it answered; any other key
        has an unknown manager (None): only kms:DescribeKey tells, and a template is read
        without it, so ``_function_unknowns`` lists it as a value known only at deploy time."""
        if value is None:
            return None
        own_keys = {
            self.arn(lid) for lid, resource in self.resources.items() if _type(resource) == KMS_KEY
        }
        if isinstance(value, JSON_OBJECT) and set(value) == {"Ref"}:
            own = _type(self.resources.get(value["Ref"])) == KMS_KEY
            return KeyManager.CUSTOMER if own else None
        text = self.text(value)
        if text in own_keys:
            return KeyManager.CUSTOMER
        return dict(self.env.key_managers).get(text)

    def _intrinsic(self, function: str, argument: Any) -> str | None:
        if function == "Ref":
            return self._ref(argument) if isinstance(argument, str) else None
        if function == "Fn::GetAtt":
            parsed = _get_att(argument)
            return self._attribute(*parsed) if parsed else None
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            separator, parts = argument
            # Only a literal list is known here; Fn::Split of a parameter, say, is not.
            if not isinstance(parts, list):
                return None
            joiner = self.text(separator)
            if unresolved_sources(joiner):
                return None
            return joiner.join(self.text(part) for part in parts)
        if function == "Fn::Sub":
            if isinstance(argument, str):
                template, variables = argument, {}
            elif (
                isinstance(argument, list)
                and len(argument) == 2
                and isinstance(argument[0], str)
                and isinstance(argument[1], JSON_OBJECT)
            ):
                template, variables = argument
            else:
                return None
            return SUB_VARIABLE.sub(
                lambda m: (
                    self.text(variables[m.group(1)])
                    if m.group(1) in variables
                    else self._sub_variable(m.group(1))
                ),
                template,
            )
        if function == "Fn::Select" and isinstance(argument, list) and len(argument) == 2:
            index, items = argument
            # Only a literal list is known here; Fn::Split of a parameter, say, is not.
            if isinstance(items, list) and _integer(index) in range(len(items)):
                return self.text(items[int(index)])
        return None

    def _sub_variable(self, name: str) -> str:
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return self.text({"Fn::GetAtt": [logical_id, attribute]})
        return self.text({"Ref": name})

    def _attribute(self, logical_id: str, attribute: str) -> str | None:
        kind = _type(self.resources.get(logical_id))
        shape = ARN_SHAPES.get(kind)
        if shape is not None and attribute == shape.arn_attribute:
            return self.arn(logical_id)
        if kind == ALIAS and attribute == "AliasArn":
            return self._ref(logical_id)
        return None

    def _ref(self, name: str) -> str | None:
        pseudo = {
            "AWS::AccountId": self.account,
            "AWS::Region": self.env.region,
            "AWS::Partition": self.env.partition,
            "AWS::URLSuffix": URL_SUFFIXES.get(self.env.partition, "amazonaws.com"),
        }
        if name in pseudo:
            return pseudo[name]
        kind = _type(self.resources.get(name))
        shape = ARN_SHAPES.get(kind)
        if shape is not None:
            custom_bus = _properties(self.resources[name]).get("EventBusName", "default")
            if kind == EVENTS_RULE and custom_bus != "default":
                return None  # Ref of a rule on a custom bus names the bus too
            if shape.ref == "arn":
                return self.arn(name)
            if shape.ref == "url":
                suffix = pseudo["AWS::URLSuffix"]
                return f"https://sqs.{self.env.region}.{suffix}/{self.account}/{self.name(name)}"
            return self.name(name)
        if kind in (ALIAS, VERSION) and name not in self._resolving:
            # Ref gives the qualified ARN: <function ARN>:<alias name or version number>.
            self._resolving.add(name)
            try:
                target = self._target_resource(name, qualified=True)
            finally:
                self._resolving.discard(name)
            if target is None or target.qualifier is None:
                return None
            function_arn = self.arn(target.function)
            if kind == VERSION:
                number = unresolved_value(f"Fn::GetAtt [{name}, Version]")
                return f"{function_arn}:{number}"
            return f"{function_arn}:{target.qualifier.name}"
        return None


# --- issue 11 (rules-b): URLs of aliases, code signing, secrets in variables ---
def _with_template_views(
    functions: dict[str, LambdaFunction],
    unknowns: dict[str, list[UnresolvedValue]],
    resources: Mapping[str, Any],
    env: StackEnvironment,
) -> dict[str, LambdaFunction]:
    """The template as the cross-function view the unique-role rule gets at synth time, and the
    code signing configurations neither it nor ``env`` holds as unknowns."""
    described = dict(env.code_signing_configs)
    for lid in functions:
        properties = _properties(resources[lid])
        unknowns[lid] += _code_signing_unknowns(lid, properties, resources, described)
    peered = with_role_peers(list(functions.values()), scope="the template", whole_account=False)
    return dict(zip(functions, peered, strict=True))


def _url(target: _Target, properties: Mapping[str, Any], resolver: _Resolver) -> FunctionUrl:
    qualifier = None if target.qualifier is None else target.qualifier.name
    return FunctionUrl(qualifier, resolver.text(properties.get("AuthType")))


def _url_unknowns(logical_id: str, auth: str) -> list[UnresolvedValue]:
    return [
        UnresolvedValue(logical_id, "AuthType", source, ModelField.FUNCTION_URL)
        for source in unresolved_sources(auth)
    ]


def _variable_secrets(environment: Any) -> tuple[SecretFinding, ...] | None:
    """(name, kind) of each literal variable value that looks like a secret; None when an
    intrinsic decides the variables (``_function_unknowns`` records that). A value an intrinsic
    gives is a reference resolved at deploy time, not a literal."""
    if _variable_names(environment) is None:
        return None
    variables = environment.get("Variables") if isinstance(environment, JSON_OBJECT) else None
    if not isinstance(variables, JSON_OBJECT):
        return ()
    return scan_variables(variables)


def _signing_config_id(value: Any, resources: Mapping[str, Any]) -> str | None:
    """The logical id of the template's ``AWS::Lambda::CodeSigningConfig`` that ``value``
    (``Ref`` or ``Fn::GetAtt [Id, CodeSigningConfigArn]``) names; None otherwise."""
    if not isinstance(value, JSON_OBJECT) or len(value) != 1:
        return None
    ((function, argument),) = value.items()
    logical_id = None
    if function == "Ref" and isinstance(argument, str):
        logical_id = argument
    elif function == "Fn::GetAtt":
        parsed = _get_att(argument)
        if parsed and parsed[1] == "CodeSigningConfigArn":
            logical_id = parsed[0]
    if logical_id is not None and _type(resources.get(logical_id)) == CODE_SIGNING_CONFIG:
        return logical_id
    return None


def _code_signing(
    properties: Mapping[str, Any], resources: Mapping[str, Any], resolver: _Resolver
) -> CodeSigning:
    """``CodeSigningConfigArn``: none; the template's own ``AWS::Lambda::CodeSigningConfig``
    (its policy read from the template; ``UntrustedArtifactOnDeployment`` defaults to Warn, as
    in AWS); a configuration GetCodeSigningConfig was asked about
    (``StackEnvironment.code_signing_configs``) has the policy it answered; any other has an
    unknown policy (``_code_signing_unknowns``)."""
    value = properties.get("CodeSigningConfigArn")
    if value is None or _is_no_value(value):
        return CodeSigning(None)
    own = _signing_config_id(value, resources)
    if own is None:
        text = resolver.text(value)
        described = dict(resolver.env.code_signing_configs).get(text)
        return CodeSigning(_readable_marker(text), described)
    config = _properties(resources[own])
    policies = _literal_object(config.get("CodeSigningPolicies"))
    publishers = _literal_object(config.get("AllowedPublishers"))
    untrusted = policies.get("UntrustedArtifactOnDeployment", "Warn")
    return CodeSigning(
        f"{own} ({CODE_SIGNING_CONFIG})",
        CodeSigningPolicy(
            resolver.text(untrusted),
            tuple(resolver.texts(publishers.get("SigningProfileVersionArns"))),
        ),
    )


def _code_signing_unknowns(
    logical_id: str,
    properties: Mapping[str, Any],
    resources: Mapping[str, Any],
    described: Mapping[str, CodeSigningPolicy],
) -> list[UnresolvedValue]:
    value = properties.get("CodeSigningConfigArn")
    if value is None or _is_no_value(value) or _signing_config_id(value, resources):
        return []
    if isinstance(value, str) and value in described:
        return []
    return [
        UnresolvedValue(
            logical_id,
            "CodeSigningConfigArn",
            f"{describe_intrinsic(value)} (a configuration the template does not hold)",
            ModelField.CODE_SIGNING,
        )
    ]


def _readable_marker(text: str) -> str:
    return UNRESOLVED.sub(lambda match: match.group(1), text)
