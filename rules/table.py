"""Plain-text tables for people: evaluations grouped by resource, and the rule list."""

from __future__ import annotations

import textwrap
from typing import Iterable, Sequence

from rules.model import Compliance, Evaluation
from rules.rule import Rule

MARKS = {
    Compliance.COMPLIANT: "PASS",
    Compliance.NON_COMPLIANT: "FAIL",
    Compliance.NOT_APPLICABLE: "n/a",
}


def render_evaluations(labelled: Sequence[tuple[str, Evaluation]]) -> str:
    """A resource x rule matrix, then one line per non-compliant evaluation naming the cause.

    Each evaluation comes with its row label, so one function name seen in two accounts,
    regions or files stays two rows."""
    if not labelled:
        return "no evaluations\n"
    evaluations = [evaluation for _, evaluation in labelled]
    rule_ids = list(dict.fromkeys(e.rule_id for e in evaluations))
    labels = list(dict.fromkeys(label for label, _ in labelled))
    cells = {(label, e.rule_id): MARKS[e.compliance] for label, e in labelled}
    header = ["resource", *rule_ids]
    rows = [[label, *(cells.get((label, r), "") for r in rule_ids)] for label in labels]
    lines = [_grid(header, rows)]
    failures = [(label, e) for label, e in labelled if e.compliance is Compliance.NON_COMPLIANT]
    counts = {c: sum(e.compliance is c for e in evaluations) for c in Compliance}
    lines.append(
        f"{len(evaluations)} evaluations: {counts[Compliance.COMPLIANT]} compliant, "
        f"{counts[Compliance.NON_COMPLIANT]} non-compliant, "
        f"{counts[Compliance.NOT_APPLICABLE]} not applicable"
    )
    if failures:
        lines.append("\nNon-compliant:")
        for label, e in failures:
            lines.append(f"- {label} / {e.rule_id}:")
            lines.extend(_wrap_annotation(e.annotation))
    return "\n".join(lines) + "\n"


def render_rules(rules: Iterable[Rule]) -> str:
    lines = []
    for rule in rules:
        lines.append(f"{rule.id}  [{rule.severity.value}]  {rule.title}")
        if not rule.parameters:
            lines.append("    parameters: none")
        for spec in rule.parameters:
            default = spec.default if spec.default is not None else "unset"
            lines.append(f"    {spec.name} ({spec.kind.value}, optional, default {default})")
            lines.extend(
                textwrap.wrap(
                    spec.description, 88, initial_indent="        ", subsequent_indent="        "
                )
            )
    return "\n".join(lines) + "\n"


def render_rules_markdown(rules: Iterable[Rule]) -> str:
    """The README's short rule table, linking to docs/rules.md (a test keeps the README equal
    to this output)."""
    from rules.docs import render_summary_table

    return render_summary_table(rules)


def _wrap_annotation(text: str) -> list[str]:
    """The whole annotation, wrapped at spaces only: a Sid, ARN or name is never split, so it
    can be copied from the table (a long ARN overflows the line instead)."""
    return textwrap.wrap(
        text,
        96,
        initial_indent="    ",
        subsequent_indent="    ",
        break_long_words=False,
        break_on_hyphens=False,
    )


def _grid(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])
