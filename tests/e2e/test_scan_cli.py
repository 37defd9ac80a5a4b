"""``python -m rules scan`` against the sample account on moto_server."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import boto3
import jsonschema
import pytest

from demo.seed import SeededAccount
from demo.server import MotoServer
from rules.aws.findings import finding_id
from rules.cli import main
from rules.naming import config_rule_name
from rules.registry import DEFAULT_RULES, RULES

SARIF_SCHEMA = json.loads(
    (Path(__file__).parent.parent / "data" / "sarif-schema-2.1.0.json").read_text()
)


def scan(server: MotoServer, *arguments: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["scan", "--endpoint-url", server.url, "--region", "us-east-1", *arguments], out)
    return code, out.getvalue()


def lines(text: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture
def evaluations(seeded: SeededAccount, moto_server: MotoServer) -> list[dict[str, str]]:
    code, text = scan(moto_server, "--format", "jsonl")
    assert code == 0
    return lines(text)


def test_jsonl_is_the_default_off_a_terminal_and_names_its_source(
    seeded: SeededAccount, moto_server: MotoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = scan(moto_server)
    assert code == 0
    rows = lines(text)
    assert {(r["rule"], r["resource_id"]) for r in rows} == {
        (rule.id, sample.name) for rule in DEFAULT_RULES for sample in seeded.live
    }
    assert all(r["resource_type"] == "AWS::Lambda::Function" for r in rows)
    assert f"{len(seeded.live)} function(s) read from the Lambda API" in capsys.readouterr().err


def test_fail_on_non_compliant_exits_1(seeded: SeededAccount, moto_server: MotoServer) -> None:
    assert scan(moto_server, "--rule", "lambda-dlq-check", "--fail-on", "non-compliant")[0] == 1
    assert scan(moto_server, "--rule", "lambda-dlq-check")[0] == 0


def test_rule_and_parameters_select_and_configure(
    seeded: SeededAccount, moto_server: MotoServer
) -> None:
    code, text = scan(
        moto_server,
        "--rule",
        "lambda-concurrency-check",
        "--parameters",
        '{"ConcurrencyLimitLow": "4"}',
    )
    assert code == 0
    verdicts = {r["resource_id"]: r["compliance"] for r in lines(text)}
    assert {r["rule"] for r in lines(text)} == {"lambda-concurrency-check"}
    assert verdicts["gl-hardened"] == "COMPLIANT"  # 10 >= 4
    assert verdicts["gl-aws-managed-key"] == "NON_COMPLIANT"  # 3 < 4
    assert scan(moto_server, "--rule", "nope")[0] == 2


def test_sarif_validates_and_lists_the_failures(
    evaluations: list[dict[str, str]], moto_server: MotoServer
) -> None:
    code, text = scan(moto_server, "--format", "sarif")
    assert code == 0
    document = json.loads(text)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(document)
    failing = [e for e in evaluations if e["compliance"] == "NON_COMPLIANT"]
    assert len(document["runs"][0]["results"]) == len(failing)


def test_asff_uses_the_handlers_finding_ids(
    evaluations: list[dict[str, str]], seeded: SeededAccount, moto_server: MotoServer
) -> None:
    code, text = scan(moto_server, "--format", "asff")
    assert code == 0
    found = json.loads(text)["Findings"]
    expected = {
        finding_id(config_rule_name(e["rule"]), seeded.arns[e["resource_id"]]): e["compliance"]
        for e in evaluations
    }
    # Same ProductFields as the handler's findings: the Config rule as the stack names it.
    assert all(
        f["ProductFields"]["LambdaGuardrails/ConfigRuleName"] == f"guardrails-{f['GeneratorId']}"
        for f in found
    )
    # NOT_APPLICABLE (lambda-vpc-multi-az outside a VPC): archived, NOT_AVAILABLE.
    status = {"COMPLIANT": "PASSED", "NON_COMPLIANT": "FAILED", "NOT_APPLICABLE": "NOT_AVAILABLE"}
    assert {f["Id"]: f["Compliance"]["Status"] for f in found} == {
        i: status[c] for i, c in expected.items()
    }


def test_html_goes_to_the_output_file(
    seeded: SeededAccount, moto_server: MotoServer, tmp_path: Path
) -> None:
    target = tmp_path / "report.html"
    code, text = scan(moto_server, "--format", "html", "--output", str(target))
    assert code == 0 and text == ""
    page = target.read_text()
    assert all(sample.name in page for sample in seeded.live)
    assert "Lambda API" in page


def test_publish_imports_findings_once_per_rule_and_function(
    seeded: SeededAccount, moto_server: MotoServer, session: boto3.Session
) -> None:
    hub = session.client("securityhub")

    def ours() -> list[dict[str, object]]:
        pages = hub.get_paginator("get_findings").paginate()
        return [f for p in pages for f in p["Findings"] if str(f["Id"]).startswith("lambda-")]

    before = len(ours())
    assert scan(moto_server, "--publish", "--format", "jsonl")[0] == 0
    assert scan(moto_server, "--publish", "--format", "jsonl")[0] == 0
    after = ours()
    assert len(after) - before == len(seeded.live) * len(DEFAULT_RULES)
    assert len({f["Id"] for f in after}) == len(after)
    assert Counter(f["Compliance"]["Status"] for f in after)["FAILED"] > 0  # type: ignore[index]


def test_no_region_is_an_error(
    moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    assert main(["scan", "--endpoint-url", moto_server.url], io.StringIO()) == 2
    assert "no Region" in capsys.readouterr().err


def test_reads_run_in_parallel_and_give_the_same_result(
    seeded: SeededAccount, moto_server: MotoServer
) -> None:
    import threading
    import time

    from rules.parameters import NO_PARAMETERS
    from rules.scan import make_session, region_clients, scan_region

    def run(workers: int) -> tuple[int, list[tuple[str, str, str]]]:
        clients = region_clients(make_session(endpoint_url=moto_server.url), "us-east-1")
        lock, state = threading.Lock(), {"now": 0, "peak": 0}

        def before(**_: object) -> None:
            with lock:
                state["now"] += 1
                state["peak"] = max(state["peak"], state["now"])
            time.sleep(0.02)  # long enough for other threads to overlap

        def after(**_: object) -> None:
            with lock:
                state["now"] -= 1

        events = clients.client("lambda").meta.events
        events.register("before-send.lambda.GetPolicy", before)
        events.register("after-call.lambda.GetPolicy", after)
        scan = scan_region(
            clients, RULES, {rule.id: NO_PARAMETERS for rule in RULES}, workers=workers
        )
        verdicts = [
            (r.evaluation.rule_id, r.evaluation.resource_id, r.evaluation.compliance.value)
            for r in scan.results
        ]
        return state["peak"], verdicts

    serial_peak, serial = run(1)
    parallel_peak, parallel = run(4)
    assert serial_peak == 1
    assert parallel_peak > 1
    assert parallel == serial


def test_several_regions_are_scanned_and_reported_apart(
    seeded: SeededAccount,
    moto_server: MotoServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from demo.seed import SAMPLE, seed

    seed(boto3.Session(region_name="eu-west-1"), functions=SAMPLE[:2])
    capsys.readouterr()
    code, text = scan(moto_server, "--region", "eu-west-1", "--format", "table")
    assert code == 0
    err = capsys.readouterr().err
    live = len(seeded.live)
    assert f"us-east-1: {live} function(s)" in err and "eu-west-1: 2 function(s)" in err
    rows = [line.split()[:3] for line in text.splitlines()]
    assert [seeded.account_id, "eu-west-1", SAMPLE[0].name] in rows  # account/region columns
    assert [seeded.account_id, "us-east-1", SAMPLE[0].name] in rows
    assert f"{(live + 2) * len(DEFAULT_RULES)} evaluations" in text
