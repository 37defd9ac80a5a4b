"""The rules over one CloudFormation template: what the cdk-nag pack and ``check-template`` run.

Every ``AWS::Lambda::Function`` of the template (``rules.adapters.cloudformation``) gets one
verdict per rule, keyed by its logical id. Two template-only cases never become COMPLIANT by
default:

- A value the template computes only at deploy time (a ``Ref`` to a parameter, ``Fn::If``, an
  imported value) that decides a verdict: NON_COMPLIANT with an annotation naming it, and
  ``decided_by_unknown`` set, so a caller that asks for it can report an UNKNOWN level instead
  (the adapter's semantics: ``evaluate_template_function`` takes unknowns at their worst and
  names those that decide).
- A permission or function URL whose function is not in the template (an imported function):
  judged on what it holds, as if it were the function's only grant, by the public-access rule.
  Its other grants are judged where the function is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rules.adapters.cloudformation import (
    FUNCTION,
    PERMISSION,
    StackEnvironment,
    UnattributedResource,
    read_template,
)
from rules.adapters.cloudformation_unknowns import evaluate_template_function
from rules.errors import InvalidInputError
from rules.model import Evaluation
from rules.parameters import Parameters
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

    @property
    def decided_by_unknown(self) -> bool:
        """NON_COMPLIANT because a value known only at deploy time decided it."""
        return self.evaluation.decided_by_unresolved

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
    if not isinstance(template.get("Resources"), Mapping):
        raise InvalidInputError("not a CloudFormation template: no Resources object")
    models = read_template(template, environment)  # refuses an untransformed SAM template
    results = [
        TemplateResult(
            logical_id,
            evaluate_template_function(
                rule,
                function,
                models.unknowns.get(logical_id, ()),
                parameters[rule.id],
                resource_id=logical_id,
            ),
        )
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
    models = read_template({**template, "Resources": resources}, environment)
    verdict = evaluate_template_function(
        rule, models.functions[stand_in], models.unknowns.get(stand_in, ()), parameters
    )
    annotation = (
        f"{item.describe()}: the function is not among the resources read, so this grant is judged "
        f"alone: {verdict.annotation.replace(stand_in, item.target)}"
    )
    evaluation = Evaluation(
        rule_id=rule.id,
        resource_id=item.logical_id,
        resource_type=item.resource_type,
        compliance=verdict.compliance,
        annotation=annotation,
        unresolved=verdict.unresolved,
    )
    return TemplateResult(item.logical_id, evaluation)
