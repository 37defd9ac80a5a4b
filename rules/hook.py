"""The CloudFormation Lambda hook entry point: the same rules, before a deployment.

CloudFormation (and Cloud Control) calls ``lambda_handler`` before it creates or updates an
``AWS::Lambda::Function``, ``AWS::Lambda::Permission`` or ``AWS::Lambda::Url``. The request holds
that one resource's properties, resolved; the CloudFormation adapter turns them into the model,
the registry's checks judge it:

- a Function: every enabled rule but the public-access one (a function resource holds no
  resource policy);
- a Permission: the public-access rule, on the statement Lambda would add for it (the function
  it grants on is not in the request, so only the statement is judged);
- a Url: the public-access rule, on the URL alone, as in a template whose function is elsewhere:
  AWS lets the public call a URL of ``AuthType NONE`` only through a public permission, which
  the hook judges when that Permission is deployed.

Every resource goes through ``rules.template_eval.evaluate_template``, as in the pack and
``check-template``: a value still unresolved in the request is taken at its worst and
named when it decides. Two fields the request cannot tell are asked of AWS, only when a rule
needs them: who manages this account's KMS key given by key ARN (``kms:DescribeKey``, for
``lambda-env-vars-cmk-encrypted``), the zones of subnets given by id (``ec2:DescribeSubnets``,
for ``lambda-vpc-multi-az``) and the policy of a code signing configuration given by ARN
(``lambda:GetCodeSigningConfig``, for ``lambda-code-signing-enforced``). A read that fails gives
no verdict.
Any NON_COMPLIANT verdict answers FAILED with ``NonCompliant`` and the annotations; anything
that stops a verdict (a request or setting it cannot read, an exception) answers FAILED with
``InternalFailure``, never SUCCESS.

Settings come from the function's environment, written at synth time from the same context
keys as the Config rules: ``HOOK_RULES`` (the enabled rule ids, comma-separated),
``HOOK_RULE_PARAMETERS`` (``ruleParameters`` as JSON) and ``DEPLOYMENT_HOOK_MODE`` (``warn`` or
``fail``: the hook's FailureMode, said in every message).

Environment variable values in a Function's properties are never logged nor answered: the model
keeps names only, the adapter describes an environment it cannot read by its names only, and
every text this function logs or returns is scrubbed besides of the request's values of
``SCRUB_MIN_LENGTH`` (8) characters or more (a shorter one would garble the words around it).
"""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from rules.adapters.cloudformation import (
    FUNCTION,
    KMS_KEY_ARN,
    PERMISSION,
    URL,
    StackEnvironment,
)
from rules.adapters.common import JSON_OBJECT, arn_field
from rules.adapters.hook_request import (
    Action,
    HookErrorCode,
    HookRequest,
    HookStatus,
    InvalidHookRequestError,
    client_request_token,
    parse_request,
    response,
)
from rules.adapters.lambda_api import code_signing_from
from rules.aws.clients import ClientOptions, Clients, new_session
from rules.aws.inventory import code_signing_config
from rules.aws.kms import KEY_MANAGERS
from rules.aws.subnets import SubnetZones
from rules.checks import code_signing, env_vars_cmk, public_access, vpc_multi_az
from rules.errors import GuardrailsError
from rules.model import CodeSigningPolicy, Compliance, KeyManager, Verdict
from rules.observability import count, logger, metrics
from rules.parameters import Parameters, parse_parameters
from rules.registry import RULES_BY_ID
from rules.rule import Field, Rule
from rules.template_eval import evaluate_template

RULES_VARIABLE = "HOOK_RULES"
PARAMETERS_VARIABLE = "HOOK_RULE_PARAMETERS"
MODE_VARIABLE = "DEPLOYMENT_HOOK_MODE"
MODES = ("warn", "fail")
TARGET_TYPES = (FUNCTION, PERMISSION, URL)
PUBLIC_ACCESS = public_access.RULE.id
CMK = env_vars_cmk.RULE.id
MULTI_AZ = vpc_multi_az.RULE.id
CODE_SIGNING = code_signing.RULE.id
REDACTED = "<redacted>"
# Values shorter than this are not scrubbed from texts (see ``scrubbed``).
SCRUB_MIN_LENGTH = 8
SUBJECT = "Lambda Guardrails"


class HookSettingsError(GuardrailsError):
    """The function's environment does not say which rules to run, with which parameters."""


