"""What the CLI reads: files holding configuration items or whole invoking events."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from rules import json_text
from rules.adapters.config_item import configuration_item_from_dict, is_configuration_item
from rules.errors import GuardrailsError, InvalidInputError
from rules.events import CHANGE, OVERSIZED, is_rule_event, parse_rule_event
from rules.model import ConfigurationItem

# Keys under which Config's APIs return lists of items: GetResourceConfigHistory's and
# BatchGetResourceConfig's (which also lists the keys it did not process).
ITEM_LIST_KEYS = ("configurationItems", "baseConfigurationItems")
UNPROCESSED_KEYS = "unprocessedResourceKeys"


@dataclass(frozen=True, slots=True)
class Source:
    """One configuration item to evaluate, with where it came from and the event's context."""

    origin: str
    item: ConfigurationItem
    rule_parameters: Mapping[str, Any] | None  # None: not an event, use the CLI's parameters
    event_left_scope: bool


@dataclass(frozen=True, slots=True)
class InputProblem:
    origin: str
    message: str


def read_sources(path: str) -> Iterator[Source | InputProblem]:
    """Each item in the file at ``path`` (``-`` for stdin), or the problem that stops it."""
    try:
        data = _read_stdin() if path == "-" else _read_bytes(path)
    except OSError as error:
        yield InputProblem(path, f"cannot read file: {error}")
        return
    try:
        document = json_text.loads(data if isinstance(data, str) else json_text.decode(data))
    except UnicodeDecodeError as error:
        yield InputProblem(
            path,
            f"not UTF-8, nor UTF-16/UTF-32 with a byte-order mark ({error.reason} at byte "
            f"{error.start})",
        )
        return
    except ValueError as error:
        yield InputProblem(path, f"not valid JSON: {error}")
        return
    yield from sources_from_document(path, document)


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _read_stdin() -> bytes | str:
    # The bytes, so that a byte-order mark is seen; a replaced stdin may only have text.
    buffer = getattr(sys.stdin, "buffer", None)
    return buffer.read() if buffer is not None else sys.stdin.read()


def sources_from_document(origin: str, document: Any) -> Iterator[Source | InputProblem]:
    """The items of a document: an item, an event, a list of them, or an API response. A
    document (or list, or response) without any item is a problem, never nothing to report."""
    # An explicit stack, not recursion: lists may nest as deep as the JSON parser allowed.
    pending: list[tuple[str, Any] | _Unprocessed] = [(origin, document)]
    while pending:
        entry = pending.pop()
        if isinstance(entry, _Unprocessed):
            yield from _unprocessed(entry.origin, entry.keys)
            continue
        where, value = entry
        try:
            entries = _entries(where, value)
            if entries is None:
                yield _source(where, value)
                continue
            if isinstance(value, Mapping) and UNPROCESSED_KEYS in value:
                pending.append(_Unprocessed(where, value[UNPROCESSED_KEYS]))  # after the items
            if not entries:
                raise InvalidInputError("holds no configuration item")
            pending.extend(reversed(entries))
        except GuardrailsError as error:
            yield InputProblem(where, str(error))
        except RecursionError:  # e.g. a deeply nested policy text inside an item
            yield InputProblem(where, "nested too deeply to read")


@dataclass(frozen=True, slots=True)
class _Unprocessed:
    origin: str
    keys: Any


def _entries(where: str, value: Any) -> list[tuple[str, Any]] | None:
    """What a list or an API response holds (each with its origin), or None for one entry."""
    if isinstance(value, list):
        return [(f"{where}[{index}]", entry) for index, entry in enumerate(value)]
    if not isinstance(value, Mapping) or is_rule_event(value) or is_configuration_item(value):
        return None
    for key in ITEM_LIST_KEYS:
        if key in value:
            items = value[key]
            if not isinstance(items, list):
                raise InvalidInputError(f"{key} is a {type(items).__name__}, not a list")
            return [(f"{where}[{index}]", entry) for index, entry in enumerate(items)]
    if UNPROCESSED_KEYS in value:  # every key unprocessed: BatchGetResourceConfig may omit items
        return []
    return None


def _source(origin: str, value: Any) -> Source:
    if is_rule_event(value):
        return _source_from_event(origin, value)
    if is_configuration_item(value):
        return Source(origin, configuration_item_from_dict(value), None, False)
    raise InvalidInputError(
        "neither a configuration item nor a Config rule invoking event "
        "(no resourceType/configurationItemStatus, no invokingEvent)"
    )


def _unprocessed(origin: str, keys: Any) -> Iterator[InputProblem]:
    """BatchGetResourceConfig's keys it did not process: each one is an item never evaluated."""
    if not isinstance(keys, list):
        yield InputProblem(origin, f"{UNPROCESSED_KEYS} is a {type(keys).__name__}, not a list")
        return
    for key in keys:
        if isinstance(key, Mapping):
            described = f"{key.get('resourceType', '?')} {key.get('resourceId', '?')}"
        else:
            described = repr(key)[:200]
        yield InputProblem(
            origin,
            f"{UNPROCESSED_KEYS}: {described} was not processed by BatchGetResourceConfig: "
            "not evaluated (ask for it again)",
        )


def _source_from_event(origin: str, document: Any) -> Source:
    event = parse_rule_event(document)
    if event.message_type == OVERSIZED:
        raise InvalidInputError(
            "oversized configuration item notification: the item is not in the event "
            "(the rule handler fetches it with GetResourceConfigHistory)"
        )
    if event.message_type != CHANGE or event.configuration_item is None:
        raise InvalidInputError(f"{event.message_type} carries no configuration item")
    item = configuration_item_from_dict(event.configuration_item)
    return Source(origin, item, event.rule_parameters, event.event_left_scope)
