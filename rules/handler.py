"""The AWS Config custom rule entry point shared by every rule's function.

``lambda_handler(event, context)``: the rule comes from the ``RULE_ID`` environment variable.
- ``ConfigurationItemChangeNotification``: the item in the event.
- ``OversizedConfigurationItemChangeNotification``: the item from ``GetResourceConfigHistory``;
  when Config no longer has it, the function from the Lambda API (NOT_APPLICABLE if gone).
- ``ScheduledNotification``: every function (``rules.aws.inventory.read_functions``), plus
  NOT_APPLICABLE for functions the rule evaluated before that no longer exist.
Results go to Config (``PutEvaluations``) and, unless ``SECURITY_HUB_EXPORT=false``, to Security
Hub (``BatchImportFindings``), from the function's account (organization mode assumes
``ExecutionRoleName`` there). Anything that stops a verdict or a delivery fails the invocation
after a structured log line and a metric; no unread input is ever reported COMPLIANT.

Settings (environment): ``RULE_ID`` (required), ``SECURITY_HUB_EXPORT`` (default true),
``ASSUME_EVENT_EXECUTION_ROLE`` (default false: assume the event's ``executionRoleArn`` when no
``ExecutionRoleName`` parameter is set), ``AWS_RETRY_MODE`` (standard|adaptive, default
standard), ``AWS_MAX_ATTEMPTS`` (default 8), ``EXEMPTION_TAG_KEY`` (default
``guardrails:exempt``: the tag ``rules.exemptions`` reads), ``EXEMPTIONS_DISABLED`` (default
false: true refuses every exemption of the rule, context ``exemptionsDisabled``).

An exempted function's evaluation is NOT_APPLICABLE and its finding carries Workflow SUPPRESSED
and a Note; since a re-import cannot change either, ``rules.aws.workflow`` sets them with
BatchUpdateFindings, and sets NEW again when the exemption ends.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rules.adapters.config_item import (
    configuration_item_from_dict,
    configuration_item_summary_from_dict,
)
from rules.aws.clients import (
    DEFAULT_MAX_ATTEMPTS,
    RETRY_MODES,
    Accounts,
    ClientOptions,
    Clients,
    is_service_linked_role,
    new_session,
    role_arn,
)
from rules.aws.errors import (
    AccessDeniedError,
    IncompleteEvaluationError,
    PublishError,
    ReadError,
)
from rules.aws.evaluate import evaluate_with_reads, gone
from rules.aws.findings import build_finding, discovered_at
from rules.aws.inventory import (
    history_item,
    previously_evaluated,
    read_function,
    read_functions,
)
from rules.aws.publish import import_findings, put_evaluations
from rules.aws.subnets import SubnetZones
from rules.aws.times import parse_time
from rules.aws.workflow import sync_workflow
from rules.engine import evaluate_item, scope_verdict
from rules.errors import GuardrailsError, InvalidInputError, InvalidParameterError
from rules.events import OVERSIZED, SCHEDULED, RuleEvent, RuleParametersError, parse_rule_event
from rules.exemptions import DEFAULT_TAG_KEY, ExemptionPolicy, tag_key_problem
from rules.model import LAMBDA_FUNCTION, Compliance, ConfigurationItem, Evaluation, LambdaFunction
from rules.observability import count, logger, metrics, traced
from rules.parameters import EXECUTION_ROLE_NAME, Parameters, parse_parameters
from rules.registry import get_rule
from rules.rule import Rule

METRIC_FOR = {
    Compliance.COMPLIANT: "EvaluationsCompliant",
    Compliance.NON_COMPLIANT: "EvaluationsNonCompliant",
    Compliance.NOT_APPLICABLE: "EvaluationsNotApplicable",
}
FALSE = ("0", "false", "no", "off")


class SettingsError(GuardrailsError):
    """The function's own environment is wrong (e.g. RULE_ID unknown)."""