@dataclass(frozen=True, slots=True)
class HookSettings:
    rules: tuple[Rule, ...]
    parameters: Mapping[str, Parameters]
    mode: str

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> HookSettings:
        mode = env.get(MODE_VARIABLE, "")
        if mode not in MODES:
            raise HookSettingsError(f"{MODE_VARIABLE} is {mode!r}, not one of {', '.join(MODES)}")
        if RULES_VARIABLE not in env or PARAMETERS_VARIABLE not in env:
            raise HookSettingsError(f"{RULES_VARIABLE} and {PARAMETERS_VARIABLE} must be set")
        ids = [item.strip() for item in env[RULES_VARIABLE].split(",") if item.strip()]
        unknown = sorted(set(ids) - set(RULES_BY_ID))
        if not ids or unknown:
            raise HookSettingsError(f"{RULES_VARIABLE}: no rule or unknown rule id(s) {unknown}")
        try:
            raw = json.loads(env[PARAMETERS_VARIABLE])
        except json.JSONDecodeError as error:
            raise HookSettingsError(f"{PARAMETERS_VARIABLE} is not JSON ({error})") from None
        if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
            raise HookSettingsError(f"{PARAMETERS_VARIABLE}: expected {{rule id: {{name: value}}}}")
        extra = sorted(set(raw) - set(ids))
        if extra:
            raise HookSettingsError(f"{PARAMETERS_VARIABLE}: parameters of rules not run {extra}")
        rules = tuple(RULES_BY_ID[rule_id] for rule_id in ids)
        # InvalidParameterError propagates: a bad parameter is no verdict, not "no constraint".
        parameters = {rule.id: parse_parameters(rule, raw.get(rule.id)) for rule in rules}
        return cls(rules=rules, parameters=parameters, mode=mode)


@dataclass(frozen=True, slots=True)
class Judgement:
    """What the rules say of one resource: ``(rule id, verdict)`` in registry order."""

    resource: str
    verdicts: tuple[tuple[str, Verdict], ...]
    # Why no rule judged it (a deletion, a type the hook does not judge, no rule enabled).
    skipped: str | None = None

    @property
    def violations(self) -> tuple[tuple[str, Verdict], ...]:
        return tuple(
            (rule_id, verdict)
            for rule_id, verdict in self.verdicts
            if verdict.compliance is Compliance.NON_COMPLIANT
        )


def judge(request: HookRequest, settings: HookSettings, env: StackEnvironment) -> Judgement:
    """The enabled rules' verdicts on the request's resource."""
    label = f"{request.target_type} {request.logical_id or '(no logical id: Cloud Control)'}"
    if request.action is Action.DELETE:
        return Judgement(label, (), "deleting a resource is not gated")
    if request.target_type not in TARGET_TYPES:
        return Judgement(label, (), f"the hook judges {', '.join(TARGET_TYPES)} only")
    # Rules that read function URLs judge a Url resource (a function resource holds none).
    url_rules = [rule for rule in settings.rules if Field.FUNCTION_URLS in rule.may_need]
    if request.target_type == FUNCTION:
        rules = [r for r in settings.rules if r.id != PUBLIC_ACCESS and r not in url_rules]
    else:
        rules = [rule for rule in settings.rules if rule.id == PUBLIC_ACCESS]
        rules += url_rules if request.target_type == URL else []
    if not rules:
        return Judgement(label, (), f"no enabled rule judges {request.target_type}")
    if request.target_type == URL and "AuthType" not in request.properties:
        raise InvalidHookRequestError("the function URL has no AuthType (a required property)")
    template = {
        "Resources": {
            _logical_id(request): {
                "Type": request.target_type,
                "Properties": dict(request.properties),
            }
        }
    }
    # The same evaluation as the pack and check-template: a Function with its unknowns taken at
    # their worst; a Permission or Url, whose function is not in the request, judged on what it
    # holds (the template evaluation's one stand-in function).
    results = evaluate_template(template, rules, settings.parameters, env)
    return Judgement(
        label,
        tuple(
            (
                result.evaluation.rule_id,
                Verdict(result.evaluation.compliance, result.evaluation.annotation),
            )
            for result in results
        ),
    )


def _logical_id(request: HookRequest) -> str:
    return request.logical_id or "Resource"


def message_of(judgement: Judgement, mode: str) -> str:
    if judgement.skipped is not None:
        return f"{SUBJECT}: {judgement.resource} not judged: {judgement.skipped}"
    violations = judgement.violations
    if not violations:
        passed = ", ".join(rule_id for rule_id, _ in judgement.verdicts)
        return f"{SUBJECT}: {judgement.resource} passes {passed}"
    effect = "blocks" if mode == "fail" else "warns about (deploymentHook=warn, not blocked)"
    details = "; ".join(f"{rule_id}: {verdict.annotation}" for rule_id, verdict in violations)
    return f"{SUBJECT} {effect} {judgement.resource}: {len(violations)} rule(s) failed: {details}"


