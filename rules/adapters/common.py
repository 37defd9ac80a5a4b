"""Small readers shared by the adapters: JSON-in-a-string, case-insensitive keys, ARN parts."""

from __future__ import annotations

import collections.abc
import json
from types import MappingProxyType
from typing import Any, Mapping

from rules.errors import InvalidInputError
from rules.model import EMPTY_TAGS

# For isinstance on hot paths: decoded JSON is a dict, which matches the first (cheap) entry.
JSON_OBJECT = (dict, collections.abc.Mapping)


def decode_json_string(value: Any, what: str) -> Any:
    """Config's history/batch APIs send some values as JSON text; the event sends objects."""
    if isinstance(value, str):
        try:
            return json.loads(value) if value else None
        except ValueError as error:
            raise InvalidInputError(f"{what} is not valid JSON ({error})") from None
    return value


def get_ignoring_case(mapping: Mapping[str, Any], name: str) -> Any:
    """``mapping[name]``, or the value of the first key equal to ``name`` ignoring case."""
    if name in mapping:
        return mapping[name]
    lowered = name.lower()
    for key, value in mapping.items():
        if key.lower() == lowered:
            return value
    return None


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
    return value if isinstance(value, str) and value else None


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
