"""The rules over one CloudFormation template: what the cdk-nag pack and ``check-template`` run.

Every ``AWS::Lambda::Function`` of the template (``rules.adapters.cloudformation``) gets one
verdict per rule, keyed by its logical id. Two template-only cases never become COMPLIANT by
default:

- A value the template computes only at deploy time (a ``Ref`` to a parameter, ``Fn::If``, an
  imported value) that decides a verdict: NON_COMPLIANT with an annotation naming it, and
  ``decided_by_unknown`` set, so a caller that asks for it can report an UNKNOWN level instead.
  A check that cannot decide without such a value (``UnknownFieldError``) is the same.
- A permission or function URL whose function is not in the template (an imported function):
  judged on what it holds, as if it were the function's only grant, by the public-access rule.
  Its other grants are judged where the function is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rules.adapters.cloudformation import (
    FUNCTION,
    PERMISSION,
    StackEnvironment,
    UnattributedResource,
    read_template,
)
from rules.errors import InvalidInputError, UnknownFieldError
from rules.model import LAMBDA_FUNCTION, Compliance, Evaluation, LambdaFunction, Verdict
from rules.parameters import Parameters
from rules.policy import unresolved_sources
from rules.rule import Rule

PUBLIC_ACCESS = "lambda-function-public-access-prohibited"
# The stand-in function an unattributed permission or URL is judged on.
STAND_IN = "GuardrailsStandInFunction"
UNKNOWN_LEVEL = "UNKNOWN"


@dataclass(frozen=True, slots=True)
class TemplateResult:
    """One rule's verdict on one resource of the template, by logical id."""

    logical_id: str
    evaluation: Evaluation
    # NON_COMPLIANT because a value known only at deploy time decided it.
    decided_by_unknown: bool = False

    @property
    def level(self) -> str:
        """The compliance to report when UNKNOWN is asked for: UNKNOWN for a verdict an
        unresolved value decided, else the evaluation's compliance."""
        return UNKNOWN_LEVEL if self.decided_by_unknown else self.evaluation.compliance.value


def evaluate_template(
    template: Mapping[str, Any],
    rules: Sequence[Rule],
    parameters: Mapping[str, Parameters],
    environment: StackEnvironment | None = None,
) -> list[TemplateResult]:
    """Every rule on every function of ``template``, then the public-access rule on each
    permission/URL whose function is not in it. ``InvalidInputError`` for a template that is no
    CloudFormation template (no ``Resources`` object)."""
    resources = template.get("Resources")
    if not isinstance(resources, Mapping):
        raise InvalidInputError("not a CloudFormation template: no Resources object")
    _refuse_untransformed(template, resources)
    models = read_template(template, environment)
    results = [
        _evaluate(rule, logical_id, function, parameters[rule.id])
        for logical_id, function in models.functions.items()
        for rule in rules
    ]
    public = next((rule for rule in rules if rule.id == PUBLIC_ACCESS), None)
    if public is not None:
        results += [
            _unattributed(public, item, template, parameters[public.id], environment)
            for item in models.unattributed
        ]
    return results


def _refuse_untransformed(template: Mapping[str, Any], resources: Mapping[str, Any]) -> None:
    """A SAM template before its transform holds no ``AWS::Lambda::Function`` to judge."""
    serverless = sorted(
        logical_id
        for logical_id, resource in resources.items()
        if isinstance(resource, Mapping)
        and str(resource.get("Type", "")).startswith("AWS::Serverless::")
    )
    if serverless:
        raise InvalidInputError(
            f"{', '.join(serverless)}: AWS::Serverless::* resources (transform "
            f"{template.get('Transform')!r}) must be transformed first: check the processed "
            "template (sam build, or aws cloudformation get-template --template-stage Processed)"
        )


def _evaluate(
    rule: Rule, logical_id: str, function: LambdaFunction, parameters: Parameters
) -> TemplateResult:
    try:
        verdict = rule.check(function, parameters)
    except UnknownFieldError as error:
        # Only a value the template computes leaves a field unknown here (an Environment given
        # by Fn::If, a key given by a parameter): it decides, so it fails closed.
        verdict = Verdict(
            Compliance.NON_COMPLIANT,
            f"{error.reason}; the template sets it only at deploy time, so it counts as "
            "non-compliant",
        )
        return TemplateResult(logical_id, _evaluation(rule, logical_id, verdict), True)
    unknown = verdict.compliance is Compliance.NON_COMPLIANT and _names_unresolved(
        verdict.annotation, function
    )
    return TemplateResult(logical_id, _evaluation(rule, logical_id, verdict), unknown)


def _names_unresolved(annotation: str, function: LambdaFunction) -> bool:
    """Whether the annotation names a value of the model the template leaves unresolved."""
    return bool(unresolved_sources(annotation)) or any(
        source in annotation for source in _unresolved_in(function)
    )


def _unresolved_in(value: Any) -> Iterator[str]:
    """The description of every unresolved value held anywhere in a model."""
    if isinstance(value, str):
        yield from unresolved_sources(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _unresolved_in(getattr(value, field.name))
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _unresolved_in(item)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _unresolved_in(item)


def _unattributed(
    rule: Rule,
    item: UnattributedResource,
    template: Mapping[str, Any],
    parameters: Parameters,
    environment: StackEnvironment | None,
) -> TemplateResult:
    """The public-access verdict on ``item``'s own grant: the template with ``item`` pointed at
    a stand-in function that has no other grant."""
    resources = dict(template["Resources"])
    stand_in = STAND_IN
    while stand_in in resources:
        stand_in += "X"
    resource = dict(resources[item.logical_id])
    target = "FunctionName" if item.resource_type == PERMISSION else "TargetFunctionArn"
    resource["Properties"] = {**resource.get("Properties", {}), target: {"Ref": stand_in}}
    resources[item.logical_id] = resource
    resources[stand_in] = {"Type": FUNCTION, "Properties": {}}
    function = read_template({**template, "Resources": resources}, environment).functions[stand_in]
    verdict = rule.check(function, parameters)
    annotation = (
        f"{item.describe()}: the function is not in this template, so this grant is judged "
        f"alone: {verdict.annotation.replace(stand_in, item.target)}"
    )
    evaluation = Evaluation(
        rule_id=rule.id,
        resource_id=item.logical_id,
        resource_type=item.resource_type,
        compliance=verdict.compliance,
        annotation=annotation,
    )
    unknown = verdict.compliance is Compliance.NON_COMPLIANT and _names_unresolved(
        verdict.annotation, function
    )
    return TemplateResult(item.logical_id, evaluation, unknown)


def _evaluation(rule: Rule, logical_id: str, verdict: Verdict) -> Evaluation:
    return Evaluation(
        rule_id=rule.id,
        resource_id=logical_id,
        resource_type=LAMBDA_FUNCTION,
        compliance=verdict.compliance,
        annotation=verdict.annotation,
    )
