from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rules.cli import main
from rules.fail_on import CHOICES, fails
from rules.model import Compliance, Evaluation
from rules.registry import ENABLED_BY_DEFAULT, RULES
from tests.conftest import EVENTS, load_event

DEFAULTS = len(ENABLED_BY_DEFAULT)  # `all` runs the rules on by default

ROOT = Path(__file__).parent.parent


def run(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[dict[str, Any]], str]:
    status = main(argv)
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines() if line.strip()]
    return status, lines, captured.err


def write(tmp_path: Path, name: str, document: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return str(path)


def as_event(
    item: dict[str, Any], parameters: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    event = load_event("event_change.json")
    invoking = json.loads(event["invokingEvent"])
    invoking["configurationItem"] = item
    event["invokingEvent"] = json.dumps(invoking)
    if parameters is None:
        event.pop("ruleParameters")
    else:
        event["ruleParameters"] = json.dumps(parameters)
    event.update(extra)
    return event


def test_item_file_prints_one_json_object_per_rule(capsys) -> None:
    status, lines, err = run(
        ["evaluate", "--rule", "lambda-dlq-check", str(EVENTS / "lambda_ci_compliant.json")], capsys
    )
    assert (status, err) == (0, "")
    assert lines == [
        {
            "rule": "lambda-dlq-check",
            "resource_id": "orders-api",
            "resource_type": "AWS::Lambda::Function",
            "compliance": "COMPLIANT",
            "annotation": "dead-letter target is arn:aws:sqs:us-east-1:111122223333:orders-api-dlq",
            "account_id": "111122223333",
            "region": "us-east-1",
        }
    ]


def test_whole_event_applies_its_rule_parameters(tmp_path: Path, capsys) -> None:
    item = load_event("lambda_ci_compliant.json")
    path = write(tmp_path, "event.json", as_event(item, {"ConcurrencyLimitHigh": "10"}))
    status, lines, _ = run(["evaluate", "--rule", "lambda-concurrency-check", path], capsys)
    assert status == 0
    assert lines[0]["compliance"] == "NON_COMPLIANT"
    assert "above ConcurrencyLimitHigh 10" in lines[0]["annotation"]


def test_cli_parameters_replace_the_event_parameters(tmp_path: Path, capsys) -> None:
    item = load_event("lambda_ci_compliant.json")
    path = write(tmp_path, "event.json", as_event(item, {"ConcurrencyLimitHigh": "10"}))
    argv = [
        "evaluate",
        "--rule",
        "lambda-concurrency-check",
        "--parameters",
        '{"ConcurrencyLimitLow": "1"}',
        path,
    ]
    status, lines, _ = run(argv, capsys)
    assert (status, lines[0]["compliance"]) == (0, "COMPLIANT")


def test_event_without_rule_parameters(tmp_path: Path, capsys) -> None:
    path = write(tmp_path, "event.json", as_event(load_event("lambda_ci_noncompliant.json")))
    status, lines, _ = run(["evaluate", "--rule", "lambda-inside-vpc", path], capsys)
    assert (status, lines[0]["compliance"]) == (0, "NON_COMPLIANT")


def test_event_left_scope_is_not_applicable(tmp_path: Path, capsys) -> None:
    path = write(
        tmp_path,
        "event.json",
        as_event(load_event("lambda_ci_noncompliant.json"), eventLeftScope=True),
    )
    status, lines, _ = run(["evaluate", "--rule", "all", path], capsys)
    assert status == 0
    assert {line["compliance"] for line in lines} == {"NOT_APPLICABLE"} and len(lines) == DEFAULTS


def test_reference_change_event(capsys) -> None:
    status, lines, err = run(
        [
            "evaluate",
            "--rule",
            "lambda-function-public-access-prohibited",
            str(EVENTS / "event_change.json"),
        ],
        capsys,
    )
    assert status == 0 and err == ""
    assert lines[0]["compliance"] == "NON_COMPLIANT"
    assert "FunctionURLAllowPublicAccess" in lines[0]["annotation"]


def test_bad_files_are_reported_and_the_rest_still_evaluated(tmp_path: Path, capsys) -> None:
    missing = str(tmp_path / "missing.json")
    garbled = write(tmp_path, "garbled.json", "{not json")
    other = write(tmp_path, "other.json", {"hello": "world"})
    scheduled = str(EVENTS / "event_scheduled.json")
    oversized = str(EVENTS / "event_oversized.json")
    good = str(EVENTS / "lambda_ci_compliant.json")
    status, lines, err = run(
        [
            "evaluate",
            "--rule",
            "lambda-dlq-check",
            missing,
            garbled,
            other,
            scheduled,
            oversized,
            good,
        ],
        capsys,
    )
    assert status == 2
    assert [line["compliance"] for line in lines] == ["COMPLIANT"]
    errors = err.splitlines()
    assert len(errors) == 5
    assert f"{missing}: cannot read file" in errors[0]
    assert f"{garbled}: not valid JSON" in errors[1]
    assert f"{other}: neither a configuration item nor" in errors[2]
    assert f"{scheduled}: ScheduledNotification carries no configuration item" in errors[3]
    assert f"{oversized}: oversized configuration item" in errors[4]


def test_unknown_environment_without_an_acceptable_key_fails_closed(capsys) -> None:
    # Config does not record environment variables; offline there is nothing to read them from.
    path = str(EVENTS / "lambda_ci_noncompliant.json")
    status, lines, err = run(["evaluate", "--rule", "lambda-env-vars-cmk-encrypted", path], capsys)
    assert (status, err) == (0, "")
    assert lines[0]["compliance"] == "NON_COMPLIANT"
    assert "AWS Config never records them" in lines[0]["annotation"]
    assert "counted as non-compliant until they are read" in lines[0]["annotation"]


def test_reference_items_give_a_verdict_for_every_rule(capsys) -> None:
    argv = ["evaluate", "--rule", "all", str(EVENTS / "lambda_ci_noncompliant.json")]
    status, lines, _ = run(argv, capsys)
    assert status == 0
    assert {line["compliance"] for line in lines} == {"NON_COMPLIANT"} and len(lines) == DEFAULTS


def test_invalid_event_parameters_are_reported_per_file(tmp_path: Path, capsys) -> None:
    item = load_event("lambda_ci_compliant.json")
    bad = write(tmp_path, "bad.json", as_event(item, {"ConcurrencyLimitLow": "many"}))
    good = write(tmp_path, "good.json", as_event(item, {}))
    status, lines, err = run(["evaluate", "--rule", "lambda-concurrency-check", bad, good], capsys)
    assert status == 2 and len(lines) == 1
    assert "ConcurrencyLimitLow='many'" in err and bad in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rule", "lambda-nope"], "unknown rule lambda-nope"),
        (["--rule", "lambda-dlq-check", "--parameters", "{x"], "--parameters is not valid JSON"),
        (["--rule", "lambda-dlq-check", "--parameters", "[]"], "must be a JSON object"),
        (["--rule", "lambda-dlq-check", "--parameters", "[" * 100_000], "nested too deeply"),
        (["--rule", "lambda-dlq-check", "--parameters", '{"dlqArns": NaN}'], "NaN is not"),
        (["--rule", "lambda-dlq-check", "--parameters", '{"dlqArns": "nope"}'], "dlqArns='nope'"),
        (
            ["--rule", "lambda-dlq-check", "--parameters", '{"subnetIds": "subnet-0a1b2c3d"}'],
            "unknown parameter",
        ),
    ],
)
def test_usage_errors_exit_2_before_reading(argv: list[str], message: str, capsys) -> None:
    status, lines, err = run(["evaluate", *argv, str(EVENTS / "lambda_ci_compliant.json")], capsys)
    assert (status, lines) == (2, [])
    assert message in err


