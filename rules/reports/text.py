"""The readable table: the engine's resource x rule matrix plus failures per severity."""

from __future__ import annotations

from typing import Sequence

from rules.reports.common import Result, failures_by_severity
from rules.table import render_evaluations


def render_table(results: Sequence[Result]) -> str:
    text = render_evaluations([r.evaluation for r in results])
    if not results:
        return text
    by_severity = failures_by_severity(results)
    summary = ", ".join(f"{count} {severity.value}" for severity, count in by_severity.items())
    return f"{text}Non-compliant by severity: {summary}\n"