@dataclass(frozen=True, slots=True)
class Settings:
    rule: Rule
    region: str
    security_hub_export: bool = True
    assume_event_role: bool = False
    retry_mode: str = "standard"
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    exemption_tag_key: str = DEFAULT_TAG_KEY
    exemptions_disabled: bool = False

    def exemptions(self, now: datetime) -> ExemptionPolicy:
        """The exemption policy of an invocation at ``now``: expiries are judged in UTC."""
        disabled = frozenset({self.rule.id}) if self.exemptions_disabled else frozenset()
        return ExemptionPolicy(now.astimezone(UTC).date(), self.exemption_tag_key, disabled)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        try:
            rule = get_rule(env.get("RULE_ID", ""))
            region = env.get("AWS_REGION") or env["AWS_DEFAULT_REGION"]
            max_attempts = int(env.get("AWS_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
        except (KeyError, ValueError) as error:
            raise SettingsError(f"function environment: {error}") from None
        retry_mode = env.get("AWS_RETRY_MODE", "standard")
        if retry_mode not in RETRY_MODES:
            raise SettingsError(f"AWS_RETRY_MODE={retry_mode!r} is not one of {RETRY_MODES}")
        tag_key = env.get("EXEMPTION_TAG_KEY", DEFAULT_TAG_KEY)
        if problem := tag_key_problem(tag_key):
            raise SettingsError(f"EXEMPTION_TAG_KEY={tag_key!r}: {problem}")
        return cls(
            rule=rule,
            region=region,
            security_hub_export=env.get("SECURITY_HUB_EXPORT", "true").lower() not in FALSE,
            assume_event_role=env.get("ASSUME_EVENT_EXECUTION_ROLE", "false").lower() not in FALSE,
            retry_mode=retry_mode,
            max_attempts=max_attempts,
            exemption_tag_key=tag_key,
            exemptions_disabled=env.get("EXEMPTIONS_DISABLED", "false").lower() not in FALSE,
        )


@dataclass(frozen=True, slots=True)
class Result:
    evaluation: Evaluation
    subject: LambdaFunction | ConfigurationItem


_own_clients: Clients | None = None


def default_clients(settings: Settings) -> Clients:
    """The function's own clients: one set per container, created on first use."""
    global _own_clients  # noqa: PLW0603 - reused across invocations of a warm container
    if _own_clients is None:
        options = ClientOptions(settings.region, settings.retry_mode, settings.max_attempts)
        _own_clients = Clients(new_session(), options)
    return _own_clients


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    try:
        settings = Settings.from_environment()
    except SettingsError as error:
        logger.error("invalid function settings", extra={"problem": str(error)})
        raise
    return handle(event, settings=settings, clients=default_clients(settings))


def handle(
    event: Any,
    *,
    settings: Settings,
    clients: Clients,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One invocation: evaluate, publish, and return a summary (raises on any failure)."""
    rule = settings.rule
    metrics.add_dimension(name="rule", value=rule.id)  # per rule; cleared by each flush
    count("Invocations")
    logger.append_keys(rule_id=rule.id, resource_id="unknown")
    try:
        with traced("evaluate", rule_id=rule.id):
            return _handle(event, settings, clients, now or datetime.now(UTC))
    except InvalidParameterError as error:
        logger.error(
            "invalid rule parameters",
            extra={"problem": str(error), "parameter": error.name, "reason": error.reason},
        )
        count("InvalidParameters")
        raise
    except AccessDeniedError as error:
        logger.error(
            "access denied",
            extra={"action": error.action, "principal": error.principal, "problem": str(error)},
        )
        count("AccessDenied")
        raise
    except PublishError as error:
        logger.error("results rejected", extra={"problem": str(error), "what": error.what})
        raise
    except IncompleteEvaluationError as error:
        logger.error("resources got no verdict", extra={"problem": str(error)})
        raise
    except ReadError as error:
        # A read the verdict depends on failed (DescribeKey, a qualifier's policy): no verdict
        # for the event's resource, counted like a sweep's.
        logger.error("no verdict", extra={"problem": str(error)})
        count("EvaluationErrors")
        raise
    except InvalidInputError as error:
        logger.error("malformed event or unreadable input", extra={"problem": str(error)})
        count("InvalidInput")
        raise
    except Exception as error:
        # Anything else (an AWS error after botocore's retries, a bug): logged, counted, raised.
        logger.exception("invocation failed", extra={"problem": f"{type(error).__name__}: {error}"})
        count("Errors")
        raise
    finally:
        metrics.flush_metrics()


def _handle(event: Any, settings: Settings, clients: Clients, now: datetime) -> dict[str, Any]:
    rule = settings.rule
    try:
        rule_event = parse_rule_event(event)
    except RuleParametersError as error:
        # The rule's parameters, not the event, are wrong: counted as InvalidParameters.
        raise InvalidParameterError(rule.id, "ruleParameters", error.value, error.reason) from None
    logger.append_keys(
        message_type=rule_event.message_type, config_rule_name=rule_event.config_rule_name
    )
    logger.set_correlation_id(_invocation_id(rule_event))
    logger.append_keys(resource_id=_resource_id(rule_event))
    # The invocation's time is the evaluation date (lambda-runtime-supported): injectable.
    parameters = parse_parameters(rule, rule_event.rule_parameters, today=now.date())
    # Subnets' zones are read once per subnet per invocation (lambda-vpc-multi-az).
    zones = SubnetZones()
    if not rule_event.result_token:
        raise InvalidInputError("event has no resultToken: evaluations could not be reported")
    if rule_event.message_type != SCHEDULED and not rule.change_triggered:
        # A periodic-only rule (a cross-function view): its Config rule has no change trigger,
        # and a change event reaching it anyway leaves the last periodic verdict standing.
        logger.warning("change event not evaluated: the rule evaluates periodically only")
        return _summary(rule, rule_event, {compliance.value: 0 for compliance in Compliance}, 0)
    accounts = Accounts(clients, f"guardrails-{rule.id}")
    exemptions = settings.exemptions(now)
    if rule_event.message_type == SCHEDULED:
        account = rule_event.account_id or rule_event.invoking_event.get("awsAccountId")
        if not isinstance(account, str) or not account:
            raise InvalidInputError("ScheduledNotification names no account (accountId)")
        aws = accounts.clients_for(_role(rule_event, parameters, settings, clients, account))
        evaluator = Evaluator(rule, parameters, aws, exemptions, zones)
        results, problems = _sweep(evaluator, rule_event, account)
        ordering = parse_time(rule_event.notification_time) or now
    else:
        item = _event_item(rule_event)
        account = item.account_id or rule_event.account_id or ""
        aws = accounts.clients_for(_role(rule_event, parameters, settings, clients, account))
        logger.append_keys(resource_id=item.resource_id)
        evaluator = Evaluator(rule, parameters, aws, exemptions, zones)
        results = [_evaluate_change(evaluator, rule_event, item)]
        problems = []
        ordering = parse_time(item.capture_time) or parse_time(rule_event.notification_time) or now
    summary = _publish(
        settings,
        rule_event=rule_event,
        results=results,
        aws=aws,
        account=account,
        ordering=ordering,
        now=now,
    )
    if problems:
        raise IncompleteEvaluationError(tuple(problems))
    return summary


def _resource_id(rule_event: RuleEvent) -> str:
    """What the log lines name before the item is parsed: the event's resource, or * (sweep)."""
    if rule_event.message_type == SCHEDULED:
        return "*"
    item = rule_event.configuration_item or rule_event.configuration_item_summary or {}
    return str(item.get("resourceId") or "unknown")


def _invocation_id(rule_event: RuleEvent) -> str:
    """Stable across Lambda's retries of the same Config invocation (the result token)."""
    token = rule_event.result_token or ""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _role(
    rule_event: RuleEvent,
    parameters: Parameters,
    settings: Settings,
    clients: Clients,
    account: str,
) -> str | None:
    """The role to assume in ``account``: ExecutionRoleName, else (when enabled) the event's
    executionRoleArn, else none (the function's own role)."""
    name = parameters.text(EXECUTION_ROLE_NAME.name)
    if name:
        if not account:
            raise InvalidInputError("ExecutionRoleName is set but the event names no account")
        return role_arn(clients.partition, account, name)
    if settings.assume_event_role:
        arn = rule_event.execution_role_arn
        if not arn:
            raise InvalidInputError("ASSUME_EVENT_EXECUTION_ROLE is on but the event has no role")
        if is_service_linked_role(arn):
            raise InvalidInputError(f"executionRoleArn {arn} is service-linked: cannot assume it")
        return arn
    return None


def _event_item(rule_event: RuleEvent) -> ConfigurationItem:
    if rule_event.message_type == OVERSIZED:
        summary = rule_event.configuration_item_summary
        if summary is None:
            raise InvalidInputError("oversized notification has no configurationItemSummary")
        return configuration_item_summary_from_dict(summary)
    raw = rule_event.configuration_item
    if raw is None:
        raise InvalidInputError("change notification has no configurationItem")
    return configuration_item_from_dict(raw)


@dataclass(frozen=True, slots=True)
class Evaluator:
    """What every evaluation of one invocation shares: the rule, its parameters, the account's
    clients, the exemption policy and the subnet-zone cache."""

    rule: Rule
    parameters: Parameters
    aws: Clients
    exemptions: ExemptionPolicy
    zones: SubnetZones

    def evaluate(
        self, function: LambdaFunction, *, resource_id: str | None = None, periodic: bool = False
    ) -> Evaluation:
        return evaluate_with_reads(
            self.rule,
            function,
            self.parameters,
            self.aws,
            resource_id=resource_id,
            periodic=periodic,
            exemptions=self.exemptions,
            subnet_zones=self.zones,
        )


def _evaluate_change(
    evaluator: Evaluator, rule_event: RuleEvent, item: ConfigurationItem
) -> Result:
    rule, parameters = evaluator.rule, evaluator.parameters
    if scope_verdict(item, rule_event.event_left_scope) is not None:
        evaluation = evaluate_item(
            rule, item, parameters, event_left_scope=rule_event.event_left_scope
        )
        return Result(evaluation, item)
    if rule_event.message_type == OVERSIZED:
        return _evaluate_oversized(evaluator, item)
    if item.function is None:  # the adapter builds one for every in-scope item
        raise InvalidInputError(f"configuration item {item.resource_id} has no function")
    return Result(evaluator.evaluate(item.function, resource_id=item.resource_id), item.function)


def _evaluate_oversized(evaluator: Evaluator, summary: ConfigurationItem) -> Result:
    """The item from the configuration history; when Config no longer has it, the function
    from the Lambda API; NOT_APPLICABLE when neither has it."""
    aws = evaluator.aws
    raw = history_item(
        aws.client("config"),
        summary.resource_type,
        summary.resource_id,
        parse_time(summary.capture_time),
    )
    if raw is not None:
        item = configuration_item_from_dict(raw)
        if scope_verdict(item) is not None or item.function is None:
            return Result(evaluate_item(evaluator.rule, item, evaluator.parameters), item)
        return Result(
            evaluator.evaluate(item.function, resource_id=item.resource_id), item.function
        )
    logger.warning("configuration history is gone; reading the function from the Lambda API")
    function = read_function(aws.client("lambda"), summary.resource_id, [evaluator.rule])
    if function is None:
        return Result(gone(evaluator.rule, summary.resource_id), summary)
    return Result(evaluator.evaluate(function, resource_id=summary.resource_id), function)


def _sweep(
    evaluator: Evaluator, rule_event: RuleEvent, account: str
) -> tuple[list[Result], list[tuple[str, str]]]:
    rule, aws = evaluator.rule, evaluator.aws
    inventory = read_functions(aws, [rule])
    logger.info(
        "inventory read",
        extra={
            "source": inventory.source,
            "source_reason": inventory.source_reason,
            "functions": len(inventory.functions),
        },
    )
    problems = [(problem.resource_id, problem.message) for problem in inventory.problems]
    results: list[Result] = []
    for function in inventory.functions:
        try:
            evaluation = evaluator.evaluate(function, periodic=True)
        except AccessDeniedError:
            raise
        except GuardrailsError as error:
            problems.append((function.name, str(error)))
            continue
        results.append(Result(evaluation, function))
    if rule_event.config_rule_name:
        seen = {function.name for function in inventory.functions} | {p[0] for p in problems}
        earlier = previously_evaluated(aws.client("config"), rule_event.config_rule_name)
        for resource_id in sorted(earlier - seen):
            item = ConfigurationItem(
                resource_type=LAMBDA_FUNCTION,
                resource_id=resource_id,
                status="ResourceDeleted",
                capture_time=None,
                account_id=account,
                region=aws.region,
                arn=None,
                function=None,
            )
            results.append(Result(gone(rule, resource_id), item))
    for resource_id, message in problems:
        logger.error("no verdict", extra={"resource_id": resource_id, "problem": message})
    if problems:
        count("EvaluationErrors", len(problems))
    return results, problems


def _publish(
    settings: Settings,
    *,
    rule_event: RuleEvent,
    results: list[Result],
    aws: Clients,
    account: str,
    ordering: datetime,
    now: datetime,
) -> dict[str, Any]:
    rule = settings.rule
    for result in results:
        logger.info(
            "evaluation",
            extra={
                "resource_id": result.evaluation.resource_id,
                "compliance": result.evaluation.compliance.value,
                "annotation": result.evaluation.annotation,
            },
        )
    evaluations = [result.evaluation for result in results]
    if evaluations:
        try:
            put_evaluations(
                aws.client("config"),
                evaluations,
                result_token=rule_event.result_token or "",
                ordering_timestamp=ordering,
            )
        except PublishError as error:
            count("EvaluationsFailed", len(error.failures))
            raise
    by_compliance = {compliance.value: 0 for compliance in Compliance}
    for evaluation in evaluations:
        by_compliance[evaluation.compliance.value] += 1
    for compliance, metric in METRIC_FOR.items():
        if by_compliance[compliance.value]:
            count(metric, by_compliance[compliance.value])
    imported = 0
    if settings.security_hub_export:
        findings = [
            build_finding(
                rule,
                result.evaluation,
                result.subject,
                account=_account_of(result.subject) or account,
                region=_region_of(result.subject) or aws.region,
                partition=aws.partition,
                now=now,
                observed_at=ordering,
                first_observed_at=discovered_at(
                    rule_event.configuration_item or rule_event.configuration_item_summary
                ),
                config_rule_name=rule_event.config_rule_name,
                config_rule_arn=rule_event.config_rule_arn,
            )
            for result in results
            if result.evaluation.resource_type == LAMBDA_FUNCTION
        ]
        try:
            imported = import_findings(aws.client("securityhub"), findings) if findings else 0
        except PublishError as error:
            count("FindingsImported", error.accepted)
            count("FindingsFailed", len(error.failures))
            raise
        count("FindingsImported", imported)
        if rule.exemptible:
            synced = sync_workflow(aws.client("securityhub"), findings)
            if synced.suppressed or synced.reinstated:
                logger.info(
                    "finding workflow updated",
                    extra={"suppressed": synced.suppressed, "reinstated": synced.reinstated},
                )
    return _summary(rule, rule_event, by_compliance, imported)


def _summary(
    rule: Rule, rule_event: RuleEvent, by_compliance: dict[str, int], imported: int
) -> dict[str, Any]:
    return {
        "rule": rule.id,
        "messageType": rule_event.message_type,
        "evaluations": by_compliance,
        "findingsImported": imported,
    }


def _account_of(subject: LambdaFunction | ConfigurationItem) -> str | None:
    return subject.account_id or None


def _region_of(subject: LambdaFunction | ConfigurationItem) -> str | None:
    return subject.region or None
