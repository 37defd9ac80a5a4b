"""A self-contained HTML report: functions x rules matrix, counts per rule and per severity.

No script, no external resource (a Content-Security-Policy forbids both); every value from AWS
(names, ARNs, annotations, tags) is escaped. The annotation shows on hover (``title``) and on
click (``<details>``), so the report also works without a mouse.
"""

from __future__ import annotations

from html import escape
from typing import Sequence

from rules.model import Compliance
from rules.registry import RULES_BY_ID
from rules.reports.common import (
    Result,
    counts_by_rule,
    failures_by_severity,
    rules_in,
)

LABELS = {
    Compliance.COMPLIANT: ("PASS", "pass"),
    Compliance.NON_COMPLIANT: ("FAIL", "fail"),
    Compliance.NOT_APPLICABLE: ("n/a", "na"),
}

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:1.5rem;color:#1b1f24}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td.pass{background:#dafbe1}td.fail{background:#ffebe9}td.na{background:#eaeef2;color:#57606a}
td.none{background:#fff}
details summary{cursor:pointer;font-weight:600}
details div{max-width:28rem;font-size:.85rem;margin-top:.3rem}
.sev-CRITICAL{color:#fff;background:#82071e}.sev-HIGH{color:#fff;background:#cf222e}
.sev-MEDIUM{background:#fff8c5}.sev-LOW{background:#ddf4ff}.sev-INFORMATIONAL{background:#eaeef2}
.sev{padding:0 .35rem;border-radius:.25rem;font-size:.8rem;font-weight:600}
small{color:#57606a}
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'"


def render_html(
    results: Sequence[Result],
    *,
    title: str = "Lambda Guardrails report",
    notes: Sequence[str] = (),
) -> str:
    """``notes``: lines about the run (when, which account, which source), shown under the title."""
    rule_ids = rules_in(results)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        *(f"<p>{escape(note)}</p>" for note in notes),
    ]
    if not results:
        parts.append("<p>No evaluations.</p></body></html>")
        return "\n".join(parts) + "\n"
    parts += _severity_summary(results)
    parts += _rule_summary(results, rule_ids)
    parts += _matrix(results, rule_ids)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _severity_badge(rule_id: str) -> str:
    rule = RULES_BY_ID.get(rule_id)
    if rule is None:
        return ""
    value = rule.severity.value
    return f' <span class="sev sev-{value}">{value}</span>'


def _severity_summary(results: Sequence[Result]) -> list[str]:
    counts = failures_by_severity(results)
    failing = sum(counts.values())
    rows = "".join(
        f'<tr><td><span class="sev sev-{s.value}">{s.value}</span></td><td>{n}</td></tr>'
        for s, n in counts.items()
    )
    functions = len({r.key for r in results})
    return [
        f"<p>{len(results)} evaluations of {functions} resource(s): {failing} non-compliant.</p>",
        "<h2>Non-compliant by severity</h2>",
        f"<table><tr><th>severity</th><th>non-compliant</th></tr>{rows}</table>",
    ]


def _rule_summary(results: Sequence[Result], rule_ids: Sequence[str]) -> list[str]:
    counts = counts_by_rule(results)
    rows = []
    for rule_id in rule_ids:
        rule = RULES_BY_ID.get(rule_id)
        counter = counts[rule_id]
        name = escape(rule_id)
        if rule is not None:
            name = (
                f'<a href="{escape(rule.documentation_url)}">{name}</a>'
                f"{_severity_badge(rule_id)}<br><small>{escape(rule.title)}</small>"
            )
        rows.append(
            f"<tr><td>{name}</td>"
            f'<td class="fail">{counter[Compliance.NON_COMPLIANT]}</td>'
            f'<td class="pass">{counter[Compliance.COMPLIANT]}</td>'
            f'<td class="na">{counter[Compliance.NOT_APPLICABLE]}</td></tr>'
        )
    return [
        "<h2>Per rule</h2>",
        "<table><tr><th>rule</th><th>non-compliant</th><th>compliant</th>"
        "<th>not applicable</th></tr>",
        *rows,
        "</table>",
    ]


def _matrix(results: Sequence[Result], rule_ids: Sequence[str]) -> list[str]:
    cells = {(r.key, r.evaluation.rule_id): r for r in results}
    resources: dict[str, Result] = {}
    for result in results:
        resources.setdefault(result.key, result)  # the first result names the resource
    several_places = len({(r.account_id, r.region) for r in results}) > 1
    header = "".join(f"<th>{escape(r)}{_severity_badge(r)}</th>" for r in rule_ids)
    rows = []
    for key, first in resources.items():
        label = escape(first.evaluation.resource_id)
        if several_places and first.arn:
            place = f"{first.account_id or ''} {first.region or ''}"
            label += f"<br><small>{escape(place)}</small>"
        row = [f'<th scope="row" title="{escape(key)}">{label}</th>']
        for rule_id in rule_ids:
            cell = cells.get((key, rule_id))
            if cell is None:
                row.append('<td class="none"></td>')
                continue
            text, css = LABELS[cell.evaluation.compliance]
            annotation = escape(cell.evaluation.annotation)
            row.append(
                f'<td class="{css}" title="{annotation}"><details><summary>{text}</summary>'
                f"<div>{annotation}</div></details></td>"
            )
        rows.append(f"<tr>{''.join(row)}</tr>")
    return [
        "<h2>Functions x rules</h2>",
        "<p><small>Hover over a cell or open it for the annotation.</small></p>",
        f"<table><tr><th>function</th>{header}</tr>",
        *rows,
        "</table>",
    ]
