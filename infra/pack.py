"""``LambdaGuardrailsChecks``: the rules as a cdk-nag 3 compatible pack for any CDK app.

    cdk.Validations.of(app).add_plugins(LambdaGuardrailsChecks(app))

Like cdk-nag 3's packs (``AwsSolutionsChecks``) it is a CDK policy-validation plugin: after the
synth, CDK hands it every stack's template; it runs the very checks the Config rules run
(``rules.template_eval``) and reports each NON_COMPLIANT verdict as a violation named by the
rule id, on the resource's logical id, from which CDK derives the construct path; the
description is the rule's annotation. Acknowledgments are CDK's own, as for cdk-nag:
``cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=acknowledgment_id(rule_id),
reason=...))`` suppresses that rule on ``scope`` and below (ids: ``LambdaGuardrails::<rule id>``,
as ``AwsSolutions::AwsSolutions-L1``), and the report keeps the reason.

Rules and parameters come from the app's context, read as this repository's stack reads them
(``enabledRules``, ``disabledRules``, ``ruleParameters``; ``infra.settings``), or from the
arguments. A verdict a value known only at deploy time decided is NON_COMPLIANT (an error) and
names the value; ``unknown="unknown"`` reports it as a warning at level UNKNOWN instead.

Importable on its own: this module needs aws_cdk, ``rules`` and ``infra.settings`` (pure
parsing), none of this repository's stacks. It sits in ``infra`` rather than ``rules`` so the
rule functions' code asset (the ``rules`` package) never carries a module that imports aws_cdk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from constructs import IConstruct

from infra.settings import CONTEXT_DEFAULTS, _rule_ids, _rule_parameters
from rules import __version__
from rules.adapters.cloudformation import UNKNOWN_REGION, StackEnvironment
from rules.errors import GuardrailsError
from rules.model import Compliance
from rules.parameters import Parameters, parse_parameters
from rules.registry import RULES_BY_ID
from rules.rule import Rule
from rules.template_eval import TemplateResult, evaluate_template

PACK_NAME = "LambdaGuardrails"
UNKNOWN_CHOICES = ("non-compliant", "unknown")
# CDK's severities: "error" fails the synth, "warning" is reported (and fails under --strict).
ERROR = "error"
WARNING = "warning"


def acknowledgment_id(rule_id: str) -> str:
    """The id ``cdk.Acknowledgment`` takes to acknowledge ``rule_id`` of this pack."""
    if rule_id not in RULES_BY_ID:
        raise ValueError(f"unknown rule {rule_id!r} (known: {', '.join(RULES_BY_ID)})")
    return f"{PACK_NAME}::{rule_id}"


@jsii.implements(cdk.IPolicyValidationPlugin)
class LambdaGuardrailsChecks:
    """The registry's rules on every ``AWS::Lambda::Function`` of the app's templates.

    ``scope``: read the rules and parameters from its context now (a bad value fails here,
    naming the key); without it they are read from the app's context at validation.
    ``enabled_rules`` / ``rule_parameters`` replace the context's ``enabledRules`` and
    ``ruleParameters`` (same shapes). ``unknown``: ``non-compliant`` (default) or ``unknown``.
    """

    def __init__(
        self,
        scope: IConstruct | None = None,
        *,
        enabled_rules: str | Sequence[str] | None = None,
        rule_parameters: Mapping[str, Mapping[str, Any]] | None = None,
        unknown: str = "non-compliant",
    ) -> None:
        if unknown not in UNKNOWN_CHOICES:
            raise ValueError(f"unknown={unknown!r}: expected one of {', '.join(UNKNOWN_CHOICES)}")
        self._enabled_rules = (
            enabled_rules
            if enabled_rules is None or isinstance(enabled_rules, str)
            else list(enabled_rules)
        )
        self._rule_parameters = rule_parameters
        self._unknown = unknown
        self._selection: tuple[list[Rule], dict[str, Parameters]] | None = None
        if scope is not None:
            self._selection = self._select(scope.node.try_get_context)

    @property
    def name(self) -> str:
        return PACK_NAME

    @property
    def version(self) -> str:
        return __version__

    @property
    def rule_ids(self) -> list[str]:
        return list(RULES_BY_ID)

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        rules, parameters = self._selection or self._select(
            context.app_construct.node.try_get_context
        )
        violations: list[cdk.PolicyViolation] = []
        for stack in context.stack_templates:
            template = json.loads(Path(stack.template_path).read_text(encoding="utf-8"))
            environment = StackEnvironment(
                account=_known(stack.account_id), region=_known(stack.region) or UNKNOWN_REGION
            )
            try:
                results = evaluate_template(template, rules, parameters, environment)
            except GuardrailsError as error:
                raise GuardrailsError(f"{stack.stack_construct_path}: {error}") from error
            violations += [
                self._violation(result, stack.template_path)
                for result in results
                if result.evaluation.compliance is Compliance.NON_COMPLIANT
            ]
        return cdk.PolicyValidationPluginReport(
            success=not any(v.severity == ERROR for v in violations),
            violations=violations,
            plugin_version=__version__,
        )

    def _select(self, get: Callable[[str], Any]) -> tuple[list[Rule], dict[str, Parameters]]:
        """The rules and their parameters, parsed as ``infra.settings`` parses the context."""

        def value(key: str) -> Any:
            found = get(key)
            return CONTEXT_DEFAULTS[key] if found is None else found

        if self._enabled_rules is None:
            rule_ids = _rule_ids(value("enabledRules"), value("disabledRules"))
        else:
            rule_ids = _rule_ids(self._enabled_rules, [])
        raw = (
            self._rule_parameters if self._rule_parameters is not None else value("ruleParameters")
        )
        strings = _rule_parameters(raw, rule_ids)
        rules = [RULES_BY_ID[rule_id] for rule_id in rule_ids]
        return rules, {rule.id: parse_parameters(rule, strings.get(rule.id, {})) for rule in rules}

    def _violation(self, result: TemplateResult, template_path: str) -> cdk.PolicyViolation:
        evaluation = result.evaluation
        rule = RULES_BY_ID[evaluation.rule_id]
        as_unknown = result.decided_by_unknown and self._unknown == "unknown"
        return cdk.PolicyViolation(
            rule_name=rule.id,
            description=f"{rule.title}: {evaluation.annotation}",
            fix=f"{rule.remediation} See {rule.documentation_url}",
            severity=WARNING if as_unknown else ERROR,
            rule_metadata={
                "level": result.level if as_unknown else evaluation.compliance.value,
                "severity": rule.severity.value,
            },
            violating_resources=[
                cdk.PolicyViolatingResource(
                    resource_logical_id=result.logical_id,
                    template_path=template_path,
                    locations=[f"Resources/{result.logical_id}"],
                )
            ],
        )


def _known(value: str | None) -> str | None:
    """An account or region CDK knows; None for an environment-agnostic stack's token."""
    if not value or cdk.Token.is_unresolved(value):
        return None
    return value
