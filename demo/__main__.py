"""``make demo``: the whole system on a laptop, no AWS account, no credentials.

1. the environment (the Makefile builds the venv; ``npm ci`` here when the CDK CLI is missing);
2. synthesize the CDK app and print what it would deploy;
3. start moto_server on a free 127.0.0.1 port, seed a sample account, enable Security Hub;
4. run the real rule handlers with Config-shaped change events and one scheduled sweep;
5. print the compliance matrix and Security Hub's findings by severity, write the HTML report;
6. remediate one FAILED finding with its runbook (a dry run, then a real run, then the rule
   re-evaluates), and stop the server (also on Ctrl-C, an error or SIGTERM).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

import boto3

from demo.flow import findings, results_with_arns, run_flow
from demo.remediate import remediate
from demo.seed import SeededAccount, seed
from demo.server import ROOT, MotoServer, pointed_at, stop_on_sigterm
from demo.synth import describe
from rules.model import Compliance
from rules.reports import render
from rules.reports.common import SEVERITY_ORDER, Result
from rules.rule import Severity

DEFAULT_REPORT = ROOT / "report" / "lambda-guardrails.html"


def step(number: int, title: str) -> None:
    print(f"\n== [{number}/6] {title}", flush=True)


def ensure_cdk_cli() -> str:
    if not (ROOT / "package.json").exists():
        return "no package.json: nothing to install"
    if (ROOT / "node_modules" / ".bin" / "cdk").exists():
        return "CDK CLI already installed (node_modules)"
    npm = shutil.which("npm")
    if npm is None:
        return "npm not found: skipping the CDK CLI install"
    completed = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT, capture_output=True, text=True,
        check=False,
    )
    if completed.returncode != 0:
        return f"npm ci failed: {completed.stderr.strip().splitlines()[-1:]}"
    return "installed the pinned CDK CLI with npm ci"


def print_findings(found: Sequence[dict[str, Any]]) -> None:
    active = [f for f in found if f.get("RecordState") == "ACTIVE"]
    failed = [f for f in active if f["Compliance"]["Status"] == "FAILED"]
    suppressed = [f for f in active if (f.get("Workflow") or {}).get("Status") == "SUPPRESSED"]
    states = Counter(
        (f.get("RecordState"), f["Compliance"]["Status"]) for f in found
    )
    print(
        f"{len(found)} findings: {states[('ACTIVE', 'FAILED')]} FAILED, "
        f"{states[('ACTIVE', 'PASSED')]} PASSED, "
        f"{len(suppressed)} SUPPRESSED (exempted), "
        f"{sum(n for (state, _), n in states.items() if state == 'ARCHIVED')} ARCHIVED "
        "(not applicable, or the function was deleted)"
    )
    for finding in suppressed:
        name = finding["Resources"][0]["Details"]["AwsLambdaFunction"]["FunctionName"]
        print(f"  SUPPRESSED {finding['GeneratorId']}: {name}: {finding['Note']['Text']}")
    for severity in SEVERITY_ORDER:
        if severity is Severity.INFORMATIONAL:
            continue
        of_severity = [f for f in failed if f["Severity"]["Label"] == severity.value]
        print(f"  {severity.value:<8} {len(of_severity):>3}")
        by_rule: dict[str, list[str]] = {}
        for finding in of_severity:
            name = finding["Resources"][0]["Details"]["AwsLambdaFunction"]["FunctionName"]
            by_rule.setdefault(finding["GeneratorId"], []).append(name)
        for rule_id, names in sorted(by_rule.items()):
            print(f"      {rule_id}: {', '.join(sorted(names))}")


def compare_with_scan(server: MotoServer, account: SeededAccount, results: list[Result]) -> str:
    from rules.parameters import parse_parameters
    from rules.registry import RULES
    from rules.scan import make_session, region_clients, scan_region

    scan = scan_region(
        region_clients(make_session(endpoint_url=server.url), account.region),
        RULES,
        # Parameters of today (lambda-runtime-supported), as the handlers' invocations.
        {rule.id: parse_parameters(rule, {}) for rule in RULES},
    )
    handler = {
        (r.evaluation.rule_id, r.evaluation.resource_id): r.evaluation.compliance
        for r in results
        if r.evaluation.compliance is not Compliance.NOT_APPLICABLE
    }
    # NOT_APPLICABLE on both sides (a function outside a VPC for lambda-vpc-multi-az, say), and
    # the rules a function's tag exempts it from: only the deployed rules honour exemptions.
    exempted = {(rule_id, f.name) for f in account.functions for rule_id in f.exempted}
    scanned = {
        (r.evaluation.rule_id, r.evaluation.resource_id): r.evaluation.compliance
        for r in scan.results
        if r.evaluation.compliance is not Compliance.NOT_APPLICABLE
        and (r.evaluation.rule_id, r.evaluation.resource_id) not in exempted
    }
    keys = handler.keys() | scanned.keys()
    differ = sorted(key for key in keys if handler.get(key) != scanned.get(key))
    if differ:
        return f"scan DISAGREES with the handlers on {len(differ)} verdict(s): {differ[:5]}"
    return (
        f"`python -m rules scan` agrees with the handlers on all {len(scanned)} verdicts "
        f"({len(scan.functions)} functions read from {scan.source_description}; "
        f"{len(exempted)} exempted verdict(s) left out: scan does not apply exemptions)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT, help="HTML report path")
    parser.add_argument("--skip-synth", action="store_true", help="skip steps 1-2 (CDK)")
    args = parser.parse_args(argv)
    started = time.monotonic()

    step(1, "Environment")
    print(f"Python {sys.version.split()[0]} at {sys.executable}")
    print("skipped (--skip-synth)" if args.skip_synth else ensure_cdk_cli())

    step(2, "What the CDK app would deploy")
    print("skipped (--skip-synth)" if args.skip_synth else "\n".join(describe()))

    with stop_on_sigterm(), MotoServer() as server, pointed_at(server):
        step(3, f"moto_server on {server.url}: seeding a sample account")
        session = boto3.Session(region_name="us-east-1")
        account = seed(session)
        for sample in account.functions:
            print(f"  {sample.name:<24} {sample.purpose}")
        print(f"Account {account.account_id}, {account.region}; Security Hub enabled.")

        step(4, "Running the rule handlers with Config's events")
        log_path = args.report.parent / "handler-log.jsonl"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w", encoding="utf-8") as log:
            outcome = run_flow(session, account, log=log)
        kinds = Counter(summary["messageType"] for summary in outcome.invocations)
        print(
            ", ".join(f"{n} x {kind}" for kind, n in sorted(kinds.items()))
            + f"; {sum(n for _, n in outcome.store.calls)} evaluations sent with PutEvaluations "
            f"in {len(outcome.store.calls)} calls"
        )
        print(f"The handlers' JSON logs and EMF metrics: {log_path}")

        step(5, "Results")
        results = results_with_arns(outcome.evaluations(), account)
        print("What AWS Config holds (latest evaluation per rule and function):")
        print(render("table", results))
        print("Findings in Security Hub, FAILED by severity:")
        print_findings(findings(session, account))
        print()
        print(compare_with_scan(server, account, results))
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(
            render(
                "html",
                results,
                notes=[
                    f"Local demo on moto_server: account {account.account_id}, {account.region}.",
                    "Evaluations as the rule handlers reported them to AWS Config.",
                ],
            ),
            encoding="utf-8",
        )
        print(f"\nHTML report: {args.report.resolve()}")

        step(6, "Remediation: one FAILED finding, its runbook, PASSED")
        templates = [] if args.skip_synth else sorted((ROOT / "cdk.out").glob("*.template.json"))
        print("\n".join(remediate(session, account, outcome, templates)))
        print("Stopping moto_server.")
    print(f"Done in {time.monotonic() - started:.1f} s.")
    return 0


def run(argv: Sequence[str] | None = None) -> int:
    """``main`` with a short last word instead of a traceback on Ctrl-C / SIGTERM (the server
    has been stopped by then)."""
    try:
        return main(argv)
    except KeyboardInterrupt:
        print("\nInterrupted: moto_server stopped.", file=sys.stderr)
        return 130
    except SystemExit as stop:
        if isinstance(stop.code, int) and stop.code > 128:
            print("\nTerminated: moto_server stopped.", file=sys.stderr)
        raise


if __name__ == "__main__":
    sys.exit(run())
