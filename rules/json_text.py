"""Strict JSON decoding for everything read from outside: files, stdin, the event's JSON texts.

Python's ``json`` accepts ``NaN``/``Infinity`` (not JSON), turns ``1e400`` into infinity, keeps
the last of two equal keys in one object (a second ``"Policy"`` or ``"Principal"`` would hide the
first), and fails on deep nesting or very long integers with a ``RecursionError`` or a message
about ``sys.set_int_max_str_digits``. Here each of those is a ``JSONTextError`` (a
``ValueError``) that says what is wrong with the document.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any


class JSONTextError(ValueError):
    """The text is not a JSON document this program can read."""


def loads(text: str) -> Any:
    try:
        return json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_constant=_refuse_constant,
            parse_int=_integer,
            parse_float=_finite_float,
        )
    except RecursionError:
        raise JSONTextError("nested too deeply for the JSON parser") from None
    except JSONTextError:
        raise
    except ValueError as error:  # json.JSONDecodeError: position and reason
        raise JSONTextError(str(error)) from None


def decode(data: bytes) -> str:
    """The text of a JSON file: UTF-8 (with or without a byte-order mark), or UTF-16/UTF-32 with
    one (what Windows tools such as PowerShell's ``Out-File`` write)."""
    for bom, encoding in BYTE_ORDER_MARKS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding)
    return data.decode("utf-8")


# UTF-32 first: its little-endian mark begins with UTF-16's.
BYTE_ORDER_MARKS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        keys = [key for key, _ in pairs]
        twice = next(key for index, key in enumerate(keys) if key in keys[:index])
        raise JSONTextError(f"has the key '{twice}' twice in one object")
    return result


def _refuse_constant(name: str) -> Any:
    raise JSONTextError(f"{name} is not a JSON value")


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        limit = sys.get_int_max_str_digits()
        raise JSONTextError(
            f"an integer of {len(text.lstrip('-'))} digits is longer than the {limit} digits "
            "Python converts"
        ) from None


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise JSONTextError(f"the number {text[:40]} is too large for a double")
    return number
