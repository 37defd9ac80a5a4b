"""What the CLI reads: files holding configuration items or whole invoking events."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from rules.adapters.config_item import configuration_item_from_dict, is_configuration_item
from rules.errors import GuardrailsError, InvalidInputError
from rules.events import CHANGE, OVERSIZED, is_rule_event, parse_rule_event
from rules.model import ConfigurationItem

# Keys under which Config's APIs return lists of items.
ITEM_LIST_KEYS = ("configurationItems", "baseConfigurationItems")


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
        text = sys.stdin.read() if path == "-" else _read_text(path)
        document = json.loads(text)
    except (OSError, UnicodeDecodeError) as error:
        yield InputProblem(path, f"cannot read file: {error}")
        return
    except ValueError as error:
        yield InputProblem(path, f"not valid JSON: {error}")
        return
    yield from sources_from_document(path, document)


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def sources_from_document(origin: str, document: Any) -> Iterator[Source | InputProblem]:
    try:
        if is_rule_event(document):
            yield _source_from_event(origin, document)
        elif is_configuration_item(document):
            yield Source(origin, configuration_item_from_dict(document), None, False)
        elif isinstance(document, list) or _item_list(document) is not None:
            items = document if isinstance(document, list) else _item_list(document)
            for index, raw in enumerate(items or []):
                yield from sources_from_document(f"{origin}[{index}]", raw)
        else:
            raise InvalidInputError(
                "neither a configuration item nor a Config rule invoking event "
                "(no resourceType/configurationItemStatus, no invokingEvent)"
            )
    except GuardrailsError as error:
        yield InputProblem(origin, str(error))


def _item_list(document: Any) -> list[Any] | None:
    if isinstance(document, Mapping):
        for key in ITEM_LIST_KEYS:
            if isinstance(document.get(key), list):
                return list(document[key])
    return None


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
