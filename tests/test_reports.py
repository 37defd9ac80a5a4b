from __future__ import annotations

import html
import io
import json
from dataclasses import replace

import pytest

from rules.model import Compliance
from rules.progress import Progress
from rules.reports import render
from rules.reports.common import Result, failures_by_severity
from rules.reports.csv_export import COLUMNS
from rules.rule import Severity
from tests.reports_helpers import function, organization_results, sample_results


def test_jsonl_has_the_evaluate_fields_and_where_the_function_lives() -> None:
    results = sample_results()
    lines = render("jsonl", results).splitlines()
    assert len(lines) == len(results)
    for line, result in zip(lines, results, strict=True):
        row = json.loads(line)
        assert row == {
            **result.evaluation.as_json(),
            "account_id": "111122223333",
            "region": "eu-west-1",
        }
        assert list(row) == [
            "rule",
            "resource_id",
            "resource_type",
            "compliance",
            "annotation",
            "account_id",
            "region",
        ]


def test_jsonl_place_comes_from_each_arn_and_is_null_without_one() -> None:
    evaluation = sample_results()[0].evaluation
    results = [
        Result(evaluation, "arn:aws:lambda:us-east-1:444455556666:function:good"),
        Result(evaluation, "arn:aws-cn:lambda:cn-north-1:777788889999:function:good"),
        Result(evaluation),  # e.g. a deleted item without an ARN: unknown, not guessed
    ]
    rows = [json.loads(line) for line in render("jsonl", results).splitlines()]
    assert [(row["account_id"], row["region"]) for row in rows] == [
        ("444455556666", "us-east-1"),
        ("777788889999", "cn-north-1"),
        (None, None),
    ]


def test_failures_by_severity_counts_only_non_compliant() -> None:
    results = sample_results()
    counts = failures_by_severity(results)
    failing = [r for r in results if r.evaluation.compliance is Compliance.NON_COMPLIANT]
    assert sum(counts.values()) == len(failing)
    # The public function fails the CRITICAL rule; the good one fails nothing critical.
    assert counts[Severity.CRITICAL] == 1
    assert list(counts) == [
        Severity.CRITICAL,
        Severity.HIGH,
        Severity.MEDIUM,
        Severity.LOW,
        Severity.INFORMATIONAL,
    ]


def test_table_names_every_function_and_the_severity_summary() -> None:
    text = render("table", sample_results())
    assert "good" in text and "<script>alert(1)</script>" in text
    assert "Non-compliant by severity: 1 CRITICAL" in text


def test_table_of_one_place_says_it_once_without_place_columns() -> None:
    text = render("table", sample_results())
    assert text.startswith("Account 111122223333, Region eu-west-1\n\nresource ")
    assert "account" not in text.splitlines()[2]


def _org_table() -> tuple[list[Result], list[str]]:
    results = organization_results(["222233334444", "111122223333"], ["us-east-1", "eu-west-1"], 2)
    return results, render("table", results).splitlines()


def test_table_across_places_has_account_and_region_columns_grouped() -> None:
    results, lines = _org_table()
    assert lines[0].split()[:3] == ["account", "region", "resource"]
    assert [line.split()[:3] for line in lines[2:10]] == [
        # account, then Region, ascending, whatever order the results came in
        ["111122223333", "eu-west-1", "fn-0000"],
        ["111122223333", "eu-west-1", "fn-0001"],
        ["111122223333", "us-east-1", "fn-0000"],
        ["111122223333", "us-east-1", "fn-0001"],
        ["222233334444", "eu-west-1", "fn-0000"],
        ["222233334444", "eu-west-1", "fn-0001"],
        ["222233334444", "us-east-1", "fn-0000"],
        ["222233334444", "us-east-1", "fn-0001"],
    ]
    assert lines[10].startswith(f"{len(results)} evaluations in 4 account/Region pair(s): ")


def test_table_across_places_names_the_place_of_each_failure() -> None:
    results, lines = _org_table()
    failing = [r for r in results if r.evaluation.compliance is Compliance.NON_COMPLIANT]
    assert sorted(line for line in lines if line.startswith("- ")) == sorted(
        f"- {r.account_id} {r.region} {r.evaluation.resource_id} / {r.evaluation.rule_id}:"
        for r in failing
    )


def test_table_marks_an_unknown_place_and_never_guesses_it() -> None:
    known = sample_results()[0]
    unknown = Result(replace(known.evaluation, resource_id="gone"))
    lines = render("table", [known, unknown]).splitlines()
    assert lines[2].split()[:3] == ["111122223333", "eu-west-1", "good"]
    assert lines[3].split()[:3] == ["-", "-", "gone"]


def test_empty_reports() -> None:
    assert render("jsonl", []) == ""
    assert render("table", []) == "no evaluations\n"
    assert render("csv", []).splitlines() == [",".join(COLUMNS)]
    assert "No evaluations." in render("html", [])


def test_progress_is_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with Progress(3, "reading", stream=stream) as bar:
        for _ in range(3):
            bar.advance()
    assert stream.getvalue() == ""


def test_progress_draws_and_clears_on_a_terminal() -> None:
    stream = io.StringIO()
    with Progress(4, "reading", stream=stream, enabled=True, interval=0) as bar:
        bar.advance(2)
        assert bar.line() == "reading [" + "#" * 15 + "-" * 15 + "] 2/4"
        bar.advance(5)  # never past the total
    output = stream.getvalue()
    assert "reading [" + "#" * 30 + "] 4/4" in output
    assert output.endswith("\r\x1b[2K")


def test_progress_update_renames_the_phase_and_sets_the_total() -> None:
    stream = io.StringIO()
    with Progress(0, "eu-west-1 reading", stream=stream, enabled=True, interval=0) as bar:
        bar.update(7)
        assert bar.line() == "eu-west-1 reading 7"
        bar.update(3, 6, "eu-west-1 evaluating")
        assert bar.line() == "eu-west-1 evaluating [" + "#" * 15 + "-" * 15 + "] 3/6"
    assert "eu-west-1 reading 7" in stream.getvalue()


@pytest.mark.parametrize("fmt", ["table", "jsonl", "sarif", "html", "csv"])
def test_every_format_carries_an_annotation_longer_than_configs_limit(fmt: str) -> None:
    from rules.engine import evaluate_function
    from rules.parameters import NO_PARAMETERS
    from rules.policy import parse_policy
    from rules.registry import get_rule

    sids = [f"open-to-everyone-{i:02d}" for i in range(15)]
    statements = [
        {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": "*",
            "Action": "lambda:InvokeFunction",
            "Resource": "*",
        }
        for sid in sids
    ]
    document = {"Version": "2012-10-17", "Statement": statements}
    fn = function("wide-open", policy=parse_policy(json.dumps(document)))
    rule = get_rule("lambda-function-public-access-prohibited")
    result = Result(evaluate_function(rule, fn, NO_PARAMETERS), fn.arn)
    assert len(result.evaluation.annotation) > 256  # Config's limit, cut only on PutEvaluations
    text = " ".join(render(fmt, [result]).split())  # the table wraps long lines
    if fmt == "html":
        text = html.unescape(text)
    for sid in sids:  # none of them lost to a cut (or split by the table's wrapping)
        assert f"statement '{sid}' allows Principal '*'" in text
