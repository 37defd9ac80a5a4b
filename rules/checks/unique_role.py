from __future__ import annotations

import re

from rules.errors import InvalidInputError, UnknownFieldError
from rules.model import Compliance, LambdaFunction, Verdict
from rules.parameters import ParameterKind, Parameters, ParameterSpec, ValueFormat
from rules.rule import Field, Rule, Severity

SHARED_ROLES = ParameterSpec(
    "sharedRoles",
    ParameterKind.CSV,
    "Comma-separated execution roles (names or ARNs) allowed to be shared by several functions.",
    ValueFormat(
        re.compile(r"(?:arn:aws[a-z-]*:iam::\d{12}:role/)?[\w+=,.@/-]{1,512}"),
        "an IAM role name or ARN",
    ),
)
NAMED = 3  # functions named in the annotation; the rest are counted (Config keeps 256 chars)


def check_unique_role(function: LambdaFunction, parameters: Parameters) -> Verdict:
    """NON_COMPLIANT when another function uses the same execution role, naming the first few
    of them and the count; roles in ``sharedRoles`` (by name or ARN) may be shared.

    Only a view of every function tells (``function.role_peers``, derived from the inventory
    by the periodic sweep or from a whole template): without one, ``UnknownFieldError``.
    Functions that could not be read give no verdict where no peer was found; a template's
    view holds only its own functions, so there no peer is NOT_APPLICABLE, never COMPLIANT."""
    role = function.role
    if not role:
        # Lambda requires a role: only a partial source (a bare template resource) lacks one.
        return Verdict(Compliance.NOT_APPLICABLE, "no execution role is given: nothing to compare")
    allowed = parameters.csv(SHARED_ROLES.name) or ()
    if role in allowed or role_name(role) in allowed:
        return Verdict(Compliance.COMPLIANT, f"execution role {role} is in {SHARED_ROLES.name}")
    peers = function.role_peers
    if peers is None:
        raise UnknownFieldError(
            Field.ROLE_PEERS.value,
            f"function {function.name}: which other functions use role {role} is unknown "
            "(only the periodic evaluation, which reads every function, knows)",
        )
    if peers.names:
        shown = ", ".join(peers.names[:NAMED])
        more = f" and {len(peers.names) - NAMED} more" if len(peers.names) > NAMED else ""
        return Verdict(
            Compliance.NON_COMPLIANT,
            f"execution role {role_name(role)} is shared with {len(peers.names)} other "
            f"function(s) of {peers.scope}: {shown}{more}",
        )
    if peers.unread:
        raise InvalidInputError(
            f"function {function.name}: {peers.unread} function(s) of {peers.scope} could not "
            f"be read, so whether one shares role {role} is unknown"
        )
    if not peers.whole_account:
        return Verdict(
            Compliance.NOT_APPLICABLE,
            f"no other function of {peers.scope} uses execution role {role_name(role)}; "
            "functions deployed elsewhere are compared by the periodic evaluation",
        )
    return Verdict(
        Compliance.COMPLIANT,
        f"no other function of {peers.scope} uses execution role {role_name(role)}",
    )


def role_name(role: str) -> str:
    """``arn:aws:iam::111122223333:role/path/name`` -> ``name`` (IAM role names are unique
    in an account whatever their path)."""
    return role.rsplit("/", 1)[-1]


RULE = Rule(
    id="lambda-unique-execution-role",
    title="Lambda functions do not share execution roles",
    description=(
        "Checks that no other function of the account and Region uses the function's execution "
        "role (AWS's least-privilege guidance: one role per function), except roles listed in "
        "sharedRoles. Periodic only: it compares every function."
    ),
    severity=Severity.LOW,
    check=check_unique_role,
    remediation=(
        "Give each function its own execution role holding only what that function calls (CDK "
        "and SAM create one per function unless a role is passed in)."
    ),
    documentation_url="https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html",
    parameters=(SHARED_ROLES,),
    periodic_reads=frozenset({Field.ROLE_PEERS}),
    default_periodic_frequency="TwentyFour_Hours",
    change_triggered=False,
)
