"""Resource-policy parsing and the "is this statement public?" analysis (pure).

A statement is public when its principal is ``*`` (bare, ``{"AWS": "*"}``, any principal list
holding ``*``), a wildcard or an unresolved CloudFormation value, or it uses ``NotPrincipal``,
or it names a service principal, and no condition *restricts* it. A condition restricts only
when IAM would refuse a request from anyone else: a positive operator without ``IfExists`` or
``ForAllValues:`` on a key that pins the caller or the source to something fixed; see
``restriction_problem``.

Parsing follows IAM's JSON policy grammar: a document that IAM would not accept (duplicate keys,
element names in the wrong case, a statement without a principal, a ``null`` condition value...)
is an ``UnreadablePolicy``, never a verdict.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple

from rules import json_text
from rules.adapters.common import JSON_OBJECT
from rules.model import Condition, PolicyStatement, Principal, ResourcePolicy, UnreadablePolicy

# Keys (lower-cased) that pin who calls or where the call comes from.
RESTRICTING_KEYS = frozenset(
    key.lower()
    for key in (
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:SourceArn",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "lambda:EventSourceToken",
    )
)
ARN_KEYS = frozenset({"aws:sourcearn", "aws:principalarn"})
ORG_PATH_KEYS = frozenset({"aws:principalorgpaths", "aws:sourceorgpaths"})
FUNCTION_URL_KEYS = frozenset({"lambda:functionurlauthtype", "lambda:invokedviafunctionurl"})
# In these, ``*`` and ``?`` are literal characters: the value is one exact string.
LITERAL_OPERATORS = frozenset({"stringequals", "stringequalsignorecase"})
# ``*`` and ``?`` are wildcards over the whole string, colons included.
GLOB_OPERATORS = frozenset({"stringlike"})
# IAM compares each of an ARN's six colon-separated fields on its own (ArnEquals like ArnLike).
ARN_OPERATORS = frozenset({"arnequals", "arnlike"})
RESTRICTING_OPERATORS = LITERAL_OPERATORS | GLOB_OPERATORS | ARN_OPERATORS

ACCOUNT_ID = re.compile(r"\d{12}")

# IAM's grammar: element names are case-sensitive.
POLICY_ELEMENTS = ("Version", "Id", "Statement")
STATEMENT_ELEMENTS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
PRINCIPAL_KINDS = ("AWS", "Service", "Federated", "CanonicalUser")
POLICY_VERSIONS = ("2008-10-17", "2012-10-17")
# Only this version substitutes ``${...}`` policy variables; older documents read them literally.
VARIABLES_VERSION = "2012-10-17"
# moto writes AddPermission's FunctionUrlAuthType / InvokedViaFunctionUrl as top-level statement
# keys instead of conditions; read them as the conditions real Lambda writes.
MOTO_CONDITION_ELEMENTS = {
    "FunctionUrlAuthType": ("StringEquals", "lambda:FunctionUrlAuthType"),
    "InvokedViaFunctionUrl": ("Bool", "lambda:InvokedViaFunctionUrl"),
}

# A value a CloudFormation template only knows at deploy time (``Ref`` to a parameter,
# ``Fn::ImportValue``, ...). The synth-time adapter writes it with ``unresolved_value``; the
# analysis never takes it for a fixed account, ARN or organization.
UNRESOLVED = re.compile(r"\$\{Unresolved:([^}]*)\}")
# ``${...}`` spans: policy variables, IAM's escapes ``${*}`` ``${?}`` ``${$}``, unresolved values.
_SPAN = re.compile(r"\$\{([^}]*)\}|[*?]")
_ESCAPES = frozenset({"*", "?", "$"})


def unresolved_value(description: str) -> str:
    """The marker for a value CloudFormation resolves only at deploy time, e.g. ``Ref MyParam``."""
    return "${Unresolved:" + description.replace("{", "(").replace("}", ")") + "}"


def unresolved_sources(value: str) -> list[str]:
    """What each unresolved part of ``value`` is (``Ref MyParam``); empty when none."""
    return UNRESOLVED.findall(value)


class _Malformed(Exception):
    """A policy IAM would not accept; becomes an ``UnreadablePolicy`` at ``parse_policy``."""


def parse_policy(document: Any) -> ResourcePolicy | UnreadablePolicy | None:
    """Parse a resource policy given as a JSON string or an already-decoded object.

    ``None`` / empty string / JSON ``null`` means the function has no resource policy."""
    try:
        return _parse_document(document)
    except _Malformed as problem:
        return UnreadablePolicy(str(problem))


def _parse_document(document: Any) -> ResourcePolicy | None:
    if document is None or document == "":
        return None
    if isinstance(document, str):
        document = _decode(document)
        # Some sources encode the policy string once more; JSON null is "no policy".
        if document is None or isinstance(document, str):
            return _parse_document(document)
    return _parse_object(document)


def _decode(text: str) -> Any:
    # Strict: duplicate keys (a second "Condition" would hide the first), NaN, deep nesting.
    try:
        return json_text.loads(text)
    except ValueError as error:
        raise _Malformed(f"resource policy is not valid JSON ({error})") from None


def _parse_object(document: Any) -> ResourcePolicy:
    if not isinstance(document, JSON_OBJECT):
        raise _Malformed(f"resource policy is a {_kind(document)}, not an object")
    _check_element_names(document, POLICY_ELEMENTS, "resource policy")
    version = document.get("Version", POLICY_VERSIONS[0])
    if version not in POLICY_VERSIONS:
        raise _Malformed(f"resource policy Version {_shown(version)} is not one IAM knows")
    if "Statement" not in document:
        raise _Malformed("resource policy has no Statement")
    raw_statements = document["Statement"]
    if isinstance(raw_statements, JSON_OBJECT):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        raise _Malformed("resource policy Statement is neither a list nor an object")
    variables = version == VARIABLES_VERSION
    return ResourcePolicy(
        tuple(_parse_statement(index, raw, variables) for index, raw in enumerate(raw_statements))
    )


def _check_element_names(raw: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for name in raw:
        if name in allowed:
            continue
        spelled = next((known for known in allowed if known.lower() == str(name).lower()), None)
        if spelled is not None:
            raise _Malformed(
                f"{where} has element '{name}': IAM element names are case-sensitive "
                f"(it must be '{spelled}')"
            )
        raise _Malformed(f"{where} has element '{name}', which IAM's policy grammar does not know")


def _parse_statement(index: int, raw: Any, variables: bool) -> PolicyStatement:
    where = f"statement #{index + 1}"
    if not isinstance(raw, JSON_OBJECT):
        raise _Malformed(f"{where} is not an object")
    _check_element_names(raw, STATEMENT_ELEMENTS + tuple(MOTO_CONDITION_ELEMENTS), where)
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        shown = "no Effect" if "Effect" not in raw else f"Effect {_shown(effect)}"
        raise _Malformed(f'{where} has {shown}; it must be "Allow" or "Deny"')
    principal_element = _element(raw, "Principal", "NotPrincipal", where)
    if principal_element is None:
        raise _Malformed(f"{where} has neither Principal nor NotPrincipal")
    action_element = _element(raw, "Action", "NotAction", where)
    if action_element is None:
        raise _Malformed(f"{where} has neither Action nor NotAction")
    # Resource is left optional: IAM's trust policies omit it, and nothing here depends on it.
    resource_element = _element(raw, "Resource", "NotResource", where)
    if resource_element is not None:
        _strings(raw[resource_element], f"{where} {resource_element}")
    sid = raw.get("Sid")
    if sid is not None and (isinstance(sid, bool) or not isinstance(sid, str | int)):
        raise _Malformed(f"{where} Sid is a {_kind(sid)}, not a string")
    conditions = _parse_conditions(raw.get("Condition", {}), where, variables)
    for element, (operator, key) in MOTO_CONDITION_ELEMENTS.items():
        if element in raw:
            values = _condition_values(raw[element], f"{where} {element}")
            conditions.append(Condition(operator, key, values))
    return PolicyStatement(
        position=index,
        sid=str(sid) if sid not in (None, "") else None,
        effect=effect,
        principals=_parse_principals(raw[principal_element], f"{where} {principal_element}"),
        uses_not_principal=principal_element == "NotPrincipal",
        actions=_strings(raw[action_element], f"{where} {action_element}"),
        conditions=tuple(conditions),
    )


def _element(raw: Mapping[str, Any], element: str, negated: str, where: str) -> str | None:
    """Which of an element and its ``Not`` form the statement uses; IAM allows one at most."""
    if element in raw and negated in raw:
        raise _Malformed(f"{where} has both {element} and {negated}")
    if element in raw:
        return element
    return negated if negated in raw else None


def _strings(value: Any, where: str) -> tuple[str, ...]:
    """A string or a non-empty list of strings (``action_string_list``, ``principal_id_string``)."""
    if type(value) is str:  # the common case, first
        return (value,)
    if isinstance(value, list) and value and all(type(item) is str for item in value):
        return tuple(value)
    if isinstance(value, list) and value:
        bad = next(item for item in value if type(item) is not str)
        raise _Malformed(f"{where} holds a {_kind(bad)} where a string must be")
    raise _Malformed(f"{where} is {_described(value)}, not a string or a list of strings")


def _parse_principals(raw: Any, where: str) -> tuple[Principal, ...]:
    if isinstance(raw, JSON_OBJECT):
        if not raw:
            raise _Malformed(f"{where} is an empty object")
        _check_element_names(raw, PRINCIPAL_KINDS, where)
        return tuple(
            Principal(kind, value)
            for kind, values in raw.items()
            for value in _strings(values, f"{where} {kind}")
        )
    # IAM's grammar allows only "*" here; moto also writes a bare account id, which Lambda
    # itself would have turned into {"AWS": "arn:aws:iam::<account>:root"}. Anything else (a
    # bare service name) is a policy IAM would not accept: no verdict, never "not public".
    values = _strings(raw, where)
    for value in values:
        if value != "*" and not ACCOUNT_ID.fullmatch(value):
            raise _Malformed(
                f'{where} is the bare string {_shown(value)}: IAM takes only "*" there '
                "(others need a key: AWS, Service, Federated, CanonicalUser)"
            )
    return tuple(Principal("*", value) for value in values)


def _parse_conditions(raw: Any, where: str, variables: bool) -> list[Condition]:
    if not isinstance(raw, JSON_OBJECT):
        raise _Malformed(f"{where} has a Condition that is {_described(raw)}, not an object")
    conditions = []
    for operator, block in raw.items():
        if not isinstance(block, JSON_OBJECT):
            raise _Malformed(f"{where} condition operator {operator} is not an object")
        for key, values in block.items():
            parsed = _condition_values(values, f"{where} condition {operator} {key}")
            if not variables:
                # The model carries no Version: spell the literal "$" as IAM's escape "${$}",
                # which means the same text under 2012-10-17, so no variable is read into it.
                parsed = tuple(value.replace("$", "${$}") for value in parsed)
            conditions.append(Condition(operator, key, parsed))
    return conditions


def _condition_values(value: Any, where: str) -> tuple[str, ...]:
    """IAM's ``condition_value_list``: strings, and numbers and Booleans, whose quotes IAM's
    grammar makes optional (``"Bool": {"aws:SecureTransport": true}``); read as their text."""
    items = value if isinstance(value, list) else [value]
    values = []
    for item in items:
        if type(item) is str:
            values.append(item)
        elif isinstance(item, bool):
            values.append("true" if item else "false")
        elif isinstance(item, int | float):
            values.append(str(item))
        else:
            raise _Malformed(
                f"{where} holds {_described(item)} where a string, number or Boolean must be"
            )
    return tuple(values)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, JSON_OBJECT):
        return "object"
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int | float):
        return "number"
    return "string"


def _described(value: Any) -> str:
    kind = _kind(value)
    if isinstance(value, list | dict) and not value:
        return f"an empty {kind}"
    return "null" if kind == "null" else f"an {kind}" if kind[0] in "aeiouAEIOU" else f"a {kind}"


def _shown(value: Any) -> str:
    text = _described(value) if isinstance(value, (*JSON_OBJECT, list)) else json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True, slots=True)
class PublicFinding:
    """Why one Allow statement is public: what it grants to whom, and why no condition helps."""

    statement: PolicyStatement
    grantee: str
    reason: str

    def describe(self) -> str:
        actions = ",".join(self.statement.actions) or "no action"
        return f"{self.statement.label} allows {self.grantee} {actions} {self.reason}"


def public_finding(statement: PolicyStatement) -> PublicFinding | None:
    """Return why ``statement`` is public, or None when it is not."""
    if statement.effect.lower() != "allow":
        return None
    grantee = _risky_grantee(statement)
    if grantee is None:
        return None
    problems = []
    for condition in statement.conditions:
        problem = restriction_problem(condition)
        if problem is None:
            return None
        problems.append(problem)
    reason = "without a restricting condition: " + "; ".join(problems)
    return PublicFinding(statement, grantee, reason if problems else "without a condition")


def _risky_grantee(statement: PolicyStatement) -> str | None:
    if statement.uses_not_principal:
        return "every principal but those in NotPrincipal"
    if any(principal.value == "*" for principal in statement.principals):
        return "Principal '*'"
    for principal in statement.principals:
        sources = unresolved_sources(principal.value)
        if sources:
            return f"a principal that is an unresolved CloudFormation value ({sources[0]})"
    # IAM refuses partial wildcards in principals; a source that carries one anyway is treated
    # as the wildcard it spells rather than as one named account.
    wildcards = [p.value for p in statement.principals if "*" in p.value or "?" in p.value]
    if wildcards:
        return f"wildcard principal '{wildcards[0]}'"
    services = [p.value for p in statement.principals if p.kind.lower() == "service"]
    if services:
        return "service " + ",".join(services)
    return None


def restriction_problem(condition: Condition) -> str | None:
    """None when ``condition`` restricts the statement, else why it does not."""
    key = condition.key.lower()
    if key in FUNCTION_URL_KEYS:
        return f"{condition.key} never restricts (function URL auth type NONE is public)"
    if key not in RESTRICTING_KEYS:
        return f"{condition.key} does not restrict the caller or source"
    operator = condition.operator.lower()
    if operator.startswith("forallvalues:"):
        # ForAllValues is true for a request that lacks the key altogether.
        return f"{condition.operator} on {condition.key} matches a request without the key"
    # ForAnyValue: on a single-valued key compares its one value, and is false without it.
    operator = operator.removeprefix("foranyvalue:")
    if operator.endswith("ifexists"):
        return f"{condition.operator} on {condition.key} lets a request without the key through"
    if operator not in RESTRICTING_OPERATORS:
        return f"{condition.operator} on {condition.key} is not a positive match"
    if not condition.values:
        return f"{condition.key} has no value"
    for value in condition.values:
        problem = _value_problem(key, operator, value)
        if problem:
            sources = unresolved_sources(value)
            if sources:  # the intrinsic names the value better than its marker does
                return (
                    f"{condition.key} depends on an unresolved CloudFormation value ({sources[0]})"
                )
            return f"{condition.key} value '{value}' {problem}"
    return None


class _Open(NamedTuple):
    """A part of a value that matches more than one text: a wildcard or a variable."""

    what: str


def _tokens(value: str, wildcards: bool) -> list[str | _Open]:
    """``value`` as IAM matches it: literal characters, and ``_Open`` for each part that is not
    fixed (a wildcard where the operator has them, a policy variable, an unresolved value)."""
    tokens: list[str | _Open] = []
    position = 0
    for match in _SPAN.finditer(value):
        tokens.extend(value[position : match.start()])
        position = match.end()
        name = match.group(1)
        if name is None:  # a bare * or ?
            tokens.append(_Open("a wildcard") if wildcards else match.group())
        elif name in _ESCAPES:
            tokens.append(name)
        elif UNRESOLVED.fullmatch(match.group()):
            tokens.append(_Open("an unresolved CloudFormation value"))
        else:
            tokens.append(_Open("a policy variable"))
    tokens.extend(value[position:])
    return tokens


def _first_open(tokens: list[str | _Open]) -> _Open | None:
    return next((token for token in tokens if isinstance(token, _Open)), None)


def _value_problem(key: str, operator: str, value: str) -> str | None:
    # Fast paths for the common cases (the hot path of a fleet sweep): plain text, and an ARN
    # whose fields up to the account are plain text (what varies after it cannot move it).
    if key in ARN_KEYS:
        parts = value.split(":", 5)
        if len(parts) == 6 and not any(map(_varies, parts[:5])):
            return None if ACCOUNT_ID.fullmatch(parts[4]) else "has no fixed 12-digit account"
    elif not _varies(value):
        return None
    return _open_value_problem(key, operator, value)


def _varies(text: str) -> bool:
    """Whether ``text`` holds a wildcard character or a ``${...}`` span (which may vary)."""
    return "*" in text or "?" in text or "${" in text


def _open_value_problem(key: str, operator: str, value: str) -> str | None:
    """``_value_problem`` for a value with a wildcard character or a ``${...}`` span."""
    tokens = _tokens(value, wildcards=operator not in LITERAL_OPERATORS)
    if key in ARN_KEYS:
        return _arn_problem(tokens, segment_wise=operator in ARN_OPERATORS)
    opened = _first_open(tokens)
    if opened is None:
        return None
    if key in ORG_PATH_KEYS:
        # A path starts with the organization id: fixed up to its first "/", the rest may vary.
        prefix = tokens[: tokens.index(opened)]
        if "/" in prefix and prefix.index("/") > 0:
            return None
        return f"has {opened.what} inside the organization id"
    return f"has {opened.what}"


def _arn_problem(tokens: list[str | _Open], segment_wise: bool) -> str | None:
    """None when the ARN pins a fixed 12-digit account, whatever varies in its other fields."""
    fields: list[list[str | _Open]] = [[]]
    for token in tokens:
        if token == ":" and len(fields) < 6:
            fields.append([])
        else:
            fields[-1].append(token)
    if len(fields) < 6:
        opened = _first_open(tokens)
        return f"has {opened.what} and is not an ARN" if opened else "is not an ARN"
    for field in fields[:4]:
        opened = _first_open(field)
        # ArnLike/ArnEquals match each field apart, so a wildcard stays in its field; a glob's
        # "*" or a variable's value may span colons and move the account field.
        if opened is not None and not (segment_wise and opened.what == "a wildcard"):
            return f"has {opened.what} before the account field"
    account = fields[4]
    opened = _first_open(account)
    if opened is not None:
        return f"has {opened.what} in the account field"
    if not ACCOUNT_ID.fullmatch("".join(str(token) for token in account)):
        return "has no fixed 12-digit account"
    return None
