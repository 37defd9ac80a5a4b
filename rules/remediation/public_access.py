"""Runbook script for lambda-function-public-access-prohibited: remove exactly the statements the
rule flags as public, by Sid, from the function's policy and from each alias's (and, with the
rule's ``checkVersions``, each published version's) policy; every other statement stays.

Which statements: the rule's own analysis (``rules.policy.public_finding``), the same that gave
the NON_COMPLIANT verdict. A public statement of a function URL (action
``lambda:InvokeFunctionUrl``, or a ``lambda:FunctionUrlAuthType`` / ``lambda:InvokedViaFunctionUrl``
condition) is handled only with ``FixFunctionUrl=true``, because switching the URL breaks its
unsigned callers: the URL of that qualifier is switched to ``AWS_IAM`` (when it exists and has
``NONE``) and its public statements removed. Without it, such a statement is a problem the run
refuses on, before any change. A public statement without a Sid cannot be removed by
RemovePermission: refused likewise. RemovePermission answering ResourceNotFound (the statement
is already gone) is not an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from rules.aws.clients import Clients
from rules.aws.errors import AccessDeniedError
from rules.aws.inventory import qualified_policies
from rules.errors import GuardrailsError
from rules.model import LambdaFunction, PolicyStatement, ResourcePolicy, UnreadablePolicy
from rules.parameters import CHECK_VERSIONS
from rules.policy import FUNCTION_URL_KEYS, public_finding
from rules.remediation.common import (
    NOT_FOUND,
    Change,
    Context,
    Plan,
    RemediationError,
    Script,
    boolean_input,
    failure,
    handler,
    joined,
)

URL_ACTION = "lambda:invokefunctionurl"
Source = tuple[str | None, ResourcePolicy | UnreadablePolicy | None]


def policies(clients: Clients, function: LambdaFunction, *, versions: bool) -> list[Source]:
    """The function's policy and each qualifier's: (qualifier or None, policy)."""
    try:
        qualified = qualified_policies(clients.client("lambda"), function, versions=versions)
    except (ClientError, AccessDeniedError, GuardrailsError) as error:
        raise failure(function.name, "reading its aliases' policies", error) from error
    if qualified is None:
        raise RemediationError(f"function {function.name} no longer exists")
    return [(None, function.policy)] + [(q.qualifier, q.policy) for q in qualified]


def _sids(policy: ResourcePolicy | UnreadablePolicy | None) -> str:
    if policy is None:
        return "(no policy)"
    if isinstance(policy, UnreadablePolicy):
        return f"(unreadable: {policy.reason})"
    return joined([s.sid or f"#{s.position + 1}" for s in policy.statements])


def describe(clients: Clients, function: LambdaFunction) -> dict[str, str]:
    described = {"policy": _sids(function.policy)}
    for qualifier, policy in policies(clients, function, versions=True)[1:]:
        described[f"policy:{qualifier}"] = _sids(policy)
    return described


def is_url_statement(statement: PolicyStatement) -> bool:
    return any(action.lower() == URL_ACTION for action in statement.actions) or any(
        condition.key.lower() in FUNCTION_URL_KEYS for condition in statement.conditions
    )


def public_statements(function: str, source: Source) -> Iterable[PolicyStatement]:
    qualifier, policy = source
    if isinstance(policy, UnreadablePolicy):
        where = f"the policy of qualifier {qualifier}" if qualifier else "its policy"
        raise RemediationError(
            f"function {function}: {where} is unreadable ({policy.reason}): nothing is changed"
        )
    if policy is None:
        return ()
    return [statement for statement in policy.statements if public_finding(statement)]


def plan(context: Context) -> Plan:
    function = context.function
    versions = context.inputs.rule_parameters.boolean(CHECK_VERSIONS.name) is True
    fix_url = boolean_input(context.inputs.raw, "FixFunctionUrl", default=False)
    changes: list[Change] = []
    problems: list[str] = []
    for source in policies(context.clients, function, versions=versions):
        qualifier = source[0]
        where = f"qualifier {qualifier}" if qualifier else "the function"
        public = list(public_statements(function.name, source))
        url_statements = [s for s in public if is_url_statement(s)]
        if url_statements and not fix_url:
            problems.append(
                f"{where}: {', '.join(s.label for s in url_statements)} make its function URL "
                "public (auth type NONE); run with FixFunctionUrl=true to switch the URL to "
                "AWS_IAM (its callers must then sign their requests)"
            )
        elif url_statements:
            changes += _url_change(context, qualifier)
        for statement in public:
            if statement.sid is None:
                problems.append(f"{where}: public {statement.label} has no Sid to remove it by")
            elif fix_url or statement not in url_statements:
                changes.append(_removal(context, qualifier, statement.sid))
    return Plan(tuple(changes), tuple(problems))


def _url_change(context: Context, qualifier: str | None) -> list[Change]:
    function = context.function
    lambda_client = context.clients.client("lambda")
    arguments = {"FunctionName": function.arn} | ({"Qualifier": qualifier} if qualifier else {})
    where = f" (qualifier {qualifier})" if qualifier else ""
    try:
        config = lambda_client.get_function_url_config(**arguments)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == NOT_FOUND:
            return []  # no URL any more: only its leftover statements go
        raise failure(function.name, f"lambda:GetFunctionUrlConfig{where}", error) from error
    except AccessDeniedError as error:
        raise failure(function.name, f"lambda:GetFunctionUrlConfig{where}", error) from error
    if config.get("AuthType") != "NONE":
        return []

    def switch() -> None:
        context.call(
            f"lambda:UpdateFunctionUrlConfig{where}",
            lambda_client.update_function_url_config,
            AuthType="AWS_IAM",
            **arguments,
        )

    return [Change(f"switch the function URL{where} from auth type NONE to AWS_IAM", switch)]


def _removal(context: Context, qualifier: str | None, sid: str) -> Change:
    function = context.function
    arguments = {"FunctionName": function.arn, "StatementId": sid}
    if qualifier:
        arguments["Qualifier"] = qualifier
    where = f" of qualifier {qualifier}" if qualifier else ""
    what = f"lambda:RemovePermission ({sid}{where})"

    def remove() -> None:
        try:
            context.clients.client("lambda").remove_permission(**arguments)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != NOT_FOUND:
                raise failure(function.name, what, error) from error
        except AccessDeniedError as error:
            raise failure(function.name, what, error) from error

    return Change(f"remove public statement '{sid}'{where}", remove)


SCRIPT = Script("lambda-function-public-access-prohibited", describe, plan)


def script_handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """The aws:executeScript entry point (Handler: script_handler)."""
    return handler(SCRIPT, events)
