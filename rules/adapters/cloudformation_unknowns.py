"""Synth-time verdicts over values CloudFormation knows only at deploy time.

The CloudFormation adapter keeps such a value at its worst: a property an intrinsic may remove
(``Fn::If`` with ``AWS::NoValue``) is absent, any other one is an unresolved marker
(``rules.policy.unresolved_value``) that no check takes for a fixed account, ARN, subnet or key
but that still counts as *set* (a ``Ref`` to a key parameter is a key).
``TemplateModels.unknowns`` lists them per function (``UnresolvedValue``).

``evaluate_template_function`` runs a rule on that worst case. When it is NON_COMPLIANT it runs
the rule again with the unknowns resolved favourably (the values the rule's parameters allow, a
fixed account, no environment variables, ...). When that is not NON_COMPLIANT, the unknowns
decided the verdict: ``Evaluation.unresolved`` names the deciding values and the annotation
starts with them. A caller reports such an evaluation as NON_COMPLIANT or, when its user asks,
as an UNKNOWN level of its own; it is never COMPLIANT on a guess.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from rules.checks.code_signing import ENFORCE, SIGNING_PROFILE_VERSION_ARNS
from rules.checks.concurrency import HIGH, LOW
from rules.checks.dlq import DLQ_ARNS
from rules.checks.env_vars_cmk import KMS_KEY_ARNS
from rules.checks.function_url_auth import AWS_IAM
from rules.checks.inside_vpc import SUBNET_IDS
from rules.checks.runtime_supported import RUNTIME_TABLE, RUNTIMES
from rules.checks.tagged import ALLOWED_TAG_VALUES, allowed_tag_values
from rules.checks.vpc_multi_az import AVAILABILITY_ZONES, DEFAULT_AVAILABILITY_ZONES
from rules.checks.xray_tracing import ACTIVE
from rules.errors import UnknownFieldError
from rules.model import (
    LAMBDA_FUNCTION,
    CodeSigning,
    CodeSigningPolicy,
    Compliance,
    Condition,
    Evaluation,
    EventInvokeConfig,
    KeyManager,
    LambdaFunction,
    PolicyStatement,
    Principal,
    QualifiedPolicy,
    ResourcePolicy,
    UnreadablePolicy,
    Verdict,
)
from rules.parameters import Parameters
from rules.policy import ARN_KEYS, UNRESOLVED, unresolved_value
from rules.rule import Rule

# Stand-ins for a value resolved favourably: fixed, with a 12-digit account.
FIXED_ACCOUNT = "000000000000"
FIXED_SUBNET = "subnet-00000000"
FIXED_KEY_ID = "00000000-0000-0000-0000-000000000000"
FIXED_TAG_VALUE = "deploy-time-value"
FIXED_ZONE_PREFIX = "zone-"


class ModelField(enum.StrEnum):
    """The part of the model an unresolved value leaves open."""

    SUBNETS = "subnets"
    DEAD_LETTER = "dead-letter target"
    KMS_KEY = "KMS key"
    KEY_MANAGER = "KMS key manager"  # a key given by its key ARN: only DescribeKey tells
    ENVIRONMENT = "environment variables"
    RESERVED_CONCURRENCY = "reserved concurrency"
    POLICY = "permission"  # a principal or condition value of one permission
    STATEMENT = "permission's existence"  # the permission carries a template Condition
    # issue 11
    RUNTIME = "runtime"
    TRACING = "tracing mode"
    TAGS = "tag value"
    SUBNET_ZONES = "subnet's availability zone"
    EVENT_INVOKE_CONFIG = "OnFailure destination"
    FUNCTION_URL = "function URL auth type"
    CODE_SIGNING = "code signing configuration"


@dataclass(frozen=True, slots=True)
class UnresolvedValue:
    """One value of the template known only at deploy time that a check may read.

    ``logical_id`` is the resource that holds it (the function, or a permission of it),
    ``property`` its property path (``DeadLetterConfig.TargetArn``), ``source`` the intrinsic
    (``Ref DlqArn``, ``Fn::ImportValue shared-key``, ``Condition IsProd``)."""

    logical_id: str
    property: str
    source: str
    field: ModelField

    def describe(self) -> str:
        if self.field is ModelField.STATEMENT:
            return f"{self.logical_id} exists only under {self.source}"
        return f"{self.logical_id}.{self.property} is {self.source}"


def evaluate_template_function(
    rule: Rule,
    function: LambdaFunction,
    unknowns: Sequence[UnresolvedValue],
    parameters: Parameters,
    *,
    resource_id: str | None = None,
) -> Evaluation:
    """``rule``'s verdict on a template's function, its unknowns taken at their worst; when
    they decide a NON_COMPLIANT verdict, ``Evaluation.unresolved`` names them."""
    verdict = _verdict(rule, worst_case(function, unknowns), parameters)
    deciding: tuple[str, ...] = ()
    if verdict.compliance is Compliance.NON_COMPLIANT and unknowns:
        deciding = tuple(u.describe() for u in _deciding(rule, function, unknowns, parameters))
    annotation = _readable(verdict.annotation)
    if deciding:
        annotation = (
            f"decided by value(s) known only at deploy time ({'; '.join(deciding)}), "
            f"counted as non-compliant; at worst: {annotation}"
        )
    return Evaluation(
        rule_id=rule.id,
        resource_id=resource_id or function.name,
        resource_type=LAMBDA_FUNCTION,
        compliance=verdict.compliance,
        annotation=annotation,
        unresolved=deciding,
    )


def _verdict(rule: Rule, function: LambdaFunction, parameters: Parameters) -> Verdict:
    try:
        return rule.check(function, parameters)
    except UnknownFieldError as error:
        # Only a field no unknown explains is left open here: fail closed, saying so.
        return Verdict(Compliance.NON_COMPLIANT, f"{error.reason}; counted as non-compliant")


def _deciding(
    rule: Rule,
    function: LambdaFunction,
    unknowns: Sequence[UnresolvedValue],
    parameters: Parameters,
) -> list[UnresolvedValue]:
    """The unknowns that decide a NON_COMPLIANT verdict: none when it stays NON_COMPLIANT with
    all of them resolved favourably; else each one that alone turns it, or without which it
    would turn (a value needed for the worst case)."""

    def non_compliant(favoured: Iterable[UnresolvedValue]) -> bool:
        resolved = favourable(function, tuple(favoured), parameters)
        return _verdict(rule, worst_case(resolved, unknowns), parameters).compliance is (
            Compliance.NON_COMPLIANT
        )

    if non_compliant(unknowns):
        return []
    deciding = [
        u
        for u in unknowns
        if not non_compliant([u]) or non_compliant([o for o in unknowns if o is not u])
    ]
    return deciding or list(unknowns)


def worst_case(function: LambdaFunction, unknowns: Sequence[UnresolvedValue]) -> LambdaFunction:
    """The model with the open fields the adapter cannot hold in a value taken at their worst:
    unknown environment variables exist; a key whose manager is unknown (given by an unresolved
    value, or by a key ARN nothing asked KMS about) is AWS managed."""
    fields = {u.field for u in unknowns}
    environment = [u for u in unknowns if u.field is ModelField.ENVIRONMENT]
    if environment and function.environment_variable_names is None:
        function = replace(
            function, environment_variable_names=(unresolved_value(environment[0].source),)
        )
    key_unknown = fields & {ModelField.KMS_KEY, ModelField.KEY_MANAGER}
    if key_unknown and function.kms_key_arn and function.kms_key_manager is None:
        function = replace(function, kms_key_manager=KeyManager.AWS)
    return function


def favourable(
    function: LambdaFunction, unknowns: Sequence[UnresolvedValue], parameters: Parameters
) -> LambdaFunction:
    """The model with ``unknowns`` resolved to values the rules accept."""
    account = FIXED_ACCOUNT
    region, partition = function.region or "us-east-1", function.partition
    for unknown in unknowns:
        marker = unresolved_value(unknown.source)
        if unknown.field is ModelField.SUBNETS:
            subnet = (parameters.csv(SUBNET_IDS.name) or (FIXED_SUBNET,))[0]
            kept = tuple(s for s in function.subnet_ids if marker not in s)
            function = replace(function, subnet_ids=(*kept, subnet))
        elif unknown.field is ModelField.DEAD_LETTER:
            fixed = f"arn:{partition}:sqs:{region}:{account}:dead-letter"
            target = (parameters.csv(DLQ_ARNS.name) or (fixed,))[0]
            function = replace(function, dead_letter_target_arn=target)
        elif unknown.field is ModelField.KMS_KEY:
            fixed = f"arn:{partition}:kms:{region}:{account}:key/{FIXED_KEY_ID}"
            key = (parameters.csv(KMS_KEY_ARNS.name) or (fixed,))[0]
            function = replace(function, kms_key_arn=key, kms_key_manager=KeyManager.CUSTOMER)
        elif unknown.field is ModelField.KEY_MANAGER:
            function = replace(function, kms_key_manager=KeyManager.CUSTOMER)
        elif unknown.field is ModelField.ENVIRONMENT:
            function = replace(function, environment_variable_names=(), environment_secrets=())
        elif unknown.field is ModelField.FUNCTION_URL:
            urls = tuple(
                url._replace(auth_type=AWS_IAM) if marker in url.auth_type else url
                for url in function.function_urls or ()
            )
            function = replace(function, function_urls=urls)
        elif unknown.field is ModelField.CODE_SIGNING:
            allowed = parameters.csv(SIGNING_PROFILE_VERSION_ARNS.name) or ()
            policy = CodeSigningPolicy(ENFORCE, allowed)
            arn = function.code_signing.config_arn if function.code_signing else None
            function = replace(function, code_signing=CodeSigning(arn or unknown.source, policy))
        elif unknown.field is ModelField.RESERVED_CONCURRENCY:
            low, high = parameters.integer(LOW.name), parameters.integer(HIGH.name)
            reserved = low if low is not None else high if high is not None else 1
            function = replace(function, reserved_concurrency=reserved)
        elif unknown.field in NEW_FIELDS:
            function = _favourable_new(function, unknown, marker, parameters)
        else:
            function = _with_statements(function, unknown, marker)
    return function


# issue 11 (rules-a): the fields of the newer rules.
NEW_FIELDS = frozenset(
    {
        ModelField.RUNTIME,
        ModelField.TRACING,
        ModelField.TAGS,
        ModelField.SUBNET_ZONES,
        ModelField.EVENT_INVOKE_CONFIG,
    }
)


def _favourable_new(
    function: LambdaFunction, unknown: UnresolvedValue, marker: str, parameters: Parameters
) -> LambdaFunction:
    region, partition = function.region or "us-east-1", function.partition
    if unknown.field is ModelField.RUNTIME:
        # The listed (else any) runtime of the table supported longest.
        candidates = [
            r
            for r in parameters.csv(RUNTIMES.name) or RUNTIME_TABLE.runtimes
            if r in RUNTIME_TABLE.runtimes
        ]
        latest = max(candidates, key=lambda r: RUNTIME_TABLE.runtimes[r].deprecation, default=None)
        return replace(function, runtime=latest or function.runtime)
    if unknown.field is ModelField.TRACING:
        return replace(function, tracing_mode=ACTIVE)
    if unknown.field is ModelField.TAGS:
        allowed = allowed_tag_values(parameters.text(ALLOWED_TAG_VALUES.name))
        tags = {
            key: (allowed[key][0] if key in allowed else FIXED_TAG_VALUE)
            if marker in value
            else value
            for key, value in function.tags.items()
        }
        return replace(function, tags=tags)
    if unknown.field is ModelField.SUBNET_ZONES:
        return _spread_zones(function, parameters)
    fixed = f"arn:{partition}:sqs:{region}:{FIXED_ACCOUNT}:on-failure"
    destination = (parameters.csv(DLQ_ARNS.name) or (fixed,))[0]
    return replace(function, event_invoke_config=EventInvokeConfig(destination))


def _spread_zones(function: LambdaFunction, parameters: Parameters) -> LambdaFunction:
    """Every subnet whose zone is open gets a zone of its own, and the subnets number at least
    ``availabilityZones`` (a list given by one parameter may hold that many)."""
    needed = parameters.integer(AVAILABILITY_ZONES.name) or DEFAULT_AVAILABILITY_ZONES
    zones = dict(function.subnet_zones or {})
    subnets = list(function.subnet_ids)
    open_subnets = [s for s in subnets if not zones.get(s) or UNRESOLVED.search(zones[s])]
    if open_subnets:
        # Within subnetIds when the rule being judged lists them (lambda-inside-vpc).
        spare = parameters.csv(SUBNET_IDS.name) or tuple(
            f"{FIXED_SUBNET}-{i}" for i in range(needed)
        )
        subnets += list(spare)
    for index, subnet in enumerate(dict.fromkeys(subnets)):
        if not zones.get(subnet) or UNRESOLVED.search(zones[subnet]):
            zones[subnet] = f"{FIXED_ZONE_PREFIX}{index}"
    return replace(function, subnet_ids=tuple(dict.fromkeys(subnets)), subnet_zones=zones)


def _with_statements(
    function: LambdaFunction, unknown: UnresolvedValue, marker: str
) -> LambdaFunction:
    """The permission ``unknown`` belongs to (its Sid is its logical id) resolved favourably:
    gone when it exists only under a template condition, else with a fixed principal or
    condition value in place of the marker."""

    def resolved(statement: PolicyStatement) -> PolicyStatement | None:
        if statement.sid != unknown.logical_id:
            return statement
        if unknown.field is ModelField.STATEMENT:
            return None
        root = Principal("AWS", f"arn:{function.partition}:iam::{FIXED_ACCOUNT}:root")
        principals = tuple(root if marker in p.value else p for p in statement.principals)
        conditions = tuple(
            Condition(c.operator, c.key, tuple(_fixed(c.key, v, marker) for v in c.values))
            for c in statement.conditions
        )
        return statement._replace(principals=principals, conditions=conditions)

    def policy(
        given: ResourcePolicy | UnreadablePolicy | None,
    ) -> ResourcePolicy | UnreadablePolicy | None:
        if not isinstance(given, ResourcePolicy):
            return given
        kept = tuple(s for s in map(resolved, given.statements) if s is not None)
        return ResourcePolicy(kept) if kept else None

    qualified = function.qualified_policies
    return replace(
        function,
        policy=policy(function.policy),
        qualified_policies=None
        if qualified is None
        else tuple(QualifiedPolicy(q.kind, q.qualifier, policy(q.policy)) for q in qualified),
    )


def _fixed(key: str, value: str, marker: str) -> str:
    if marker not in value:
        return value
    if value == marker and key.lower() in ARN_KEYS:
        return f"arn:aws:sns:us-east-1:{FIXED_ACCOUNT}:source"
    return value.replace(marker, FIXED_ACCOUNT)


def _readable(annotation: str) -> str:
    """Markers as the template spells the value: ``[Ref DlqArn]``."""
    return UNRESOLVED.sub(lambda match: f"[{match.group(1)}]", annotation)