def stack_environment(
    request: HookRequest, invoked_arn: str | None, region: str
) -> StackEnvironment:
    """The request's account; the partition and region of this function (a hook runs in the
    account and region of the stacks it gates)."""
    return StackEnvironment(
        account=request.account_id,
        region=arn_field(invoked_arn, 3) or region,
        partition=arn_field(invoked_arn, 1) or "aws",
    )


def secret_values(event: Any) -> set[str]:
    """Every environment variable value of the request's Function properties (new and
    previous), whatever else the request holds: what no text may repeat."""
    data = event.get("requestData") if isinstance(event, JSON_OBJECT) else None
    model = data.get("targetModel") if isinstance(data, JSON_OBJECT) else None
    if not isinstance(model, JSON_OBJECT):
        return set()
    values: set[str] = set()
    for key in ("resourceProperties", "previousResourceProperties"):
        properties = model.get(key)
        environment = properties.get("Environment") if isinstance(properties, JSON_OBJECT) else None
        variables = environment.get("Variables") if isinstance(environment, JSON_OBJECT) else None
        if isinstance(variables, JSON_OBJECT):
            values.update(_strings(variables.values()))
    return values


def _strings(values: Iterable[Any]) -> set[str]:
    found: set[str] = set()
    for value in values:
        if isinstance(value, JSON_OBJECT):
            found.update(_strings(value.values()))
        elif isinstance(value, list):
            found.update(_strings(value))
        elif value is not None and str(value):
            found.add(str(value))
    return found


def scrubbed(text: str, secrets: set[str]) -> str:
    """``text`` without the values of at least ``SCRUB_MIN_LENGTH`` characters. The adapter never
    describes a value (names only), so this is a second line for a text quoting a request field
    (an exception's message); a shorter value (``"e"``, ``"1"``) would only garble the words
    around it, and what it could reveal is no secret of note."""
    # Longest first: a value containing another is removed whole.
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= SCRUB_MIN_LENGTH:
            text = text.replace(secret, REDACTED)
    return text


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    return handle(
        event,
        env=os.environ,
        invoked_arn=getattr(context, "invoked_function_arn", None),
        kms=lambda: own_client("kms", os.environ.get("AWS_REGION", "us-east-1")),
        ec2=lambda: own_client("ec2", os.environ.get("AWS_REGION", "us-east-1")),
        lambda_=lambda: own_client("lambda", os.environ.get("AWS_REGION", "us-east-1")),
    )


_own_clients: Clients | None = None


def own_client(service: str, region: str) -> Any:
    """This function's client of ``service``: one per container, created on first use (never
    at import)."""
    global _own_clients  # noqa: PLW0603 - reused across invocations of a warm container
    if _own_clients is None:
        _own_clients = Clients(new_session(), ClientOptions(region))
    return _own_clients.client(service)


def handle(
    event: Any,
    *,
    env: Mapping[str, str],
    invoked_arn: str | None,
    kms: Callable[[], Any],
    ec2: Callable[[], Any],
    lambda_: Callable[[], Any],
) -> dict[str, Any]:
    """One hook invocation: its answer, whatever happens (an error answers InternalFailure).
    ``kms`` gives the KMS client DescribeKey is asked with, only when a key's manager matters;
    ``ec2`` the EC2 client DescribeSubnets is asked with, only when subnets' zones matter;
    ``lambda_`` the Lambda client GetCodeSigningConfig is asked with, only when a code signing
    configuration's policy matters."""
    count("HookInvocations")
    try:
        return _answer(event, env, invoked_arn, kms=kms, ec2=ec2, lambda_=lambda_)
    finally:
        metrics.flush_metrics()


def key_managers(
    request: HookRequest, settings: HookSettings, kms: Callable[[], Any]
) -> tuple[tuple[str, KeyManager], ...]:
    """Who manages the Function's key, from kms:DescribeKey (cached per key), when the CMK rule
    needs it: the key is given by a key ARN of this account (an alias ARN, or another account's
    key, names its manager; the role may describe this account's keys only) and the function
    has environment variables. A DescribeKey that fails raises ``KeyManagerError`` naming the
    key: no verdict (InternalFailure), as the live rule gives none."""
    if request.target_type != FUNCTION or CMK not in {rule.id for rule in settings.rules}:
        return ()
    key = request.properties.get("KmsKeyArn")
    if not isinstance(key, str) or not KMS_KEY_ARN.fullmatch(key):
        return ()
    if arn_field(key, 4) != request.account_id or not _may_have_variables(request.properties):
        return ()
    return ((key, KEY_MANAGERS.manager(kms(), key)),)


