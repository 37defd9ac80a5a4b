"""Evaluating with the reads Config cannot give: the one place a check's ``UnknownFieldError``
turns into an AWS read (handler and scan CLI alike).

- environment variables: one ``GetFunctionConfiguration`` (names only; Lambda's
  ``Environment.Error`` is kept as such, never read as "no variables");
- who manages the KMS key: ``kms:DescribeKey``, at most once per key for the life of the
  process (``rules.aws.kms.KEY_MANAGERS``);
- the subnets' availability zones: ``ec2:DescribeSubnets``, once per subnet per invocation
  (``rules.aws.subnets.SubnetZones``, given by the caller);
- the asynchronous invocation configuration: one ``GetFunctionEventInvokeConfig``.
"""

from __future__ import annotations

from dataclasses import replace

from rules.aws.inventory import (
    ClientSource,
    code_signing,
    environment_secrets,
    environment_variable_names,
    event_invoke_config,
    function_urls,
    qualified_policies,
)
from rules.aws.kms import KEY_MANAGERS, KeyManagers
from rules.aws.subnets import SubnetZones
from rules.engine import evaluate_function
from rules.errors import InvalidInputError, UnknownFieldError
from rules.exemptions import ExemptionPolicy
from rules.model import LAMBDA_FUNCTION, Compliance, Evaluation, KeyManager, LambdaFunction
from rules.parameters import CHECK_VERSIONS, Parameters
from rules.rule import Field, Rule

GONE = "function no longer exists"
READABLE_FIELDS = frozenset(
    {
        Field.ENVIRONMENT.value,
        Field.KEY_MANAGER.value,
        Field.SUBNET_ZONES.value,
        Field.EVENT_INVOKE_CONFIG.value,
        Field.FUNCTION_URLS.value,
        Field.CODE_SIGNING.value,
        Field.ENVIRONMENT_SECRETS.value,
    }
)


def gone(rule: Rule, resource_id: str) -> Evaluation:
    return Evaluation(rule.id, resource_id, LAMBDA_FUNCTION, Compliance.NOT_APPLICABLE, GONE)


def evaluate_with_reads(
    rule: Rule,
    function: LambdaFunction,
    parameters: Parameters,
    clients: ClientSource,
    *,
    resource_id: str | None = None,
    periodic: bool = False,
    key_managers: KeyManagers = KEY_MANAGERS,
    exemptions: ExemptionPolicy | None = None,
    subnet_zones: SubnetZones | None = None,
) -> Evaluation:
    """``rule`` over ``function``, reading each field the check needs and the model does not
    know, once. ``periodic`` evaluations (the sweep, ``scan``) also read what Config sends no
    change event for (``Rule.periodic_reads``). Other errors propagate (no verdict), and so does
    a field still unknown after its read. A function ``exemptions`` exempt from the rule is
    read no further. ``subnet_zones``: the invocation's cache of subnet zones (a fresh one, for
    this function only, when not given)."""
    known = function
    decision = exemptions.decide(function.tags, rule.id) if exemptions else None
    exempt = decision is not None and decision.exempt
    reads_qualifiers = not exempt and periodic and Field.QUALIFIED_POLICIES in rule.periodic_reads
    if reads_qualifiers and known.qualified_policies is None:
        versions = parameters.boolean(CHECK_VERSIONS.name) is True
        policies = qualified_policies(clients.client("lambda"), known, versions=versions)
        if policies is None:
            return gone(rule, resource_id or function.name)
        known = replace(known, qualified_policies=policies)
    read: set[str] = set()
    while True:
        try:
            return evaluate_function(
                rule, known, parameters, resource_id=resource_id, exemptions=exemptions
            )
        except UnknownFieldError as error:
            if error.field not in READABLE_FIELDS or error.field in read:
                raise
            field = error.field
        read.add(field)
        if field == Field.KEY_MANAGER.value:
            known = replace(known, kms_key_manager=_key_manager(known, clients, key_managers))
            continue
        if field == Field.SUBNET_ZONES.value:
            zones = (subnet_zones or SubnetZones()).zones(clients.client("ec2"), known.subnet_ids)
            known = replace(known, subnet_zones=zones)
            continue
        if field == Field.EVENT_INVOKE_CONFIG.value:
            config = event_invoke_config(clients.client("lambda"), known)
            known = replace(known, event_invoke_config=config)
            continue
        if field in LAMBDA_READS:
            read_known = _read_lambda_field(field, known, clients)
            if read_known is None:
                return gone(rule, resource_id or function.name)
            known = read_known
            continue
        environment = environment_variable_names(clients.client("lambda"), known)
        if environment is None:
            return gone(rule, resource_id or function.name)
        known = replace(
            known,
            environment_variable_names=environment.names,
            environment_error=environment.error,
        )


def _key_manager(
    function: LambdaFunction, clients: ClientSource, key_managers: KeyManagers
) -> KeyManager:
    if not function.kms_key_arn:  # the check asks only about a key it has
        raise InvalidInputError(f"function {function.name}: key manager asked without a key")
    return key_managers.manager(clients.client("kms"), function.kms_key_arn)


# Fields one more Lambda API read of the function tells (Config records none of them).
LAMBDA_READS = frozenset(
    {Field.FUNCTION_URLS.value, Field.CODE_SIGNING.value, Field.ENVIRONMENT_SECRETS.value}
)


def _read_lambda_field(
    field: str, function: LambdaFunction, clients: ClientSource
) -> LambdaFunction | None:
    """``function`` with ``field`` read from the Lambda API; None when the function is gone."""
    lambda_client = clients.client("lambda")
    if field == Field.FUNCTION_URLS.value:
        urls = function_urls(lambda_client, function)
        return None if urls is None else replace(function, function_urls=urls)
    if field == Field.CODE_SIGNING.value:
        signing = code_signing(lambda_client, function)
        return None if signing is None else replace(function, code_signing=signing)
    scanned = environment_secrets(lambda_client, function)
    if scanned is None:
        return None
    findings, error = scanned
    return replace(function, environment_secrets=findings, environment_error=error)
