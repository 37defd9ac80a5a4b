"""CloudFormation templates -> ``LambdaFunction`` models, for synth-time checks.

Reads ``AWS::Lambda::Function`` resources, the ``AWS::Lambda::Permission`` resources that target
them (which become resource-policy statements, as Lambda itself builds them) and
``AWS::Lambda::Url`` auth types. Intrinsic functions are resolved for the stack's environment
(``Ref`` to pseudo parameters, ``Fn::GetAtt ... Arn`` and ``Ref`` to resources of the template,
``Fn::Sub``, ``Fn::Join``, ``Fn::Select`` from a literal list). Anything else (``Ref`` to a
template parameter, ``Fn::If``, ``Fn::FindInMap``, ``Fn::ImportValue``, ...) is only known at
deploy time: it becomes ``rules.policy.unresolved_value("Ref MyParam")``, which the policy
analysis never takes for a fixed principal, account, ARN or organization, and names in its
annotation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from rules.adapters.common import JSON_OBJECT, tags_from
from rules.model import (
    Condition,
    KeyManager,
    LambdaFunction,
    PolicyStatement,
    Principal,
    ResourcePolicy,
)
from rules.policy import unresolved_value

# Service name and ARN resource part of the resource types whose Arn templates refer to.
ARN_SHAPES = {
    "AWS::Lambda::Function": ("lambda", "function:{name}"),
    "AWS::SQS::Queue": ("sqs", "{name}"),
    "AWS::SNS::Topic": ("sns", "{name}"),
    "AWS::KMS::Key": ("kms", "key/{name}"),
    "AWS::Config::ConfigRule": ("config", "config-rule/{name}"),
    "AWS::Events::Rule": ("events", "rule/{name}"),
    "AWS::IAM::Role": ("iam", "role/{name}"),
}
GLOBAL_SERVICES = frozenset({"iam"})
SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")
# CloudFormation reads an Integer property given as a string holding one ("5").
INTEGER_TEXT = re.compile(r"-?[0-9]+")
DESCRIPTION_LIMIT = 100


@dataclass(frozen=True, slots=True)
class StackEnvironment:
    """Where the template is deployed; CDK's environment-agnostic stacks use placeholders."""

    account: str = "123456789012"
    region: str = "us-east-1"
    partition: str = "aws"


def functions_from_template(
    template: Mapping[str, Any], environment: StackEnvironment | None = None
) -> dict[str, LambdaFunction]:
    """Every Lambda function of ``template`` by logical id."""
    env = environment or StackEnvironment()
    resources: Mapping[str, Any] = template.get("Resources") or {}
    resolver = _Resolver(resources, env)
    permissions: dict[str, list[PolicyStatement]] = {}
    url_auth: dict[str, str] = {}
    for logical_id, resource in resources.items():
        kind, properties = resource.get("Type"), resource.get("Properties") or {}
        if kind == "AWS::Lambda::Permission":
            target = resolver.function_logical_id(properties.get("FunctionName"))
            if target is not None:
                statements = permissions.setdefault(target, [])
                statements.append(_statement(len(statements), logical_id, properties, resolver))
        elif kind == "AWS::Lambda::Url":
            target = resolver.function_logical_id(properties.get("TargetFunctionArn"))
            if target is not None:
                url_auth[target] = str(properties.get("AuthType"))
    functions = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") == "AWS::Lambda::Function":
            granted = permissions.get(logical_id)
            functions[logical_id] = _function(
                logical_id,
                resource.get("Properties") or {},
                resolver,
                ResourcePolicy(tuple(granted)) if granted else None,
                url_auth.get(logical_id),
            )
    return functions


def _function(
    logical_id: str,
    properties: Mapping[str, Any],
    resolver: _Resolver,
    policy: ResourcePolicy | None,
    url_auth_type: str | None,
) -> LambdaFunction:
    vpc = properties.get("VpcConfig") or {}
    variables = (properties.get("Environment") or {}).get("Variables") or {}
    tags = {t.get("Key"): t.get("Value") for t in properties.get("Tags") or [] if "Key" in t}
    return LambdaFunction(
        name=resolver.name(logical_id),
        arn=resolver.arn(logical_id),
        account_id=resolver.env.account,
        region=resolver.env.region,
        runtime=_optional(resolver.text(properties.get("Runtime"))),
        role=_optional(resolver.text(properties.get("Role"))),
        package_type=str(properties.get("PackageType", "Zip")),
        subnet_ids=tuple(resolver.texts(vpc.get("SubnetIds"))),
        security_group_ids=tuple(resolver.texts(vpc.get("SecurityGroupIds"))),
        dead_letter_target_arn=_optional(
            resolver.text((properties.get("DeadLetterConfig") or {}).get("TargetArn"))
        ),
        kms_key_arn=_optional(resolver.text(properties.get("KmsKeyArn"))),
        kms_key_manager=resolver.key_manager(properties.get("KmsKeyArn")),
        environment_variable_names=tuple(sorted(variables)),
        reserved_concurrency=_integer(properties.get("ReservedConcurrentExecutions")),
        policy=policy,
        function_url_auth_type=url_auth_type,
        tags=tags_from(tags),
    )


