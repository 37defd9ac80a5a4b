"""Small readers shared by the adapters: JSON-in-a-string, case-insensitive keys, ARN parts."""

from __future__ import annotations

import collections.abc
from types import MappingProxyType
from typing import Any, Mapping, NamedTuple

from rules import json_text
from rules.errors import InvalidInputError
from rules.model import EMPTY_TAGS

# For isinstance on hot paths: decoded JSON is a dict, which matches the first (cheap) entry.
JSON_OBJECT = (dict, collections.abc.Mapping)


def decode_json_string(value: Any, what: str) -> Any:
    """Config's history/batch APIs send some values as JSON text; the event sends objects."""
    if isinstance(value, str):
        try:
            return json_text.loads(value) if value else None
        except ValueError as error:
            raise InvalidInputError(f"{what} is not valid JSON ({error})") from None
    return value


def get_ignoring_case(mapping: Mapping[str, Any], name: str) -> Any:
    """The value of the one key equal to ``name`` ignoring case (sources spell some fields
    differently), None when there is none. Two such keys (``Error`` and ``error``) are
    unreadable: one could hide the other."""
    lowered = name.lower()
    found = [key for key in mapping if key.lower() == lowered]
    if len(found) > 1:
        spelled = " and ".join(f"'{key}'" for key in found)
        raise InvalidInputError(f"{spelled} differ only in case: which one holds {name}?")
    return mapping[found[0]] if found else None


def mapping_or_empty(value: Any, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    # JSON and botocore give plain dicts; the ABC check on typing.Mapping is slow on hot paths.
    if not isinstance(value, JSON_OBJECT):
        raise InvalidInputError(f"{what} is a {type(value).__name__}, not an object")
    return value


def string_tuple(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidInputError(f"{what} is not a list of strings")
    return tuple(value)


def optional_string(value: Any) -> str | None:
    """Lenient: anything but a non-empty string is None. Only for fields no verdict depends on;
    a field a verdict reads goes through ``optional_text``."""
    return value if isinstance(value, str) and value else None


def optional_text(value: Any, what: str) -> str | None:
    """A string field a verdict depends on: absent (missing, null, empty) is None, a value of
    another type is unreadable, never absent (a ``targetArn`` of 42 is not "no DLQ")."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} is a {type(value).__name__}, not a string: {value!r}")
    return value or None


# Lambda's EnvironmentError.ErrorCode when the Error object itself cannot be read.
UNKNOWN_ENVIRONMENT_ERROR = "unknown"


class Environment(NamedTuple):
    """What a source says about a function's environment variables (names only).

    ``names`` None with ``error`` None: the source does not record them (Config). ``error`` set:
    variables exist but the source could not read them (Lambda's ``Environment.Error``, e.g.
    KMSAccessDeniedException), so ``names`` is None."""

    names: tuple[str, ...] | None
    error: str | None


NOT_RECORDED = Environment(None, None)


def environment_from(value: Any, what: str) -> Environment:
    """``Environment`` / ``environment`` of a Lambda API response or a configuration item, read
    case-insensitively (``Variables`` / ``variables``, ``Error.ErrorCode`` /
    ``error.errorCode``). Values are dropped at once: they may be secrets.

    An ``Error`` wins over any ``Variables`` beside it, and an ``Error`` whose shape cannot be
    read is still an error (code ``unknown``): it never reads as "no variables"."""
    environment = mapping_or_empty(value, what)
    error = get_ignoring_case(environment, "Error")
    if error is not None:
        return Environment(None, _error_code(error))
    variables = mapping_or_empty(get_ignoring_case(environment, "Variables"), f"{what}.Variables")
    return Environment(tuple(sorted(variables)), None)


def _error_code(error: Any) -> str:
    code = get_ignoring_case(error, "ErrorCode") if isinstance(error, JSON_OBJECT) else None
    return code if isinstance(code, str) and code else UNKNOWN_ENVIRONMENT_ERROR


def optional_count(value: Any, what: str) -> int | None:
    """A non-negative whole number that may arrive as int, float (``10.0``) or numeric text."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise InvalidInputError(f"{what} is not a number: {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInputError(f"{what} is not a number: {value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise InvalidInputError(f"{what} is not a whole number: {value!r}")
    if value < 0:
        raise InvalidInputError(f"{what} is negative: {value!r}")
    return int(value)


def tags_from(value: Any) -> Mapping[str, str]:
    if not isinstance(value, Mapping) or not value:
        return EMPTY_TAGS
    return MappingProxyType({str(key): str(item) for key, item in value.items()})


def arn_field(arn: str | None, index: int) -> str | None:
    """Field ``index`` of an ARN (1 partition, 3 region, 4 account)."""
    if not arn:
        return None
    parts = arn.split(":", 5)
    return parts[index] or None if len(parts) == 6 else None
