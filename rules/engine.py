"""Scope rules and evaluation: one rule over one configuration item or function model."""

from __future__ import annotations

from dataclasses import replace

from rules.adapters.config_item import STATUSES_WITHOUT_CONFIGURATION
from rules.errors import InvalidInputError, UnknownFieldError
from rules.exemptions import ExemptionPolicy
from rules.model import (
    LAMBDA_FUNCTION,
    Compliance,
    ConfigurationItem,
    Evaluation,
    KeyManager,
    LambdaFunction,
    Verdict,
)
from rules.parameters import Parameters
from rules.rule import Rule


def scope_verdict(item: ConfigurationItem, event_left_scope: bool = False) -> Verdict | None:
    """NOT_APPLICABLE for items no check should look at; None when the checks apply."""
    if event_left_scope:
        return Verdict(Compliance.NOT_APPLICABLE, "resource left the rule's scope")
    if item.resource_type != LAMBDA_FUNCTION:
        return Verdict(
            Compliance.NOT_APPLICABLE,
            f"resource type {item.resource_type} is not {LAMBDA_FUNCTION}",
        )
    if item.status in STATUSES_WITHOUT_CONFIGURATION:
        return Verdict(Compliance.NOT_APPLICABLE, f"configuration item status is {item.status}")
    return None


def evaluate_item(
    rule: Rule,
    item: ConfigurationItem,
    parameters: Parameters,
    *,
    event_left_scope: bool = False,
    exemptions: ExemptionPolicy | None = None,
) -> Evaluation:
    verdict = scope_verdict(item, event_left_scope)
    if verdict is None:
        if item.function is None:  # the adapter builds one for every in-scope item
            raise InvalidInputError(f"configuration item {item.resource_id} has no function")
        return evaluate_function(
            rule, item.function, parameters, resource_id=item.resource_id, exemptions=exemptions
        )
    return _evaluation(rule, item.resource_id, item.resource_type, verdict)


def evaluate_item_offline(
    rule: Rule,
    item: ConfigurationItem,
    parameters: Parameters,
    *,
    event_left_scope: bool = False,
) -> Evaluation:
    """For callers that cannot read AWS (the ``evaluate`` CLI): a field the source did not record
    and the check needs fails closed, NON_COMPLIANT with an annotation saying so, never
    COMPLIANT. The handler instead reads the field (``rules.aws.evaluate``).

    The one exception is who manages the KMS key (only ``kms:DescribeKey`` knows): the key's
    ARN decides, and the annotation of a key accepted that way says it was not verified."""
    if item.function is not None and item.function.kms_key_manager is None:
        item = replace(item, function=replace(item.function, kms_key_manager=KeyManager.UNVERIFIED))
    try:
        return evaluate_item(rule, item, parameters, event_left_scope=event_left_scope)
    except UnknownFieldError as error:
        annotation = f"{error.reason}; counted as non-compliant until they are read"
        return _evaluation(
            rule,
            item.resource_id,
            item.resource_type,
            Verdict(Compliance.NON_COMPLIANT, annotation),
        )


def evaluate_function(
    rule: Rule,
    function: LambdaFunction,
    parameters: Parameters,
    *,
    resource_id: str | None = None,
    exemptions: ExemptionPolicy | None = None,
) -> Evaluation:
    """Run ``rule``'s check. Errors (unreadable input, unknown fields) propagate: no verdict.

    With ``exemptions``, the function's exemption tag is decided first: an honoured one gives
    NOT_APPLICABLE without running the check (nothing is read for it); any other that concerns
    the rule (expired, malformed, refused) is added to the check's annotation."""
    decision = exemptions.decide(function.tags, rule.id) if exemptions else None
    name = resource_id or function.name
    if decision is not None and decision.exempt and decision.exemption is not None:
        return replace(
            _evaluation(
                rule, name, LAMBDA_FUNCTION, Verdict(Compliance.NOT_APPLICABLE, decision.note or "")
            ),
            exempted_because=decision.exemption.summary,
        )
    verdict = rule.check(function, parameters)
    if decision is not None and decision.note:
        verdict = Verdict(verdict.compliance, f"{verdict.annotation}; {decision.note}")
    return _evaluation(rule, name, LAMBDA_FUNCTION, verdict)


def _evaluation(rule: Rule, resource_id: str, resource_type: str, verdict: Verdict) -> Evaluation:
    return Evaluation(
        rule_id=rule.id,
        resource_id=resource_id,
        resource_type=resource_type,
        compliance=verdict.compliance,
        # The whole text: only PutEvaluations cuts it, to Config's limit (rules.aws.publish).
        annotation=verdict.annotation,
    )
