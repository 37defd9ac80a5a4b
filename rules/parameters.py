"""Rule parameters: their declared types and the validation of what Config passes in.

AWS Config hands a custom rule its parameters as one JSON object of strings (``ruleParameters``).
Each rule declares its parameters once (``ParameterSpec``); ``parse_parameters`` turns the raw
object into ``Parameters`` with typed accessors, or raises ``InvalidParameterError`` naming the
parameter and the value received.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping

from rules.errors import InvalidParameterError

if TYPE_CHECKING:
    from rules.rule import Rule


class ParameterKind(enum.StrEnum):
    CSV = "comma-separated list"
    INTEGER = "integer"
    STRING = "string"
    BOOLEAN = "boolean"


@dataclass(frozen=True, slots=True)
class ValueFormat:
    pattern: re.Pattern[str]
    description: str

    def problem(self, value: str) -> str | None:
        return None if self.pattern.fullmatch(value) else f"expected {self.description}"


PARTITION = r"aws(?:-[a-z]+)*"
REGION = r"[a-z]{2,4}(?:-[a-z]+)+-\d+"
SUBNET_ID = ValueFormat(re.compile(r"subnet-[0-9a-f]{8,17}"), "a subnet id like subnet-0a1b2c3d")
# Key ARNs only: an alias can be repointed to another key, so an allow-list must name keys.
# Key ids are UUIDs, or mrk-<32 hex> for multi-Region keys.
KMS_KEY_ARN = ValueFormat(
    re.compile(
        rf"arn:{PARTITION}:kms:{REGION}:\d{{12}}:key/"
        r"(?:[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32})"
    ),
    "a KMS key ARN like arn:aws:kms:us-east-1:111122223333:key/<key-id> (not an alias ARN: "
    "an alias can be repointed to another key)",
)
DLQ_ARN = ValueFormat(
    re.compile(rf"arn:{PARTITION}:(?:sqs|sns):{REGION}:\d{{12}}:[A-Za-z0-9_.-]{{1,256}}"),
    "an SQS queue or SNS topic ARN like arn:aws:sqs:us-east-1:111122223333:my-dlq",
)
ROLE_NAME = ValueFormat(re.compile(r"[\w+=,.@/-]{1,512}"), "an IAM role name (or path/name)")
# ASCII digits only: Python's \d and int() also take other scripts' digits (U+0665, U+FF15).
INTEGER = re.compile(r"[+-]?[0-9]+")
# Enough for any count Lambda or Config has; longer text is a typo or an attack on int().
INTEGER_MAX_DIGITS = 10
# Config passes every parameter as text; only these spellings mean a boolean.
BOOLEANS = {"true": True, "false": False}


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    name: str
    kind: ParameterKind
    description: str
    value_format: ValueFormat | None = None
    minimum: int | None = None
    # Defaults are documented, never injected: an unset optional parameter means "no constraint".
    default: str | None = None


# Parameters every rule accepts, consumed by the handler rather than by a check.
EXECUTION_ROLE_NAME = ParameterSpec(
    "ExecutionRoleName",
    ParameterKind.STRING,
    "Organization mode: the role the rule assumes in the function's account for reads, "
    "PutEvaluations and BatchImportFindings.",
    ROLE_NAME,
)
COMMON_PARAMETERS: tuple[ParameterSpec, ...] = (EXECUTION_ROLE_NAME,)

# Read by the AWS edge (which published versions' policies to fetch), declared by the rules
# that look at qualified policies.
CHECK_VERSIONS = ParameterSpec(
    "checkVersions",
    ParameterKind.BOOLEAN,
    "Periodic evaluations also read every published version's resource policy "
    "(one GetPolicy call per version), not only each alias's.",
    default="false",
)


@dataclass(frozen=True, slots=True)
class Parameters:
    """Validated parameter values; unset optional parameters are absent."""

    values: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    # The evaluation date checks compare dates with (lambda-runtime-supported): the caller's
    # (the handler passes its invocation's time), else the UTC date when these parameters were
    # built. No check reads a clock.
    today: date = field(default_factory=lambda: utc_today())  # noqa: PLW0108 - defined below

    def csv(self, name: str) -> tuple[str, ...] | None:
        value = self.values.get(name)
        return value if isinstance(value, tuple) else None

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        return value if isinstance(value, int) else None

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        return value if isinstance(value, str) else None

    def boolean(self, name: str) -> bool | None:
        value = self.values.get(name)
        return value if isinstance(value, bool) else None


def utc_today() -> date:
    """The current UTC date: the evaluation date of parameters built without one."""
    return datetime.now(UTC).date()


# Built at import: its evaluation date is the import's. Long-lived callers build their own.
NO_PARAMETERS = Parameters()


def parse_parameters(
    rule: Rule, raw: Mapping[str, Any] | None, *, today: date | None = None
) -> Parameters:
    """Validate ``raw`` (the decoded ``ruleParameters``) against ``rule``'s declared parameters.

    ``today`` is the evaluation date (``Parameters.today``): the caller's (the handler passes
    its invocation's time), else the current UTC date, read here, at the edge where an
    evaluation's inputs are gathered, so no check reads a clock."""
    specs = {spec.name: spec for spec in (*rule.parameters, *COMMON_PARAMETERS)}
    values: dict[str, Any] = {}
    for name, value in (raw or {}).items():
        spec = specs.get(name)
        if spec is None:
            known = ", ".join(sorted(specs)) or "none"
            raise InvalidParameterError(rule.id, name, value, f"unknown parameter (known: {known})")
        parsed = _parse_value(rule.id, spec, value)
        if parsed is not None:
            values[name] = parsed
    parameters = Parameters(MappingProxyType(values), today or utc_today())
    if rule.validate_parameters is not None:
        try:
            rule.validate_parameters(rule.id, parameters)
        except InvalidParameterError as error:
            # Name the value as it was received ("10"), not as parsed (10).
            received = (raw or {}).get(error.name, error.value)
            raise InvalidParameterError(rule.id, error.name, received, error.reason) from None
    return parameters


