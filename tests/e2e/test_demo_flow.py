"""The demo's flow end to end on moto_server: the real handlers with Config's events, then what
Config and Security Hub hold, a second run, and ``scan`` against the same server."""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass
from typing import Iterator

import boto3
import pytest

from demo.flow import FlowOutcome, findings, run_flow
from demo.seed import SeededAccount, seed
from demo.server import MotoServer, pointed_at
from rules.cli import main
from rules.model import Compliance
from rules.naming import config_rule_name
from rules.registry import RULES, RULES_BY_ID

STATUS = {
    Compliance.COMPLIANT: ("ACTIVE", "PASSED"),
    Compliance.NON_COMPLIANT: ("ACTIVE", "FAILED"),
    Compliance.NOT_APPLICABLE: ("ARCHIVED", "NOT_AVAILABLE"),
}


@dataclass
class DemoRun:
    account: SeededAccount
    outcome: FlowOutcome
    session: boto3.Session


@pytest.fixture(scope="module")
def demo_run(moto_server: MotoServer) -> Iterator[DemoRun]:
    """Seed and run the flow once for this module; tests read it (the last one runs again)."""
    with pointed_at(moto_server):
        moto_server.reset()
        session = boto3.Session(region_name="us-east-1")
        account = seed(session)
        yield DemoRun(account, run_flow(session, account), session)


def test_config_holds_the_designed_verdict_of_every_function(demo_run: DemoRun) -> None:
    fresh, outcome = demo_run.account, demo_run.outcome
    verdicts = outcome.store.verdicts()
    assert len(verdicts) == len(fresh.functions) * len(RULES)
    for sample in fresh.functions:
        for rule_id, expected in sample.expected.items():
            stored = verdicts[(config_rule_name(rule_id), sample.name)]
            assert stored.compliance == expected.value, (sample.name, rule_id, stored.annotation)
    kinds = Counter(summary["messageType"] for summary in outcome.invocations)
    assert kinds == {
        "ConfigurationItemChangeNotification": len(fresh.functions) * len(RULES)
        + len(fresh.deleted) * len(RULES),
        "ScheduledNotification": len(RULES),
    }
    # Every sweep saw every live function, through the Lambda API (moto records no items).
    sweeps = [s for s in outcome.invocations if s["messageType"] == "ScheduledNotification"]
    for summary in sweeps:
        assert sum(summary["evaluations"].values()) == len(fresh.live)


def test_security_hub_holds_one_finding_per_rule_and_function(
    demo_run: DemoRun, session: boto3.Session
) -> None:
    fresh = demo_run.account
    held = findings(session, fresh)
    by_key = {
        (f["GeneratorId"], f["Resources"][0]["Details"]["AwsLambdaFunction"]["FunctionName"]): f
        for f in held
    }
    assert len(by_key) == len(held) == len(fresh.functions) * len(RULES)
    for sample in fresh.functions:
        for rule_id, expected in sample.expected.items():
            finding = by_key[(rule_id, sample.name)]
            assert (finding["RecordState"], finding["Compliance"]["Status"]) == STATUS[expected]
            assert finding["Resources"][0]["Id"] == fresh.arns[sample.name]
            if expected is Compliance.NON_COMPLIANT:
                assert finding["Severity"]["Label"] == RULES_BY_ID[rule_id].severity.value


def test_scan_gives_the_same_verdicts_as_the_handlers(
    demo_run: DemoRun, session: boto3.Session, moto_server: MotoServer
) -> None:
    fresh, outcome = demo_run.account, demo_run.outcome
    handled = {
        key: stored.compliance
        for key, stored in outcome.store.verdicts().items()
        if stored.compliance != "NOT_APPLICABLE"
    }
    out = io.StringIO()
    # Every rule, as the demo's handlers (lambda-tagged is off by default in scan).
    arguments = ["--endpoint-url", moto_server.url, "--region", fresh.region, "--format", "jsonl"]
    code = main(["scan", "--rule", "all", *arguments], stdout=out)
    assert code == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == len(fresh.live) * len(RULES)
    scanned = {
        (config_rule_name(line["rule"]), line["resource_id"]): line["compliance"]
        for line in lines
        if line["compliance"] != "NOT_APPLICABLE"
    }
    assert scanned == handled


def test_a_second_run_updates_and_never_duplicates(
    demo_run: DemoRun, session: boto3.Session
) -> None:
    fresh, outcome = demo_run.account, demo_run.outcome
    first = {f["Id"]: f for f in findings(session, fresh)}
    run_flow(session, fresh, outcome=outcome, retire_functions=False)
    second = {f["Id"]: f for f in findings(session, fresh)}
    assert second.keys() == first.keys()
    assert len(findings(session, fresh)) == len(first)
    updated = [i for i in first if second[i]["UpdatedAt"] > first[i]["UpdatedAt"]]
    assert len(updated) == len(first)
    assert all(second[i]["Compliance"] == first[i]["Compliance"] for i in first)
