"""Output formats of ``rules scan``: pure functions over evaluations (and the rule registry).

``render(fmt, results)`` returns the whole document as text. ASFF needs the account context and
the handler's finding builder, so it lives in ``rules.reports.asff`` and is called by the scan.
"""

from __future__ import annotations

import json
from typing import Sequence

from rules.reports.common import Result, Unevaluated, as_results
from rules.reports.csv_export import render_csv
from rules.reports.html import render_html
from rules.reports.jsonl import render_jsonl
from rules.reports.sarif import render_sarif_log
from rules.reports.text import render_table

TEXT_FORMATS = ("table", "jsonl", "sarif", "html", "csv")

__all__ = ["TEXT_FORMATS", "Result", "as_results", "render"]


def render(
    fmt: str,
    results: Sequence[Result],
    *,
    notes: Sequence[str] = (),
    problems: Sequence[Unevaluated] = (),
) -> str:
    """The document. ``problems`` (what got no verdict) are rows of ``csv`` and a section of
    ``html`` (whose CSV export holds them too); the other formats add them their own way
    (``rules.scan_cli.with_problems``)."""
    if fmt == "table":
        return render_table(results)
    if fmt == "jsonl":
        return render_jsonl(results)
    if fmt == "sarif":
        return json.dumps(render_sarif_log(results), indent=2) + "\n"
    if fmt == "html":
        return render_html(results, notes=notes, problems=problems)
    if fmt == "csv":
        return render_csv(results, problems)
    raise ValueError(f"unknown format {fmt!r} (known: {', '.join(TEXT_FORMATS)})")
