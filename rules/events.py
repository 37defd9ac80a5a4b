"""The invoking event of an AWS Config custom Lambda rule, parsed into a typed, frozen value.

Pure parsing shared by the CLI and the handler. ``ruleParameters`` is absent when the rule has
no parameters; ``invokingEvent`` is JSON text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from rules import json_text
from rules.errors import InvalidInputError

CHANGE = "ConfigurationItemChangeNotification"
OVERSIZED = "OversizedConfigurationItemChangeNotification"
SCHEDULED = "ScheduledNotification"
MESSAGE_TYPES = (CHANGE, OVERSIZED, SCHEDULED)


class RuleParametersError(InvalidInputError):
    """``ruleParameters`` is not a JSON object. The event parser does not know the rule; the
    handler reports this as an invalid parameter of its rule."""

    def __init__(self, value: Any, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"ruleParameters {reason}")


@dataclass(frozen=True, slots=True)
class RuleEvent:
    message_type: str
    invoking_event: Mapping[str, Any]
    rule_parameters: Mapping[str, Any]
    result_token: str | None
    event_left_scope: bool
    execution_role_arn: str | None
    config_rule_name: str | None
    config_rule_arn: str | None
    account_id: str | None
    notification_time: str | None

    @property
    def configuration_item(self) -> Mapping[str, Any] | None:
        item = self.invoking_event.get("configurationItem")
        return item if isinstance(item, Mapping) else None

    @property
    def configuration_item_summary(self) -> Mapping[str, Any] | None:
        summary = self.invoking_event.get("configurationItemSummary")
        return summary if isinstance(summary, Mapping) else None


def is_rule_event(raw: Any) -> bool:
    return isinstance(raw, Mapping) and "invokingEvent" in raw


def parse_rule_event(raw: Any) -> RuleEvent:
    if not is_rule_event(raw):
        raise InvalidInputError("not a Config rule invoking event: no invokingEvent")
    invoking = _json_object(raw["invokingEvent"], "invokingEvent")
    message_type = invoking.get("messageType")
    if message_type is None and isinstance(invoking.get("configurationItem"), Mapping):
        message_type = CHANGE  # hand-written events often omit it; the item says what it is
    if message_type not in MESSAGE_TYPES:
        raise InvalidInputError(f"invokingEvent has unknown messageType {message_type!r}")
    parameters = raw.get("ruleParameters")
    left_scope = raw.get("eventLeftScope")
    if left_scope is None:
        left_scope = False
    elif not isinstance(left_scope, bool):
        # Config sends a JSON boolean; text "true" is tolerated, anything else is refused.
        if str(left_scope).lower() not in ("true", "false"):
            raise InvalidInputError(f"eventLeftScope is not a boolean: {left_scope!r}")
        left_scope = str(left_scope).lower() == "true"
    return RuleEvent(
        message_type=message_type,
        invoking_event=invoking,
        rule_parameters=_rule_parameters(parameters),
        result_token=raw.get("resultToken"),
        event_left_scope=left_scope,
        execution_role_arn=raw.get("executionRoleArn"),
        config_rule_name=raw.get("configRuleName"),
        config_rule_arn=raw.get("configRuleArn"),
        account_id=raw.get("accountId"),
        notification_time=invoking.get("notificationCreationTime"),
    )


JSON_TYPE_NAMES = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}


def _rule_parameters(value: Any) -> Mapping[str, Any]:
    """Absent, empty, ``"null"`` or ``"{}"``: no parameters."""
    decoded = value
    if isinstance(value, str):
        try:
            decoded = json_text.loads(value) if value.strip() else None
        except ValueError as error:
            raise RuleParametersError(value, f"is not valid JSON ({error})") from None
    if decoded is None:
        return {}
    if not isinstance(decoded, Mapping):
        kind = JSON_TYPE_NAMES.get(type(decoded), type(decoded).__name__)
        raise RuleParametersError(value, f"is not a JSON object (it is a JSON {kind})")
    return decoded


def _json_object(value: Any, what: str) -> Mapping[str, Any]:
    if isinstance(value, str):
        try:
            value = json_text.loads(value)
        except ValueError as error:
            raise InvalidInputError(f"{what} is not valid JSON ({error})") from None
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{what} is not a JSON object")
    return value
