"""The readable table: the engine's resource x rule matrix plus failures per severity."""

from __future__ import annotations

from typing import Sequence

from rules.reports.common import Result, failures_by_severity
from rules.table import render_evaluations


def render_table(results: Sequence[Result]) -> str:
    several_places = len({(r.account_id, r.region) for r in results}) > 1
    text = render_evaluations([(_label(r, several_places), r.evaluation) for r in results])
    if not results:
        return text
    by_severity = failures_by_severity(results)
    summary = ", ".join(f"{count} {severity.value}" for severity, count in by_severity.items())
    return f"{text}Non-compliant by severity: {summary}\n"


def _label(result: Result, several_places: bool) -> str:
    """The function name, with account/region when the results span several."""
    name = result.evaluation.resource_id
    if several_places and result.arn:
        return f"{name} ({result.account_id}/{result.region})"
    return name