def test_several_rules_each_take_their_own_parameters(capsys) -> None:
    argv = [
        "evaluate",
        "--rule",
        "lambda-dlq-check",
        "--rule",
        "lambda-concurrency-check",
        "--parameters",
        json.dumps(
            {
                "ConcurrencyLimitHigh": "10",
                "dlqArns": "arn:aws:sqs:us-east-1:111122223333:orders-api-dlq",
            }
        ),
        str(EVENTS / "lambda_ci_compliant.json"),
    ]
    status, lines, _ = run(argv, capsys)
    assert status == 0
    assert [(line["rule"], line["compliance"]) for line in lines] == [
        ("lambda-dlq-check", "COMPLIANT"),
        ("lambda-concurrency-check", "NON_COMPLIANT"),
    ]


def test_item_lists_and_api_responses(tmp_path: Path, capsys) -> None:
    items = [load_event("lambda_ci_compliant.json"), load_event("lambda_ci_noncompliant.json")]
    listed = write(tmp_path, "list.json", items)
    response = write(tmp_path, "response.json", {"baseConfigurationItems": items})
    status, lines, _ = run(["evaluate", "--rule", "lambda-inside-vpc", listed, response], capsys)
    assert status == 0
    assert [line["compliance"] for line in lines] == ["COMPLIANT", "NON_COMPLIANT"] * 2


