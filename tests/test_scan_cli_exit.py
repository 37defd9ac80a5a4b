"""``scan``'s --format names and exit status, in-process on moto (no server needed)."""

from __future__ import annotations

import io
import json

import pytest

from rules.cli import main
from tests.aws.fixtures import REGION, create_function


def scan(*arguments: str) -> tuple[int, str]:
    out = io.StringIO()
    argv = ["scan", "--region", REGION, "--source", "lambda", "--workers", "1", *arguments]
    return main(argv, out), out.getvalue()


@pytest.fixture
def function_without_dlq(mocked: None) -> str:
    create_function("no-dlq")  # NON_COMPLIANT for lambda-dlq-check (MEDIUM)
    return "no-dlq"


def test_format_json_is_jsonl(function_without_dlq: str) -> None:
    outputs = [scan("--rule", "lambda-dlq-check", "--format", fmt) for fmt in ("json", "jsonl")]
    assert outputs[0] == outputs[1]
    code, text = outputs[0]
    assert code == 0
    [row] = [json.loads(line) for line in text.splitlines()]
    assert (row["resource_id"], row["compliance"]) == (function_without_dlq, "NON_COMPLIANT")


@pytest.mark.parametrize(
    ("fail_on", "status"),
    [
        (None, 0),
        ("non-compliant", 1),
        ("critical", 0),
        ("high", 0),
        ("medium", 1),
        ("low", 1),
        ("informational", 1),
    ],
)
def test_fail_on_a_severity_threshold(
    function_without_dlq: str, fail_on: str | None, status: int
) -> None:
    arguments = ["--rule", "lambda-dlq-check", "--format", "jsonl"]
    if fail_on:
        arguments += ["--fail-on", fail_on]
    assert scan(*arguments)[0] == status
