"""The readable table: the engine's resource x rule matrix plus failures per severity.

Results from one account and Region (a plain ``scan``) say where once, above the matrix. Results
spanning several get ``account`` and ``region`` columns, rows grouped by account then Region, so
each line stands alone (``grep 111122223333`` keeps whole rows)."""

from __future__ import annotations

import textwrap
from typing import Sequence

from rules.model import Compliance
from rules.reports.common import (
    Place,
    Result,
    by_place,
    failures_by_severity,
    rules_in,
    spans_several_places,
)
from rules.table import MARKS, render_evaluations

UNKNOWN = "-"


def render_table(results: Sequence[Result]) -> str:
    if not results:
        return render_evaluations([])
    if spans_several_places(results):
        text = _places_table(results)
    else:
        labelled = [(r.evaluation.resource_id, r.evaluation) for r in results]
        text = _place_line(results[0].place) + render_evaluations(labelled)
    by_severity = failures_by_severity(results)
    summary = ", ".join(f"{count} {severity.value}" for severity, count in by_severity.items())
    return f"{text}Non-compliant by severity: {summary}\n"


def _place_line(place: Place) -> str:
    account, region = place
    if account is None and region is None:
        return ""
    return f"Account {account or 'unknown'}, Region {region or 'unknown'}\n\n"


def _places_table(results: Sequence[Result]) -> str:
    rule_ids = rules_in(results)
    rows: dict[str, list[str]] = {}
    failures: list[str] = []
    for (account, region), group in by_place(results).items():
        for result in group:
            evaluation = result.evaluation
            place = [account or UNKNOWN, region or UNKNOWN, evaluation.resource_id]
            row = rows.setdefault(result.key, place + [""] * len(rule_ids))
            row[len(place) + rule_ids.index(evaluation.rule_id)] = MARKS[evaluation.compliance]
            if evaluation.compliance is Compliance.NON_COMPLIANT:
                failures.append(f"- {' '.join(place)} / {evaluation.rule_id}:")
                failures.extend(_wrap(evaluation.annotation))
    lines = [_grid(["account", "region", "resource", *rule_ids], list(rows.values()))]
    lines.append(_counts_line(results))
    if failures:
        lines += ["\nNon-compliant:", *failures]
    return "\n".join(lines) + "\n"


def _counts_line(results: Sequence[Result]) -> str:
    counts = {c: sum(r.evaluation.compliance is c for r in results) for c in Compliance}
    return (
        f"{len(results)} evaluations in {len(by_place(results))} account/Region pair(s): "
        f"{counts[Compliance.COMPLIANT]} compliant, "
        f"{counts[Compliance.NON_COMPLIANT]} non-compliant, "
        f"{counts[Compliance.NOT_APPLICABLE]} not applicable"
    )


def _wrap(annotation: str) -> list[str]:
    """Wrapped at spaces only, as the single-place table does: an ARN or Sid is never split."""
    return textwrap.wrap(
        annotation,
        96,
        initial_indent="    ",
        subsequent_indent="    ",
        break_long_words=False,
        break_on_hyphens=False,
    )


def _grid(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))

    return "\n".join(
        [line(header).rstrip(), line(["-" * w for w in widths]), *(line(r).rstrip() for r in rows)]
    )