def test_table_format(capsys) -> None:
    argv = [
        "evaluate",
        "--rule",
        "lambda-inside-vpc",
        "--rule",
        "lambda-dlq-check",
        "--format",
        "table",
        str(EVENTS / "lambda_ci_compliant.json"),
        str(EVENTS / "event_change.json"),
    ]
    status = main(argv)
    out = capsys.readouterr().out
    assert status == 0
    assert "lambda-inside-vpc" in out and "FAIL" in out and "PASS" in out
    assert "no dead-letter queue is configured" in out


def test_list_shows_rules_and_parameters(capsys) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for rule in RULES:
        assert rule.id in out
        for spec in rule.parameters:
            assert spec.name in out


def test_list_json_is_derived_from_the_registry(capsys) -> None:
    assert main(["list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [entry["id"] for entry in listed] == [rule.id for rule in RULES]
    assert [p["name"] for p in listed[4]["parameters"]] == [
        "ConcurrencyLimitLow",
        "ConcurrencyLimitHigh",
    ]


def test_module_entry_point_reads_stdin() -> None:
    document = (EVENTS / "lambda_ci_compliant.json").read_text()
    result = subprocess.run(
        [sys.executable, "-m", "rules", "evaluate", "--rule", "lambda-inside-vpc", "-"],
        input=document,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["compliance"] == "COMPLIANT"


def test_hand_written_event_without_message_type_is_a_change(tmp_path: Path, capsys) -> None:
    event = {
        "invokingEvent": json.dumps({"configurationItem": load_event("lambda_ci_compliant.json")}),
        "ruleParameters": json.dumps({"subnetIds": "subnet-0a1b2c3d4e5f60718"}),
    }
    path = write(tmp_path, "event.json", event)
    status, lines, _ = run(["evaluate", "--rule", "lambda-inside-vpc", path], capsys)
    assert (status, lines[0]["compliance"]) == (0, "NON_COMPLIANT")
    assert "subnet-0f1e2d3c4b5a69788 not in subnetIds" in lines[0]["annotation"]


def test_null_event_fields_mean_unset(tmp_path: Path, capsys) -> None:
    event = as_event(load_event("lambda_ci_compliant.json"), eventLeftScope=None)
    event["ruleParameters"] = "null"
    path = write(tmp_path, "event.json", event)
    status, lines, _ = run(["evaluate", "--rule", "lambda-dlq-check", path], capsys)
    assert (status, lines[0]["compliance"]) == (0, "COMPLIANT")


# Issue 8: bad input is an error, never silence.


@pytest.mark.parametrize(
    "document",
    [
        [],
        [[]],
        {"configurationItems": []},
        {"configurationItems": [], "nextToken": "abc"},  # GetResourceConfigHistory, no items
        {"baseConfigurationItems": [], "unprocessedResourceKeys": []},  # BatchGetResourceConfig
    ],
    ids=["empty-list", "list-of-empty-list", "history", "history-page", "batch"],
)
def test_a_file_without_any_configuration_item_is_an_error(
    tmp_path: Path, capsys, document: Any
) -> None:
    empty = write(tmp_path, "empty.json", document)
    good = str(EVENTS / "lambda_ci_compliant.json")
    status, lines, err = run(["evaluate", "--rule", "lambda-dlq-check", empty, good], capsys)
    assert status == 2
    assert [line["compliance"] for line in lines] == ["COMPLIANT"]
    [error] = err.splitlines()
    assert error.startswith(f"rules evaluate: {empty}") and "holds no configuration item" in error


def test_unprocessed_batch_keys_are_reported_after_the_rest_is_evaluated(
    tmp_path: Path, capsys
) -> None:
    response = {
        "baseConfigurationItems": [load_event("lambda_ci_compliant.json")],
        "unprocessedResourceKeys": [
            {"resourceType": "AWS::Lambda::Function", "resourceId": "billing-worker"},
            {"resourceType": "AWS::Lambda::Function", "resourceId": "audit-export"},
        ],
    }
    path = write(tmp_path, "batch.json", response)
    status, lines, err = run(["evaluate", "--rule", "lambda-dlq-check", path], capsys)
    assert status == 2
    assert [(line["resource_id"], line["compliance"]) for line in lines] == [
        ("orders-api", "COMPLIANT")
    ]
    errors = err.splitlines()
    assert len(errors) == 2
    for error, name in zip(errors, ("billing-worker", "audit-export"), strict=True):
        assert error.startswith(f"rules evaluate: {path}")
        assert f"AWS::Lambda::Function {name} was not processed" in error


def test_a_batch_response_with_only_unprocessed_keys_reports_both(tmp_path: Path, capsys) -> None:
    key = {"resourceType": "AWS::Lambda::Function", "resourceId": "billing-worker"}
    path = write(tmp_path, "batch.json", {"unprocessedResourceKeys": [key]})
    status, lines, err = run(["evaluate", "--rule", "lambda-dlq-check", path], capsys)
    assert (status, lines) == (2, [])
    assert "holds no configuration item" in err
    assert "AWS::Lambda::Function billing-worker was not processed" in err


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom"],
)
def test_utf8_and_utf16_files_with_a_byte_order_mark_are_read(
    tmp_path: Path, capsys, encoding: str, bom: bytes
) -> None:
    item = load_event("lambda_ci_compliant.json")
    item["tags"] = {"team": "Zürich – 東京"}  # not ASCII, so the encoding matters
    path = tmp_path / "item.json"
    path.write_bytes(bom + json.dumps(item, ensure_ascii=False).encode(encoding))
    status, lines, err = run(["evaluate", "--rule", "lambda-dlq-check", str(path)], capsys)
    assert (status, err) == (0, "")
    assert [line["compliance"] for line in lines] == ["COMPLIANT"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"resourceType": "caf\xe9"}', "not UTF-8, nor UTF-16/UTF-32 with a byte-order mark"),
        (b"[" * 100_000, "nested too deeply for the JSON parser"),
        (b'{"a": NaN}', "NaN is not a JSON value"),
        (b'{"a": -Infinity}', "-Infinity is not a JSON value"),
        (b'{"a": 1e400}', "too large for a double"),
        (b'{"a": ' + b"7" * 5000 + b"}", "an integer of 5000 digits is longer than"),
        # json.loads would keep the last "Policy" (null: "no policy") and hide the public one.
        (
            b'{"supplementaryConfiguration": {"Policy": "{}", "Policy": null}}',
            "has the key 'Policy' twice in one object",
        ),
    ],
    ids=["latin-1", "deep", "nan", "infinity", "overflowing-float", "long-integer", "duplicate"],
)
def test_unreadable_json_is_a_clear_error_for_that_file_only(
    tmp_path: Path, capsys, content: bytes, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    good = str(EVENTS / "lambda_ci_compliant.json")
    status, lines, err = run(["evaluate", "--rule", "lambda-dlq-check", str(bad), good], capsys)
    assert status == 2
    assert [line["compliance"] for line in lines] == ["COMPLIANT"]
    [error] = err.splitlines()
    assert error.startswith(f"rules evaluate: {bad}: ") and message in error
    assert "set_int_max_str_digits" not in error


def test_lists_nested_as_deep_as_the_parser_allows_are_still_read(tmp_path: Path, capsys) -> None:
    item = json.dumps(load_event("lambda_ci_compliant.json"))
    path = write(tmp_path, "deep.json", "[" * 900 + item + "]" * 900)
    status, lines, err = run(["evaluate", "--rule", "lambda-dlq-check", path], capsys)
    assert (status, err) == (0, "")
    assert [line["compliance"] for line in lines] == ["COMPLIANT"]


def _module(argv: list[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "rules", *argv],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        check=False,
    )


def test_stdin_is_read_as_utf16_with_a_byte_order_mark_and_bad_stdin_is_a_clear_error() -> None:
    document = (EVENTS / "lambda_ci_compliant.json").read_text()
    argv = ["evaluate", "--rule", "lambda-inside-vpc", "-"]
    read = _module(argv, b"\xff\xfe" + document.encode("utf-16-le"))
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout)["compliance"] == "COMPLIANT"
    for bad, message in ((b"[" * 100_000, b"nested too deeply"), (b"[NaN]", b"NaN is not")):
        failed = _module(argv, bad)
        assert failed.returncode == 2
        assert failed.stderr.startswith(b"rules evaluate: -: not valid JSON: ")
        assert message in failed.stderr and b"Traceback" not in failed.stderr


