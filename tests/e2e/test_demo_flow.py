"""The demo's flow end to end on moto_server: the real handlers with Config's events, then what
Config and Security Hub hold (the exempted function's findings SUPPRESSED, no secret value
anywhere), a second run, ``scan`` against the same server, and an exemption that ends and
returns (Security Hub's workflow kept right with BatchUpdateFindings)."""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass
from typing import Iterator

import boto3
import pytest

from demo.flow import FlowOutcome, findings, run_flow
from demo.seed import DLQ, EXEMPTION, SECRET_VARIABLES, VPC, SampleFunction, SeededAccount, seed
from demo.server import MotoServer, pointed_at
from rules.aws.findings import NOTE_AUTHOR
from rules.aws.workflow import REINSTATED_NOTE
from rules.cli import main
from rules.exemptions import DEFAULT_TAG_KEY
from rules.model import Compliance
from rules.naming import config_rule_name
from rules.registry import RULES, RULES_BY_ID

CHANGE_TRIGGERED = [rule for rule in RULES if rule.change_triggered]
PERIODIC_ONLY = [rule for rule in RULES if not rule.change_triggered]

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
    log: io.StringIO


def exempted(account: SeededAccount) -> SampleFunction:
    (sample,) = [f for f in account.functions if f.exempted]
    return sample


@pytest.fixture(scope="module")
def demo_run(moto_server: MotoServer) -> Iterator[DemoRun]:
    """Seed and run the flow once for this module; tests read it (the last one runs again)."""
    with pointed_at(moto_server):
        moto_server.reset()
        session = boto3.Session(region_name="us-east-1")
        account = seed(session)
        log = io.StringIO()
        yield DemoRun(account, run_flow(session, account, log=log), session, log)


def test_config_holds_the_designed_verdict_of_every_function(demo_run: DemoRun) -> None:
    fresh, outcome = demo_run.account, demo_run.outcome
    verdicts = outcome.store.verdicts()
    assert len(verdicts) == len(fresh.functions) * len(RULES)
    for sample in fresh.functions:
        for rule_id, expected in sample.expected.items():
            stored = verdicts[(config_rule_name(rule_id), sample.name)]
            assert stored.compliance == expected.value, (sample.name, rule_id, stored.annotation)
            if rule_id in sample.exempted:
                assert "demo exemption behind WAF (until 2099-12-31)" in stored.annotation
    kinds = Counter(summary["messageType"] for summary in outcome.invocations)
    # Config sends no change event to a periodic-only rule: a sweep before the deletion first.
    assert PERIODIC_ONLY
    assert kinds == {
        "ConfigurationItemChangeNotification": len(fresh.functions) * len(CHANGE_TRIGGERED)
        + len(fresh.deleted) * len(CHANGE_TRIGGERED),
        "ScheduledNotification": len(RULES) + len(PERIODIC_ONLY),
    }
    # The last sweep of each rule saw every live function, through the Lambda API (moto records
    # no items); the periodic-only rules' first sweep saw every function, so their last one
    # also gives the deleted function NOT_APPLICABLE (change events did for the others).
    sweeps = [s for s in outcome.invocations if s["messageType"] == "ScheduledNotification"]
    for summary in sweeps[: len(PERIODIC_ONLY)]:
        assert sum(summary["evaluations"].values()) == len(fresh.functions)
    for rule, summary in zip(RULES, sweeps[len(PERIODIC_ONLY) :], strict=True):
        gone = 0 if rule.change_triggered else len(fresh.deleted)
        assert sum(summary["evaluations"].values()) == len(fresh.live) + gone, rule.id


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
            assert finding["Resources"][0]["Id"] == fresh.arns[sample.name]
            if rule_id in sample.exempted:
                assert (finding["RecordState"], finding["Compliance"]["Status"]) == (
                    "ACTIVE", "NOT_AVAILABLE"
                )
                assert finding["Workflow"] == {"Status": "SUPPRESSED"}
                assert finding["Note"]["UpdatedBy"] == NOTE_AUTHOR
                assert "demo exemption behind WAF (until 2099-12-31)" in finding["Note"]["Text"]
                continue
            assert (finding["RecordState"], finding["Compliance"]["Status"]) == STATUS[expected]
            assert (finding.get("Workflow") or {}).get("Status") != "SUPPRESSED"
            if expected is Compliance.NON_COMPLIANT:
                assert finding["Severity"]["Label"] == RULES_BY_ID[rule_id].severity.value