def subnet_zones(
    request: HookRequest, settings: HookSettings, ec2: Callable[[], Any]
) -> tuple[tuple[str, str], ...]:
    """The zone of each subnet id of the Function's ``VpcConfig``, from one ec2:DescribeSubnets,
    when ``lambda-vpc-multi-az`` is enabled. CloudFormation resolves the properties before the
    hook, so the ids are real; a subnet EC2 does not know keeps an unknown zone (counted as no
    further zone), and a failed read raises ``ReadError`` naming the subnets: no verdict."""
    if request.target_type != FUNCTION or MULTI_AZ not in {rule.id for rule in settings.rules}:
        return ()
    vpc = request.properties.get("VpcConfig")
    subnets = vpc.get("SubnetIds") if isinstance(vpc, JSON_OBJECT) else None
    ids = [s for s in subnets if isinstance(s, str) and s] if isinstance(subnets, list) else []
    if not ids:
        return ()
    return tuple(SubnetZones().zones(ec2(), ids).items())


def code_signing_configs(
    request: HookRequest, settings: HookSettings, lambda_: Callable[[], Any]
) -> tuple[tuple[str, CodeSigningPolicy], ...]:
    """The policy of the code signing configuration the Function names by ARN, from one
    lambda:GetCodeSigningConfig, when ``lambda-code-signing-enforced`` is enabled (the request
    is resolved, so the ARN is real). A failed read raises ``ReadError``: no verdict."""
    if request.target_type != FUNCTION or CODE_SIGNING not in {r.id for r in settings.rules}:
        return ()
    arn = request.properties.get("CodeSigningConfigArn")
    if not isinstance(arn, str) or not arn:
        return ()
    config = code_signing_config(lambda_(), arn, _logical_id(request))
    policy = code_signing_from({"CodeSigningConfigArn": arn}, config).policy
    return ((arn, policy),) if policy is not None else ()


def _may_have_variables(properties: Mapping[str, Any]) -> bool:
    """False only when the properties say there are none: no Environment, or no Variables in
    a literal one (a still-unresolved value may hold some)."""
    environment = properties.get("Environment")
    if environment is None:
        return False
    if not isinstance(environment, JSON_OBJECT) or any(
        key == "Ref" or str(key).startswith("Fn::") for key in environment
    ):
        return True
    variables = environment.get("Variables")
    return variables is not None and variables != {}


def _answer(
    event: Any,
    env: Mapping[str, str],
    invoked_arn: str | None,
    *,
    kms: Callable[[], Any],
    ec2: Callable[[], Any],
    lambda_: Callable[[], Any],
) -> dict[str, Any]:
    token = client_request_token(event)
    secrets = secret_values(event)
    try:
        settings = HookSettings.from_environment(env)
        request = parse_request(event)
        logger.append_keys(
            target_type=request.target_type,
            logical_id=request.logical_id,
            action=request.action.value,
            stack_id=request.stack_id,
        )
        stack_env = replace(
            stack_environment(request, invoked_arn, env.get("AWS_REGION", "us-east-1")),
            key_managers=key_managers(request, settings, kms),
            subnet_zones=subnet_zones(request, settings, ec2),
            code_signing_configs=code_signing_configs(request, settings, lambda_),
        )
        judgement = judge(request, settings, stack_env)
        text = scrubbed(message_of(judgement, settings.mode), secrets)
    except Exception as error:  # noqa: BLE001 - no verdict is InternalFailure, never SUCCESS
        return _internal_failure(token, error, secrets)
    verdicts = {rule_id: verdict.compliance.value for rule_id, verdict in judgement.verdicts}
    if judgement.violations:
        logger.warning("non-compliant", extra={"verdicts": verdicts, "hook_message": text})
        count("HookNonCompliant")
        return response(token, HookStatus.FAILED, text, HookErrorCode.NON_COMPLIANT)
    logger.info("compliant", extra={"verdicts": verdicts, "hook_message": text})
    return response(token, HookStatus.SUCCESS, text)


def _internal_failure(token: str | None, error: Exception, secrets: set[str]) -> dict[str, Any]:
    """Logged with the error's type, its (scrubbed) text and where it was raised: no traceback
    text, which could quote a value."""
    problem = scrubbed(f"{type(error).__name__}: {error}", secrets)
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "unknown"
    logger.error("no verdict", extra={"problem": problem, "raised_at": where})
    count("HookInternalFailures")
    return response(
        token,
        HookStatus.FAILED,
        f"{SUBJECT} could not judge the resource ({problem}); see the hook function's log",
        HookErrorCode.INTERNAL_FAILURE,
    )
