"""What got no verdict is part of every text report (``rules.scan_cli.with_problems``)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema

from rules.model import Compliance, Evaluation
from rules.reports import render
from rules.reports.common import Result
from rules.reports.csv_export import COLUMNS
from rules.scan import ScanProblem
from rules.scan_cli import with_problems

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
ARN = "arn:aws:lambda:eu-west-1:444455556666:function:billing"
RESULTS = [
    Result(
        Evaluation(
            "lambda-dlq-check",
            "billing",
            "AWS::Lambda::Function",
            Compliance.NON_COMPLIANT,
            "no DLQ",
        ),
        ARN,
    )
]
PROBLEMS = [
    ScanProblem("111122223333", "us-east-1", "", "cannot assume arn:aws:iam::111122223333:role/R"),
    ScanProblem("444455556666", "eu-west-1", ARN, "source is OUTDATED"),
]


def test_jsonl_gets_one_error_line_per_problem() -> None:
    lines = [
        json.loads(line)
        for line in with_problems("jsonl", render("jsonl", RESULTS), PROBLEMS).splitlines()
    ]
    assert lines[0]["rule"] == "lambda-dlq-check"
    assert lines[1:] == [
        {
            "error": PROBLEMS[0].message,
            "account_id": "111122223333",
            "region": "us-east-1",
            "resource": None,
        },
        {
            "error": "source is OUTDATED",
            "account_id": "444455556666",
            "region": "eu-west-1",
            "resource": ARN,
        },
    ]


def test_table_lists_them_under_no_verdict() -> None:
    text = with_problems("table", render("table", RESULTS), PROBLEMS)
    assert "No verdict (2):" in text
    assert "111122223333/us-east-1: not scanned: cannot assume" in text
    assert f"444455556666/eu-west-1: {ARN}: no verdict: source is OUTDATED" in text


def test_sarif_marks_the_run_failed_and_stays_valid() -> None:
    log = json.loads(with_problems("sarif", render("sarif", RESULTS), PROBLEMS))
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    [invocation] = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    assert [n["message"]["text"] for n in invocation["toolExecutionNotifications"]] == [
        p.describe() for p in PROBLEMS
    ]


def test_nothing_changes_without_problems() -> None:
    document = render("sarif", RESULTS)
    assert with_problems("sarif", document, []) == document


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_gets_a_no_verdict_row_per_problem_with_the_cause_in_the_annotation() -> None:
    """A security team importing the CSV must see what was not evaluated, not a clean
    organization."""
    text = with_problems("csv", render("csv", RESULTS, problems=PROBLEMS), PROBLEMS)
    header, evaluation, place, function = csv_rows(text)
    assert header == list(COLUMNS)
    assert evaluation[COLUMNS.index("compliance")] == "NON_COMPLIANT"
    assert dict(zip(COLUMNS, place, strict=True)) == {
        "account_id": "111122223333",
        "region": "us-east-1",
        "rule": "",
        "severity": "",
        "compliance": "NO_VERDICT",
        "resource_id": "",
        "resource_arn": "",
        "annotation": "not scanned: cannot assume arn:aws:iam::111122223333:role/R",
    }
    assert dict(zip(COLUMNS, function, strict=True)) == {
        "account_id": "444455556666",
        "region": "eu-west-1",
        "rule": "",
        "severity": "",
        "compliance": "NO_VERDICT",
        "resource_id": "billing",
        "resource_arn": ARN,
        "annotation": "source is OUTDATED",
    }
    assert text.endswith("\r\n") and text.count("\r\n") == 4


def test_csv_problem_cells_go_through_the_formula_guard() -> None:
    hostile = ScanProblem("111122223333", "us-east-1", '=HYPERLINK("x")', "-1+cmd|' /C calc'!A0")
    [_, row] = csv_rows(render("csv", [], problems=[hostile]))
    assert row[COLUMNS.index("resource_id")] == '\'=HYPERLINK("x")'
    assert row[COLUMNS.index("annotation")] == "'-1+cmd|' /C calc'!A0"
    place = ScanProblem("111122223333", "us-east-1", "", "=1+1")
    [_, row] = csv_rows(render("csv", [], problems=[place]))
    assert row[COLUMNS.index("annotation")] == "not scanned: =1+1"  # no longer a formula
    [_, row] = csv_rows(render("csv", [], problems=[ScanProblem(None, None, "@x", "+y")]))
    assert (row[COLUMNS.index("resource_id")], row[COLUMNS.index("annotation")]) == ("'@x", "'+y")


def test_html_shows_them_in_a_no_verdict_table_before_the_evaluations() -> None:
    page = render("html", RESULTS, problems=PROBLEMS)
    section = page.index('<table id="no-verdict">')
    assert "<h2>No verdict (2)</h2>" in page
    assert section < page.index('<table id="evaluations">')
    assert f'<td title="{ARN}">billing</td>' in page
    assert "not scanned: cannot assume arn:aws:iam::111122223333:role/R" in page
    # Only problems: the page still has the controls (their export writes the problems).
    alone = render("html", [], problems=PROBLEMS)
    assert 'id="export"' in alone and 'id="no-verdict"' in alone