def test_scan_gives_the_same_verdicts_as_the_handlers(
    demo_run: DemoRun, session: boto3.Session, moto_server: MotoServer
) -> None:
    fresh, outcome = demo_run.account, demo_run.outcome
    # Only the deployed rules honour exemptions: scan judges the exempted function as it is.
    waived = {(config_rule_name(r), f.name) for f in fresh.functions for r in f.exempted}
    assert waived
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
    assert {key: scanned[key] for key in waived} == dict.fromkeys(waived, "NON_COMPLIANT")
    assert {k: v for k, v in scanned.items() if k not in waived} == handled


def test_no_secret_value_reaches_config_findings_or_logs(
    demo_run: DemoRun, session: boto3.Session
) -> None:
    fresh, outcome = demo_run.account, demo_run.outcome
    (holder,) = [f for f in fresh.functions if f.secrets]
    stored = outcome.store.verdicts()[
        (config_rule_name("lambda-no-secrets-in-env-vars"), holder.name)
    ]
    assert stored.compliance == "NON_COMPLIANT"
    for name in SECRET_VARIABLES:
        assert name in stored.annotation
    texts = {
        "Config": json.dumps([vars(v) for v in outcome.store.verdicts().values()], default=str),
        "Security Hub": json.dumps(findings(session, fresh), default=str),
        "logs": demo_run.log.getvalue(),
    }
    assert texts["logs"]
    for where, text in texts.items():
        for value in SECRET_VARIABLES.values():
            assert value not in text, where


def test_a_second_run_updates_and_never_duplicates(
    demo_run: DemoRun, session: boto3.Session
) -> None:
    fresh, outcome = demo_run.account, demo_run.outcome
    first = {f["Id"]: f for f in findings(session, fresh)}
    run_flow(session, fresh, outcome=outcome, retire_functions=False)
    second = {f["Id"]: f for f in findings(session, fresh)}
    assert second.keys() == first.keys()
    assert len(findings(session, fresh)) == len(first)
    updated = {i for i in first if second[i]["UpdatedAt"] > first[i]["UpdatedAt"]}
    # A periodic-only rule has no deletion event to replay, and its sweep reports a deleted
    # function only while Config holds a COMPLIANT / NON_COMPLIANT result for it: not again.
    settled = {
        i
        for i, f in first.items()
        if not RULES_BY_ID[f["GeneratorId"]].change_triggered
        and f["Resources"][0]["Id"] in {fresh.arns[d.name] for d in fresh.deleted}
    }
    assert len(settled) == len(PERIODIC_ONLY) * len(fresh.deleted)
    assert updated == first.keys() - settled
    assert all(second[i]["Compliance"] == first[i]["Compliance"] for i in first)
    assert all(second[i].get("Workflow") == first[i].get("Workflow") for i in first)


def test_an_exemption_that_ends_reinstates_and_one_that_returns_suppresses(
    demo_run: DemoRun, session: boto3.Session
) -> None:
    """Security Hub ignores Workflow and Note in a re-import (the patched moto_server too):
    only BatchUpdateFindings moves the exempted function's findings, both ways."""
    fresh, outcome = demo_run.account, demo_run.outcome
    sample, lam = exempted(fresh), session.client("lambda")
    waived = [RULES_BY_ID[VPC], RULES_BY_ID[DLQ]]
    assert sample.exempted == {rule.id for rule in waived}

    def workflow() -> dict[str, tuple[str, str, str]]:
        return {
            f["GeneratorId"]: (
                f["Compliance"]["Status"], f["Workflow"]["Status"], f["Note"]["Text"]
            )
            for f in findings(session, fresh)
            if f["Resources"][0]["Id"] == fresh.arns[sample.name]
            and f["GeneratorId"] in sample.exempted
        }

    lam.untag_resource(Resource=fresh.arns[sample.name], TagKeys=[DEFAULT_TAG_KEY])
    run_flow(session, fresh, rules=waived, outcome=outcome, retire_functions=False)
    assert workflow() == dict.fromkeys(sample.exempted, ("FAILED", "NEW", REINSTATED_NOTE))
    lam.tag_resource(Resource=fresh.arns[sample.name], Tags={DEFAULT_TAG_KEY: EXEMPTION})
    run_flow(session, fresh, rules=waived, outcome=outcome, retire_functions=False)
    after = workflow()
    assert {rule: state[:2] for rule, state in after.items()} == dict.fromkeys(
        sample.exempted, ("NOT_AVAILABLE", "SUPPRESSED")
    )
    assert all("demo exemption behind WAF" in note for _, _, note in after.values())
