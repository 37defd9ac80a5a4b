"""CSV (RFC 4180: comma, double quotes doubled, CRLF) for spreadsheets: one row per evaluation,
then one row per thing that got no verdict (compliance ``NO_VERDICT``, the cause in the
annotation), so a spreadsheet of an organization where some account could not be read never
looks clean.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
as a formula, and function names and annotations (policy Sids, template values) are text an
attacker may choose: such a cell gets a leading ``'``, which spreadsheets read as "this is text".
The HTML report's "Export CSV" button writes the same columns with the same guard.
"""

from __future__ import annotations

import csv
import io
from typing import Sequence

from rules.reports.common import NO_VERDICT, Result, Unevaluated, no_verdict_cells

COLUMNS = (
    "account_id",
    "region",
    "rule",
    "severity",
    "compliance",
    "resource_id",
    "resource_arn",
    "annotation",
)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def render_csv(results: Sequence[Result], problems: Sequence[Unevaluated] = ()) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows([guard_formula(cell) for cell in row(r)] for r in results)
    writer.writerows([guard_formula(cell) for cell in problem_row(p)] for p in problems)
    return buffer.getvalue()


def row(result: Result) -> tuple[str, ...]:
    """The cells of one evaluation, unknown values empty."""
    evaluation = result.evaluation
    severity = result.severity
    return (
        result.account_id or "",
        result.region or "",
        evaluation.rule_id,
        severity.value if severity else "",
        evaluation.compliance.value,
        evaluation.resource_id,
        result.arn or "",
        evaluation.annotation,
    )


def problem_row(problem: Unevaluated) -> tuple[str, ...]:
    """The cells of something that got no verdict: no rule, no severity, ``NO_VERDICT``."""
    resource_id, arn, annotation = no_verdict_cells(problem)
    return (
        problem.account_id or "",
        problem.region or "",
        "",
        "",
        NO_VERDICT,
        resource_id,
        arn,
        annotation,
    )


def guard_formula(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell
