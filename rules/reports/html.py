"""A self-contained HTML report: one row per evaluation, grouped by account then Region.

What got no verdict (a function Config could not give, an account whose role could not be
assumed) comes first, in its own table. Above the rows: counts per severity, per rule, and per
account and Region. One inline script (``rules.reports.html_script``) adds sorting, filters,
search, counts that follow them and a CSV export (the rows the filters leave, then every
no-verdict row); the Content-Security-Policy allows that script and the style sheet by their
SHA-256 and nothing else (no remote code, no inline handlers, no eval). Without JavaScript
every row shows, grouped. Every value from AWS (names, ARNs, annotations) is
attacker-influenced text and escaped.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import Sequence

from rules.model import Compliance
from rules.registry import RULES_BY_ID
from rules.reports.common import (
    SEVERITY_ORDER,
    Place,
    Result,
    Unevaluated,
    by_place,
    counts_by_rule,
    failures_by_severity,
    no_verdict_cells,
    rules_in,
)
from rules.reports.html_script import SCRIPT

CSS_CLASS = {
    Compliance.COMPLIANT: "pass",
    Compliance.NON_COMPLIANT: "fail",
    Compliance.NOT_APPLICABLE: "na",
}
COMPLIANCE_WORDS = {
    Compliance.NON_COMPLIANT: "non-compliant",
    Compliance.COMPLIANT: "compliant",
    Compliance.NOT_APPLICABLE: "not applicable",
}
# Sortable columns of the evaluations table: the script's record field, the header's text.
COLUMNS = (
    ("resource", "function"),
    ("rule", "rule"),
    ("severity", "severity"),
    ("compliance", "compliance"),
    ("annotation", "annotation"),
)
ANY = "*"  # the filters' "all" value: no account id, Region, rule id or enum value is "*"

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:1.5rem;color:#1b1f24}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.pass{background:#dafbe1}.fail{background:#ffebe9}.na{background:#eaeef2;color:#57606a}
td.note{max-width:40rem;font-size:.85rem;overflow-wrap:anywhere}
tr.group-head th{background:#ddf4ff;font-weight:600}
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer}
th[aria-sort=ascending] button::after{content:" \\25B2"}
th[aria-sort=descending] button::after{content:" \\25BC"}
#controls{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin:1rem 0}
#controls label{display:flex;flex-direction:column;font-size:.85rem}
[hidden]{display:none !important}
.sev-CRITICAL{color:#fff;background:#82071e}.sev-HIGH{color:#fff;background:#cf222e}
.sev-MEDIUM{background:#fff8c5}.sev-LOW{background:#ddf4ff}.sev-INFORMATIONAL{background:#eaeef2}
.sev{padding:0 .35rem;border-radius:.25rem;font-size:.8rem;font-weight:600}
small{color:#57606a}
"""