# Issue 8: CLI habits.


def test_version_is_pyprojects() -> None:
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    result = subprocess.run(
        [sys.executable, "-m", "rules", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"python -m rules {version}"


def test_evaluate_accepts_jsonl_as_the_name_of_its_json_lines(capsys) -> None:
    path = str(EVENTS / "lambda_ci_noncompliant.json")
    outputs = []
    for fmt in ("json", "jsonl"):
        status, lines, _ = run(["evaluate", "--rule", "all", "--format", fmt, path], capsys)
        assert status == 0
        outputs.append(lines)
    assert outputs[0] == outputs[1] and len(outputs[0]) == DEFAULTS


def test_scan_accepts_json_as_the_name_of_jsonl() -> None:
    from rules.cli import build_parser
    from rules.scan_cli import FORMAT_ALIASES

    args = build_parser().parse_args(["scan", "--format", "json"])
    assert FORMAT_ALIASES[args.format] == "jsonl"


# lambda_ci_noncompliant fails every rule: public access (CRITICAL), inside VPC (LOW), CMK
# (MEDIUM), DLQ (MEDIUM), concurrency (LOW).
@pytest.mark.parametrize(
    ("rules", "fail_on", "status"),
    [
        (["lambda-inside-vpc"], None, 0),
        (["lambda-inside-vpc"], "non-compliant", 1),
        (["lambda-inside-vpc"], "low", 1),
        (["lambda-inside-vpc"], "medium", 0),
        (["lambda-dlq-check"], "medium", 1),
        (["lambda-dlq-check"], "high", 0),
        (["lambda-dlq-check", "lambda-inside-vpc"], "HIGH", 0),
        (["lambda-function-public-access-prohibited"], "high", 1),
        (["lambda-function-public-access-prohibited"], "critical", 1),
        (["lambda-concurrency-check"], "informational", 1),
    ],
)
def test_evaluate_fail_on_non_compliant_or_a_severity_threshold(
    capsys, rules: list[str], fail_on: str | None, status: int
) -> None:
    argv = ["evaluate", *(arg for rule in rules for arg in ("--rule", rule))]
    if fail_on:
        argv += ["--fail-on", fail_on]
    code, lines, err = run([*argv, str(EVENTS / "lambda_ci_noncompliant.json")], capsys)
    assert (code, err) == (status, "")
    assert {line["compliance"] for line in lines} == {"NON_COMPLIANT"}


def test_evaluate_fail_on_does_not_fail_compliant_items(capsys) -> None:
    path = str(EVENTS / "lambda_ci_compliant.json")
    argv = ["evaluate", "--rule", "lambda-dlq-check", "--fail-on", "informational", path]
    assert run(argv, capsys)[0] == 0


def test_evaluate_fail_on_exit_2_wins_when_a_file_failed(tmp_path: Path, capsys) -> None:
    empty = write(tmp_path, "empty.json", [])
    failing = str(EVENTS / "lambda_ci_noncompliant.json")
    argv = ["evaluate", "--rule", "lambda-inside-vpc", "--fail-on", "non-compliant"]
    assert run([*argv, failing, empty], capsys)[0] == 2


def _non_compliant(rule_id: str) -> Evaluation:
    return Evaluation(rule_id, "fn", "AWS::Lambda::Function", Compliance.NON_COMPLIANT, "x")


@pytest.mark.parametrize(
    ("rule_id", "failing_thresholds"),
    [
        ("lambda-function-public-access-prohibited", {"critical", "high", "medium", "low"}),
        ("lambda-dlq-check", {"medium", "low"}),
        ("lambda-inside-vpc", {"low"}),
    ],
)
def test_fail_on_a_severity_fails_at_that_severity_and_above(
    rule_id: str, failing_thresholds: set[str]
) -> None:
    evaluations = [_non_compliant(rule_id)]
    for threshold in ("critical", "high", "medium", "low", "informational"):
        expected = threshold in failing_thresholds or threshold == "informational"
        assert fails(threshold, evaluations) is expected, threshold
    assert fails("non-compliant", evaluations) and not fails(None, evaluations)


def test_fail_on_reads_the_severity_from_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from rules import registry
    from rules.rule import Severity

    rule = registry.RULES_BY_ID["lambda-inside-vpc"]
    assert not fails("high", [_non_compliant(rule.id)])
    raised = dataclasses.replace(rule, severity=Severity.HIGH)
    monkeypatch.setattr(registry, "RULES_BY_ID", {**registry.RULES_BY_ID, rule.id: raised})
    assert fails("high", [_non_compliant(rule.id)])


def test_fail_on_ignores_evaluations_that_are_not_non_compliant() -> None:
    evaluations = [
        Evaluation("lambda-function-public-access-prohibited", "fn", "t", compliance, "ok")
        for compliance in (Compliance.COMPLIANT, Compliance.NOT_APPLICABLE)
    ]
    assert not any(fails(choice, evaluations) for choice in CHOICES)


@pytest.mark.parametrize("value", ["nope", "severe"])
def test_fail_on_rejects_unknown_values(value: str, capsys) -> None:
    for command in (["evaluate", "--rule", "all"], ["scan"]):
        with pytest.raises(SystemExit) as exited:
            main([*command, "--fail-on", value, str(EVENTS / "lambda_ci_compliant.json")])
        assert exited.value.code == 2
        assert "--fail-on" in capsys.readouterr().err
