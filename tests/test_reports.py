from __future__ import annotations

import html
import io
import json
from html.parser import HTMLParser

import pytest

from rules.model import Compliance
from rules.progress import Progress
from rules.reports import render
from rules.reports.common import Result, failures_by_severity
from rules.rule import Severity
from tests.reports_helpers import function, sample_results


def test_jsonl_has_the_evaluate_fields_one_line_per_evaluation() -> None:
    results = sample_results()
    lines = render("jsonl", results).splitlines()
    assert len(lines) == len(results)
    for line, result in zip(lines, results, strict=True):
        assert json.loads(line) == result.evaluation.as_json()
        assert set(json.loads(line)) == {
            "rule",
            "resource_id",
            "resource_type",
            "compliance",
            "annotation",
        }


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


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.cells: list[tuple[str, str]] = []  # (class, title) of matrix cells

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        attributes = dict(attrs)
        if tag == "td" and attributes.get("title") is not None:
            self.cells.append((attributes.get("class") or "", attributes["title"] or ""))


def test_html_is_self_contained_escaped_and_has_one_cell_per_evaluation() -> None:
    results = sample_results()
    page = render("html", results, notes=["source: <Lambda API>"])
    parser = _Collector()
    parser.feed(page)
    assert "script" not in parser.tags  # the hostile function name stayed text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "source: &lt;Lambda API&gt;" in page
    assert "http://" not in page.replace('href="https://docs.aws.amazon.com', "")
    assert "<link" not in page and "src=" not in page
    expected = {"COMPLIANT": "pass", "NON_COMPLIANT": "fail", "NOT_APPLICABLE": "na"}
    assert sorted(parser.cells) == sorted(
        (expected[r.evaluation.compliance.value], r.evaluation.annotation) for r in results
    )


def test_html_counts_per_rule_and_severity() -> None:
    results = sample_results()
    page = render("html", results)
    failing = sum(r.evaluation.compliance is Compliance.NON_COMPLIANT for r in results)
    assert f"{len(results)} evaluations of 2 resource(s): {failing} non-compliant." in page
    assert '<span class="sev sev-CRITICAL">CRITICAL</span></td><td>1</td>' in page


def test_html_tells_regions_apart_when_a_name_repeats() -> None:
    from rules.engine import evaluate_function
    from rules.parameters import NO_PARAMETERS
    from rules.registry import RULES

    rule = RULES[0]
    results = [
        Result(evaluate_function(rule, fn, NO_PARAMETERS), fn.arn)
        for fn in (function("same", "eu-west-1"), function("same", "us-east-1"))
    ]
    page = render("html", results)
    assert page.count('<th scope="row"') == 2
    assert "eu-west-1" in page and "us-east-1" in page


def test_empty_reports() -> None:
    assert render("jsonl", []) == ""
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


def test_table_keeps_one_name_in_two_regions_apart() -> None:
    from rules.engine import evaluate_function
    from rules.parameters import NO_PARAMETERS
    from rules.registry import RULES

    results = [
        Result(evaluate_function(RULES[1], fn, NO_PARAMETERS), fn.arn)
        for fn in (function("same", "eu-west-1"), function("same", "us-east-1"))
    ]
    text = render("table", results)
    assert "same (111122223333/eu-west-1)" in text
    assert "same (111122223333/us-east-1)" in text


def test_progress_update_renames_the_phase_and_sets_the_total() -> None:
    stream = io.StringIO()
    with Progress(0, "eu-west-1 reading", stream=stream, enabled=True, interval=0) as bar:
        bar.update(7)
        assert bar.line() == "eu-west-1 reading 7"
        bar.update(3, 6, "eu-west-1 evaluating")
        assert bar.line() == "eu-west-1 evaluating [" + "#" * 15 + "-" * 15 + "] 3/6"
    assert "eu-west-1 reading 7" in stream.getvalue()


@pytest.mark.parametrize("fmt", ["table", "jsonl", "sarif", "html"])
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