def _parse_value(rule_id: str, spec: ParameterSpec, value: Any) -> Any:
    def invalid(reason: str) -> InvalidParameterError:
        return InvalidParameterError(rule_id, spec.name, value, reason)

    if value is None:
        return None
    if spec.kind is ParameterKind.INTEGER:
        return _parse_integer(spec, value, invalid)
    if spec.kind is ParameterKind.BOOLEAN:
        return _parse_boolean(value, invalid)
    if not isinstance(value, str):
        raise invalid(f"expected a string ({spec.kind.value}), got {type(value).__name__}")
    if spec.kind is ParameterKind.STRING:
        text = value.strip()
        if not text:
            return None
        if spec.value_format and (problem := spec.value_format.problem(text)):
            raise invalid(problem)
        return text
    if not value.strip():
        return None  # "" (or blank) is how Config's console and templates leave it unset
    items = tuple(item.strip() for item in value.split(",") if item.strip())
    if not items:
        raise invalid("the list has no items (only commas and blanks)")
    for item in items:
        if spec.value_format and (problem := spec.value_format.problem(item)):
            raise invalid(f"item '{item}': {problem}")
    return items


def _parse_boolean(value: Any, invalid: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise invalid("expected true or false")
    text = value.strip().lower()
    if not text:
        return None
    if text not in BOOLEANS:
        raise invalid("expected true or false")
    return BOOLEANS[text]


def _parse_integer(spec: ParameterSpec, value: Any, invalid: Any) -> int | None:
    if isinstance(value, bool):
        raise invalid("expected an integer, got a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if not INTEGER.fullmatch(text):
            raise invalid("expected an integer (ASCII digits 0-9)")
        if len(text.lstrip("+-")) > INTEGER_MAX_DIGITS:
            raise invalid(f"expected an integer of at most {INTEGER_MAX_DIGITS} digits")
        number = int(text)
    else:
        raise invalid("expected an integer")
    # Compared as a number: str() of a huge int would itself raise.
    if abs(number) >= 10**INTEGER_MAX_DIGITS:
        raise invalid(f"expected an integer of at most {INTEGER_MAX_DIGITS} digits")
    if spec.minimum is not None and number < spec.minimum:
        raise invalid(f"must be at least {spec.minimum}")
    return number
