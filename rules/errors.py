"""Errors that stop a verdict. None of them may ever be turned into COMPLIANT."""

from __future__ import annotations


class GuardrailsError(Exception):
    """Base class for every error the rule engine raises on purpose."""


class InvalidParameterError(GuardrailsError):
    """A rule parameter is unknown or its value does not validate."""

    def __init__(self, rule_id: str, name: str, value: object, reason: str) -> None:
        self.rule_id = rule_id
        self.name = name
        self.value = value
        self.reason = reason
        super().__init__(f"rule {rule_id}: parameter {name}={value!r} is invalid: {reason}")


class InvalidInputError(GuardrailsError):
    """The input is not a configuration item / invoking event, or a field in it cannot be read."""


class UnknownFieldError(GuardrailsError):
    """A check needs a field the source did not record (e.g. Config and environment variables).

    The handler answers it by reading the field from the Lambda API; the CLI reports it."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(reason)
