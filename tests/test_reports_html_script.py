"""The HTML report's script, run by node on a minimal DOM built from the rendered page
(tests/reports_fake_dom.js): filters, search, counts, sorting and the CSV export."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from rules.model import Compliance
from rules.reports import render
from rules.reports.common import SEVERITY_ORDER, Result, by_place
from rules.reports.csv_export import render_csv
from rules.scan import ScanProblem
from tests.reports_helpers import organization_results
from tests.reports_html_tree import Element, parse_html

NODE = shutil.which("node")
HARNESS = Path(__file__).with_name("reports_fake_dom.js")
ACCOUNTS = ["222233334444", "111122223333", "333344445555"]
REGIONS = ["us-east-1", "eu-west-1"]
TRICKY = ['=cmd|" /C calc"!A0', "+1", "-1", "@x", "\t=1", 'a "quoted", multi\nline']

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def as_json(node: Element | str) -> Any:
    if isinstance(node, str):
        return node
    return {"tag": node.tag, "attrs": node.attrs, "children": [as_json(c) for c in node.children]}


def run(
    results: list[Result], actions: list[list[str]], problems: list[ScanProblem] | None = None
) -> list[dict[str, Any]]:
    root = parse_html(render("html", results, problems=problems or []))
    [html] = root.find("html")
    [script] = root.find("script")
    payload = json.dumps({"tree": as_json(html), "script": script.text(), "actions": actions})
    done = subprocess.run(
        [str(NODE), str(HARNESS)], input=payload, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


@pytest.fixture(scope="module")
def results() -> list[Result]:
    plain = organization_results(ACCOUNTS, REGIONS, 12)
    tricky = [  # formula triggers, quotes and line breaks in names and annotations
        replace(r, evaluation=replace(r.evaluation, resource_id=t, annotation=t))
        for r, t in zip(plain[: len(TRICKY)], TRICKY, strict=True)
    ]
    return tricky + plain[len(TRICKY) :]


def in_page_order(results: list[Result]) -> list[Result]:
    return [r for group in by_place(results).values() for r in group]


def row(result: Result) -> list[str]:
    evaluation = result.evaluation
    return [
        result.account_id or "",
        result.region or "",
        evaluation.resource_id,
        evaluation.rule_id,
        result.severity.value if result.severity else "",
        evaluation.compliance.value,
        evaluation.annotation,
    ]


def group_counts(
    shown: list[Result], places: list[tuple[str | None, str | None]]
) -> dict[str, str]:
    counts: Counter[str] = Counter()
    for result in shown:
        for group in (str(places.index(result.place)), "all"):
            counts[f"{group}|{result.evaluation.compliance.value}"] += 1
            counts[f"{group}|all"] += 1
    keys = [f"{g}|{c.value}" for g in [*map(str, range(len(places))), "all"] for c in Compliance]
    return {key: str(counts[key]) for key in [*keys, "all|all"]}


def test_loading_shows_the_controls_and_adds_sort_buttons(results: list[Result]) -> None:
    [start] = run(results, [["snapshot"]])
    assert start["controlsHidden"] is False
    assert start["sortButtons"] == [["button"]] * 5
    assert start["visible"] == [row(r) for r in in_page_order(results)]


def test_filters_and_search_show_matching_rows_and_recount(results: list[Result]) -> None:
    places = list(by_place(results))
    ordered = in_page_order(results)
    account = "222233334444"
    by_account = run(
        results,
        [
            ["select", "account", account],
            ["select", "compliance", "NON_COMPLIANT"],
            ["snapshot"],
            ["search", "  FN-0007 "],  # trimmed, case-insensitive, matches names and ARNs
            ["snapshot"],
            ["click", "reset"],
            ["select", "severity", "CRITICAL"],
            ["snapshot"],
        ],
    )
    failing = [
        r
        for r in ordered
        if r.account_id == account and r.evaluation.compliance is Compliance.NON_COMPLIANT
    ]
    assert failing and by_account[0]["visible"] == [row(r) for r in failing]
    assert {k: v for k, v in by_account[0]["counts"].items()} == group_counts(failing, places)
    assert by_account[0]["hiddenGroups"] == [p[0] != account for p in places]
    searched = [r for r in failing if "fn-0007" in (r.arn or "")]
    assert searched and by_account[1]["visible"] == [row(r) for r in searched]
    critical = [r for r in ordered if r.severity is not None and r.severity.value == "CRITICAL"]
    assert by_account[2]["visible"] == [row(r) for r in critical]
    assert by_account[2]["counts"] == group_counts(critical, places)


def test_sorting_orders_rows_within_each_group_and_toggles(results: list[Result]) -> None:
    ascending, descending = run(
        results, [["sort", "severity"], ["snapshot"], ["sort", "severity"], ["snapshot"]]
    )
    rank = {s.value: i for i, s in enumerate(SEVERITY_ORDER)}

    def sorted_groups(reverse: bool) -> list[list[str]]:
        rows = []
        for group in by_place(results).values():
            keyed = sorted(group, key=lambda r: rank[r.severity.value] if r.severity else 9)
            if reverse:  # stable: ties keep the ascending order
                keyed = sorted(
                    keyed, key=lambda r: rank[r.severity.value] if r.severity else 9, reverse=True
                )
            rows += [row(r) for r in keyed]
        return rows

    assert ascending["visible"] == sorted_groups(reverse=False)
    assert descending["visible"] == sorted_groups(reverse=True)
    assert ["severity", "ascending"] in ascending["sort"]
    assert ["severity", "descending"] in descending["sort"]
    assert [s for s in descending["sort"] if s[1] is not None] == [["severity", "descending"]]


def test_export_writes_the_filtered_rows_as_the_csv_format_does(results: list[Result]) -> None:
    [download] = run(
        results,
        [
            ["select", "region", "us-east-1"],
            ["sort", "compliance"],
            ["click", "export"],
            ["download"],
        ],
    )
    assert download["name"] == "lambda-guardrails.csv" and download["type"] == "text/csv"
    rank = {c: i for i, c in enumerate(["NON_COMPLIANT", "COMPLIANT", "NOT_APPLICABLE"])}
    shown = [
        r
        for group in by_place(results).values()
        for r in sorted(group, key=lambda r: rank[r.evaluation.compliance.value])
        if r.region == "us-east-1"
    ]
    assert download["text"] == render_csv(shown)  # same columns, quoting and formula guard
    assert '\'=cmd|"" /C calc""!A0' in download["text"]


def test_export_adds_every_no_verdict_row_whatever_the_filters(results: list[Result]) -> None:
    """What got no verdict is in the export as in ``--format csv``: NO_VERDICT rows after the
    rows shown, even those of an account the filters hide (never a clean-looking CSV)."""
    problems = [
        ScanProblem(ACCOUNTS[0], "us-east-1", "", "cannot assume arn:aws:iam::1:role/R"),
        ScanProblem(
            ACCOUNTS[1],
            "eu-west-1",
            f"arn:aws:lambda:eu-west-1:{ACCOUNTS[1]}:function:=calc",
            'source is OUTDATED, "quoted", multi\nline',
        ),
    ]
    [download] = run(
        results,
        [["select", "region", "us-east-1"], ["click", "export"], ["download"]],
        problems,
    )
    shown = [r for r in in_page_order(results) if r.region == "us-east-1"]
    assert download["text"] == render_csv(shown, problems)
    assert "NO_VERDICT,'=calc," in download["text"]
    [alone] = run([], [["click", "export"], ["download"]], problems)
    assert alone["text"] == render_csv([], problems)
