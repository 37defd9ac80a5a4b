"""Evaluating with the reads Config cannot give: the one place a check's ``UnknownFieldError``
turns into a Lambda API read (handler and scan CLI alike)."""

from __future__ import annotations

from dataclasses import replace

from rules.aws.inventory import ClientSource, environment_variable_names, qualified_policies
from rules.engine import evaluate_function
from rules.errors import UnknownFieldError
from rules.model import LAMBDA_FUNCTION, Compliance, Evaluation, LambdaFunction
from rules.parameters import CHECK_VERSIONS, Parameters
from rules.rule import Field, Rule

GONE = "function no longer exists"


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
) -> Evaluation:
    """``rule`` over ``function``; when the check needs the environment variables and the model
    does not know them, one GetFunctionConfiguration call supplies their names. ``periodic``
    evaluations (the sweep, ``scan``) also read what Config sends no change event for
    (``Rule.periodic_reads``). Other errors propagate (no verdict)."""
    if (
        periodic
        and Field.QUALIFIED_POLICIES in rule.periodic_reads
        and function.qualified_policies is None
    ):
        versions = parameters.boolean(CHECK_VERSIONS.name) is True
        policies = qualified_policies(clients.client("lambda"), function, versions=versions)
        if policies is None:
            return gone(rule, resource_id or function.name)
        function = replace(function, qualified_policies=policies)
    try:
        return evaluate_function(rule, function, parameters, resource_id=resource_id)
    except UnknownFieldError as error:
        if error.field != Field.ENVIRONMENT.value:
            raise
    names = environment_variable_names(clients.client("lambda"), function)
    if names is None:
        return gone(rule, resource_id or function.name)
    known = replace(function, environment_variable_names=names)
    return evaluate_function(rule, known, parameters, resource_id=resource_id)
