"""A small matcher of EventBridge's event pattern semantics, for the patterns the stack writes.

moto's EventBridge cannot match a pattern that reaches into ``detail.findings[]`` (and its
``TestEventPattern`` is broken), so the remediation triggers' patterns are checked here against
the events Security Hub sends. What it implements, from EventBridge's documented rules:

- every field of the pattern must match (AND); the values listed for a field are alternatives
  (OR); a field the event lacks matches nothing but ``{"exists": false}``;
- arrays in the event are flattened: a leaf matches when any value reached through the arrays
  matches (so ``detail.findings.GeneratorId`` looks into every finding);
- matchers: exact values, ``{"prefix": s}``, ``{"anything-but": value or [values]}`` (a missing
  field never matches it), ``{"exists": bool}``.
Anything else in a pattern raises, so a new operator cannot be silently "matched".
"""

from __future__ import annotations

from typing import Any

MISSING = object()


def matches(pattern: dict[str, Any], event: Any) -> bool:
    return all(_field(matchers, _values(event, key)) for key, matchers in pattern.items())


def _values(node: Any, key: str) -> list[Any]:
    """The values at ``key`` of ``node``, through arrays (flattened)."""
    if isinstance(node, list):
        return [value for item in node for value in _values(item, key)]
    if isinstance(node, dict) and key in node:
        value = node[key]
        return list(value) if isinstance(value, list) else [value]
    return []


def _field(matchers: Any, values: list[Any]) -> bool:
    if isinstance(matchers, dict):  # a nested pattern
        return any(matches(matchers, value) for value in values if isinstance(value, dict))
    if not isinstance(matchers, list):
        raise ValueError(f"pattern values must be lists or objects, got {matchers!r}")
    return any(_leaf(matcher, values) for matcher in matchers)


def _leaf(matcher: Any, values: list[Any]) -> bool:
    if not isinstance(matcher, dict):
        return any(value == matcher for value in values)
    ((operator, operand),) = matcher.items()
    if operator == "exists":
        return bool(values) is operand
    if operator == "prefix":
        return any(isinstance(value, str) and value.startswith(operand) for value in values)
    if operator == "anything-but":
        excluded = operand if isinstance(operand, list) else [operand]
        return any(value not in excluded for value in values)
    raise ValueError(f"operator {operator!r} is not implemented by this matcher")