def _statement(
    position: int, logical_id: str, properties: Mapping[str, Any], resolver: _Resolver
) -> PolicyStatement:
    """The statement Lambda adds for an AddPermission call with these properties."""
    principal = resolver.text(properties.get("Principal"))
    if principal == "*":
        principals = (Principal("*", "*"),)
    elif principal.endswith(".amazonaws.com") or principal.endswith(".amazonaws.com.cn"):
        principals = (Principal("Service", principal),)
    else:
        principals = (Principal("AWS", principal),)
    conditions = []
    for prop, operator, key in (
        ("SourceAccount", "StringEquals", "AWS:SourceAccount"),
        ("SourceArn", "ArnLike", "AWS:SourceArn"),
        ("PrincipalOrgID", "StringEquals", "aws:PrincipalOrgID"),
        ("EventSourceToken", "StringEquals", "lambda:EventSourceToken"),
        ("FunctionUrlAuthType", "StringEquals", "lambda:FunctionUrlAuthType"),
    ):
        if prop in properties:
            conditions.append(Condition(operator, key, (resolver.text(properties[prop]),)))
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


def describe_intrinsic(value: Any) -> str:
    """How an annotation names a value the template computes: ``Ref MyParam``,
    ``Fn::FindInMap [Accounts, Partner, Id]``, ``Fn::ImportValue shared-account``."""
    text = _described(value)
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 3] + "..."


def _described(value: Any) -> str:
    if isinstance(value, JSON_OBJECT) and len(value) == 1:
        ((function, argument),) = value.items()
        return f"{function} {_described_argument(argument)}"
    return _described_argument(value)


def _described_argument(argument: Any) -> str:
    if isinstance(argument, str):
        return argument
    if isinstance(argument, list):
        return "[" + ", ".join(_described_argument(item) for item in argument) + "]"
    if isinstance(argument, JSON_OBJECT):
        return "(" + _described(argument) + ")"
    return json.dumps(argument)


class _Resolver:
    """Resolves the intrinsic functions CDK emits, for one stack environment."""

    def __init__(self, resources: Mapping[str, Any], env: StackEnvironment) -> None:
        self.resources = resources
        self.env = env

    def name(self, logical_id: str) -> str:
        properties = self.resources[logical_id].get("Properties") or {}
        explicit = properties.get("FunctionName") or properties.get("QueueName")
        explicit = explicit or properties.get("TopicName") or properties.get("ConfigRuleName")
        return self.text(explicit) if explicit else logical_id

    def arn(self, logical_id: str) -> str:
        kind = self.resources[logical_id].get("Type")
        service, resource = ARN_SHAPES.get(kind, ("unknown", "{name}"))
        region = "" if service in GLOBAL_SERVICES else self.env.region
        path = resource.format(name=self.name(logical_id))
        return f"arn:{self.env.partition}:{service}:{region}:{self.env.account}:{path}"

    def function_logical_id(self, value: Any) -> str | None:
        """The function a Permission/Url targets: Ref, GetAtt Arn, or a literal name/ARN."""
        if isinstance(value, JSON_OBJECT):
            if "Ref" in value:
                return str(value["Ref"])
            if "Fn::GetAtt" in value:
                return str(value["Fn::GetAtt"][0])
        text = self.text(value)
        for logical_id, resource in self.resources.items():
            if resource.get("Type") == "AWS::Lambda::Function" and text in (
                self.name(logical_id),
                self.arn(logical_id),
            ):
                return logical_id
        return None

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

    def key_manager(self, value: Any) -> KeyManager | None:
        """A key the template creates itself (``Ref`` / ``Fn::GetAtt [Key, Arn]`` to an
        ``AWS::KMS::Key``) is customer managed; who manages any other key is unknown here."""
        if not isinstance(value, JSON_OBJECT) or len(value) != 1:
            return None
        ((function, argument),) = value.items()
        if function == "Ref":
            logical_id = argument
        elif function == "Fn::GetAtt" and isinstance(argument, list) and argument[1:] == ["Arn"]:
            logical_id = argument[0]
        else:
            return None
        resource = self.resources.get(logical_id) if isinstance(logical_id, str) else None
        if isinstance(resource, JSON_OBJECT) and resource.get("Type") == "AWS::KMS::Key":
            return KeyManager.CUSTOMER
        return None

    def _intrinsic(self, function: str, argument: Any) -> str | None:
        if function == "Ref":
            return self._ref(str(argument))
        if function == "Fn::GetAtt" and isinstance(argument, list) and len(argument) == 2:
            logical_id, attribute = argument
            if logical_id in self.resources and attribute == "Arn":
                return self.arn(logical_id)
            return None
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            separator, parts = argument
            return str(separator).join(self.text(part) for part in parts)
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
        return self._ref(name) or unresolved_value(f"Ref {name}")

    def _ref(self, name: str) -> str | None:
        pseudo = {
            "AWS::AccountId": self.env.account,
            "AWS::Region": self.env.region,
            "AWS::Partition": self.env.partition,
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.resources:
            kind = self.resources[name].get("Type")
            # Ref gives a queue's URL but the name for functions and rules; ARN-typed refs
            # (SNS topics) give the ARN.
            if kind in ("AWS::SNS::Topic", "AWS::KMS::Key"):
                return self.arn(name) if kind == "AWS::SNS::Topic" else self.name(name)
            return self.name(name)
        return None
