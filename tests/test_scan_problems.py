"""What got no verdict is part of every text report (``rules.scan_cli.with_problems``)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from rules.model import Compliance, Evaluation
from rules.reports import render
from rules.reports.common import Result
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