def source_hash(text: str) -> str:
    """A CSP hash source for an inline element whose content is exactly ``text``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(script: str, style: str) -> str:
    """Nothing may load; only this script and this style sheet may run. ``base-uri`` and
    ``form-action`` do not fall back to ``default-src``, so they are set too. The CSV export is
    a download of a ``blob:`` URL through a link, a navigation that no fetch directive governs:
    ``blob:`` needs no allowance."""
    return (
        f"default-src 'none'; script-src {source_hash(script)}; style-src {source_hash(style)}; "
        "base-uri 'none'; form-action 'none'"
    )


def render_html(
    results: Sequence[Result],
    *,
    title: str = "Lambda Guardrails report",
    notes: Sequence[str] = (),
    problems: Sequence[Unevaluated] = (),
) -> str:
    """``notes``: lines about the run (when, which account, which source), shown under the title;
    ``problems``: what got no verdict, in a table of its own above everything else."""
    csp = content_security_policy(SCRIPT, STYLE)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">',  # our own text
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        *(f"<p>{escape(note)}</p>" for note in notes),
        *_no_verdict(problems),
    ]
    if not results and not problems:
        parts.append("<p>No evaluations.</p></body></html>")
        return "\n".join(parts) + "\n"
    groups = by_place(results)
    if results:
        parts += _severity_summary(results)
        parts += _rule_summary(results)
        parts += _place_summary(groups)
    else:  # only problems: keep the controls, whose export writes them
        parts.append("<p>No evaluations.</p>")
    parts += _controls(results, groups)
    parts += _evaluations(groups)
    parts.append(f"<script>{SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"


def _no_verdict(problems: Sequence[Unevaluated]) -> list[str]:
    """What got no verdict: account, Region, function (its ARN as the title) and the cause,
    the cells the CSV export reads."""
    if not problems:
        return []
    rows = []
    for problem in problems:
        name, arn, annotation = no_verdict_cells(problem)
        rows.append(
            f"<tr><td>{escape(problem.account_id or '')}</td><td>{escape(problem.region or '')}"
            f'</td><td title="{escape(arn)}">{escape(name)}</td>'
            f'<td class="note">{escape(annotation)}</td></tr>'
        )
    return [
        f"<h2>No verdict ({len(problems)})</h2>",
        "<p>These functions, accounts or Regions were not evaluated: the counts below do not "
        "include them. The CSV export lists each as compliance NO_VERDICT.</p>",
        '<table id="no-verdict"><thead><tr><th>account</th><th>Region</th><th>function</th>'
        "<th>cause</th></tr></thead><tbody>",
        *rows,
        "</tbody></table>",
    ]


def _count(group: str, compliance: str, value: int) -> str:
    """A count the script recomputes for the rows the filters leave (``group``: index or all)."""
    return f'<span data-g="{group}" data-c="{compliance}">{value}</span>'


def _compliance_counts(group: str, results: Sequence[Result]) -> str:
    return ", ".join(
        _count(group, c.value, sum(r.evaluation.compliance is c for r in results)) + f" {word}"
        for c, word in COMPLIANCE_WORDS.items()
    )


def _place_label(place: Place) -> str:
    account, region = place
    return f"Account {escape(account or 'unknown')}, Region {escape(region or 'unknown')}"


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


def _rule_summary(results: Sequence[Result]) -> list[str]:
    counts = counts_by_rule(results)
    rows = []
    for rule_id, counter in counts.items():
        rule = RULES_BY_ID.get(rule_id)
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


def _place_summary(groups: dict[Place, list[Result]]) -> list[str]:
    rows = []
    for index, ((account, region), group) in enumerate(groups.items()):
        cells = "".join(
            f'<td class="{CSS_CLASS[c]}">'
            f"{_count(str(index), c.value, sum(r.evaluation.compliance is c for r in group))}</td>"
            for c in COMPLIANCE_WORDS
        )
        rows.append(
            f'<tr><td><a href="#g{index}">{escape(account or "unknown")}</a></td>'
            f"<td>{escape(region or 'unknown')}</td>{cells}</tr>"
        )
    return [
        "<h2>Per account and Region</h2>",
        "<table><tr><th>account</th><th>Region</th><th>non-compliant</th><th>compliant</th>"
        "<th>not applicable</th></tr>",
        *rows,
        "</table>",
    ]


def _options(name: str, label: str, values: Sequence[tuple[str, str]]) -> str:
    """A filter: ``values`` are (value, text) pairs; the first option keeps every row."""
    options = "".join(
        f'<option value="{escape(value)}">{escape(text)}</option>' for value, text in values
    )
    return (
        f'<label>{label}<select name="{name}"><option value="{ANY}">all</option>'
        f"{options}</select></label>"
    )


def _controls(results: Sequence[Result], groups: dict[Place, list[Result]]) -> list[str]:
    accounts = dict.fromkeys(account for account, _ in groups)
    regions = sorted({region for _, region in groups}, key=lambda r: (r is None, r or ""))
    return [
        "<h2>Evaluations</h2>",
        '<div id="controls" hidden>',
        _options("account", "account", [(a or "", a or "unknown") for a in accounts]),
        _options("region", "Region", [(r or "", r or "unknown") for r in regions]),
        _options("rule", "rule", [(r, r) for r in rules_in(results)]),
        _options("severity", "severity", [(s.value, s.value) for s in SEVERITY_ORDER]),
        _options("compliance", "compliance", [(c.value, c.value) for c in COMPLIANCE_WORDS]),
        '<label>search<input type="search" placeholder="name, ARN, annotation"></label>',
        '<button type="button" id="reset">Clear filters</button>',
        '<button type="button" id="export">Export CSV</button>',
        "</div>",
        f"<p>Showing {_count('all', 'all', len(results))} of {len(results)} evaluations: "
        f"{_compliance_counts('all', results)}.</p>",
    ]


def _evaluations(groups: dict[Place, list[Result]]) -> list[str]:
    header = "".join(f'<th data-sort="{key}">{text}</th>' for key, text in COLUMNS)
    parts = ['<table id="evaluations">', f"<thead><tr>{header}</tr></thead>"]
    for index, (place, group) in enumerate(groups.items()):
        account, region = place
        parts.append(
            f'<tbody data-account="{escape(account or "")}" data-region="{escape(region or "")}">'
            f'<tr class="group-head"><th colspan="{len(COLUMNS)}" scope="rowgroup" id="g{index}">'
            f"{_place_label(place)}: {_compliance_counts(str(index), group)}</th></tr>"
        )
        parts.extend(_row(result) for result in group)
        parts.append("</tbody>")
    parts.append("</table>")
    return parts


def _row(result: Result) -> str:
    evaluation = result.evaluation
    severity = result.severity.value if result.severity else None
    severity_cell = f'<td class="sev-{severity}">{severity}</td>' if severity else "<td></td>"
    return (
        f'<tr><td title="{escape(result.arn or "")}">{escape(evaluation.resource_id)}</td>'
        f"<td>{escape(evaluation.rule_id)}</td>{severity_cell}"
        f'<td class="{CSS_CLASS[evaluation.compliance]}">{evaluation.compliance.value}</td>'
        f'<td class="note">{escape(evaluation.annotation)}</td></tr>'
    )
