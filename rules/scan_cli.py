"""The ``scan`` subcommand's arguments and run. AWS modules are imported only when a scan runs,
so ``evaluate`` and ``list`` stay free of botocore."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Sequence, TextIO

from rules.errors import GuardrailsError
from rules.fail_on import add_fail_on_argument, fails
from rules.naming import DEFAULT_RULE_NAME_PREFIX, config_rule_name
from rules.progress import Progress
from rules.reports import TEXT_FORMATS, render
from rules.reports.common import Result

if TYPE_CHECKING:
    from rules.parameters import Parameters
    from rules.rule import Rule
    from rules.scan import RegionScan

FORMATS = (*TEXT_FORMATS, "asff")
# Accepted for jsonl: the name evaluate used for the same JSON lines.
FORMAT_ALIASES = {"json": "jsonl"}
EXIT_NON_COMPLIANT = 1
EXIT_INCOMPLETE = 2


def add_scan_parser(commands: Any) -> None:
    scan = commands.add_parser(
        "scan",
        help="evaluate every Lambda function of an account's Regions now",
        description=(
            "Reads every function the way the periodic rule does (AWS Config's recorded items "
            "where a recorder records Lambda continuously and healthily, the Lambda API "
            "otherwise; it says which and why), runs "
            "the rules and prints the result. Credentials: the standard chain or --profile."
        ),
    )
    scan.add_argument("--profile", help="named profile from the AWS config/credentials files")
    scan.add_argument(
        "--region",
        action="append",
        metavar="REGION",
        help="Region to scan; repeat for several (default: the profile's / AWS_REGION)",
    )
    scan.add_argument(
        "--endpoint-url", metavar="URL", help="send every call there (moto_server, emulators)"
    )
    scan.add_argument(
        "--rule",
        action="append",
        metavar="RULE_ID",
        help="rule to run; repeat for several (default: all)",
    )
    scan.add_argument("--parameters", metavar="JSON", help="rule parameters as a JSON object")
    scan.add_argument(
        "--format",
        choices=(*FORMATS, *FORMAT_ALIASES),
        help="table (default on a terminal), jsonl (default otherwise; json is the same), "
        "sarif, asff, html, csv",
    )
    scan.add_argument("--output", "-o", metavar="FILE", help="write the report there, not stdout")
    add_fail_on_argument(scan)
    scan.add_argument(
        "--publish",
        action="store_true",
        help="also import the findings into Security Hub (BatchImportFindings) and ask Config "
        "to re-run the deployed rules (StartConfigRulesEvaluation), which report the evaluations",
    )
    scan.add_argument(
        "--source",
        choices=("auto", "config", "lambda"),
        default="auto",
        help="where to read functions from (default: Config when a recorder records Lambda "
        "continuously and healthily; config fails when none does)",
    )
    scan.add_argument(
        "--workers", type=int, default=8, metavar="N", help="parallel reads per Region (8)"
    )
    scan.add_argument(
        "--rule-name-prefix",
        default=DEFAULT_RULE_NAME_PREFIX,
        metavar="PREFIX",
        help="the deployed Config rules' name prefix (the stack's ruleNamePrefix, default "
        f"{DEFAULT_RULE_NAME_PREFIX!r}): named in findings and re-run by --publish",
    )


def run_scan(
    args: argparse.Namespace,
    rules: Sequence[Rule],
    parameters: dict[str, Parameters],
    out: TextIO,
) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from rules.aws.errors import AccessDeniedError, PublishError
    from rules.scan import make_session, region_clients

    session = make_session(args.profile, args.endpoint_url)
    regions = list(dict.fromkeys(args.region or [])) or [session.get_config_variable("region")]
    if not regions[0]:
        return _fail("no Region: pass --region, or set AWS_REGION or a profile region")
    fmt = FORMAT_ALIASES.get(args.format, args.format) or (
        "table" if _is_terminal(out) and not args.output else "jsonl"
    )
    scans: list[RegionScan] = []
    try:
        for region in regions:
            clients = region_clients(session, region)
            scans.append(_scan_one(clients, rules, parameters, args))
            if args.publish:
                _publish(scans[-1], clients, session, rules, args.rule_name_prefix)
    except AccessDeniedError as error:
        return _fail(str(error))
    except PublishError as error:
        return _fail(f"publishing failed: {error}")
    except GuardrailsError as error:
        return _fail(str(error))
    except (BotoCoreError, ClientError) as error:  # no credentials, endpoint down, throttled out
        return _fail(f"AWS call failed: {str(error).splitlines()[0][:300]}")
    results = [result for scan in scans for result in scan.results]
    document = _document(fmt, scans, results, session, args.rule_name_prefix)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(document)
        print(f"rules scan: wrote {fmt} report to {args.output}", file=sys.stderr)
    else:
        out.write(document)
    problems = [(scan.region, problem) for scan in scans for problem in scan.problems]
    for region, (resource, message) in problems:
        print(f"rules scan: {region}: {resource}: no verdict: {message}", file=sys.stderr)
    if problems:
        return EXIT_INCOMPLETE
    return EXIT_NON_COMPLIANT if fails(args.fail_on, (r.evaluation for r in results)) else 0


def _scan_one(
    clients: Any, rules: Sequence[Rule], parameters: dict[str, Parameters], args: Any
) -> RegionScan:
    from rules.scan import scan_region

    source = None if args.source == "auto" else args.source
    with Progress(0, f"{clients.region} reading") as bar:

        def progress(phase: str, done: int, total: int | None) -> None:
            bar.update(done, total or 0, f"{clients.region} {phase}")

        scan = scan_region(
            clients, rules, parameters, source=source, workers=args.workers, progress=progress
        )
    print(
        f"rules scan: {scan.region}: {len(scan.functions)} function(s) read from "
        f"{scan.source_explanation}",
        file=sys.stderr,
    )
    return scan


def _publish(
    scan: RegionScan, clients: Any, session: Any, rules: Sequence[Rule], prefix: str
) -> None:
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from rules.scan import findings_for, publish_findings

    findings = findings_for(scan, clients.partition, datetime.now(UTC), prefix)
    imported = publish_findings(clients, findings)
    print(
        f"rules scan: {scan.region}: {imported} finding(s) imported into Security Hub",
        file=sys.stderr,
    )
    # PutEvaluations needs the result token of a rule invocation, so the evaluations reach
    # Config through the deployed rules themselves: ask Config to run them now.
    config = session.create_client(
        "config", region_name=scan.region, config=Config(retries={"max_attempts": 1})
    )
    names = [config_rule_name(rule.id, prefix) for rule in rules]
    try:
        config.start_config_rules_evaluation(ConfigRuleNames=names)
        print(f"rules scan: {scan.region}: Config re-evaluates {', '.join(names)}", file=sys.stderr)
    except (ClientError, BotoCoreError) as error:
        reason = str(error).splitlines()[0][:200]
        print(
            f"rules scan: {scan.region}: warning: Config rule evaluation not started ({reason}); "
            "are the rules deployed here?",
            file=sys.stderr,
        )


def _document(
    fmt: str, scans: Sequence[RegionScan], results: list[Result], session: Any, prefix: str
) -> str:
    if fmt != "asff":
        notes = [
            f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
            *(
                f"{scan.region}: {len(scan.functions)} function(s) from {scan.source_explanation}."
                for scan in scans
            ),
        ]
        return render(fmt, results, notes=notes)
    from rules.scan import findings_for

    now = datetime.now(UTC)
    findings = []
    for scan in scans:
        partition = session.get_partition_for_region(scan.region)
        findings.extend(findings_for(scan, partition, now, prefix))
    return json.dumps({"Findings": findings}, indent=2) + "\n"


def _fail(message: str) -> int:
    print(f"rules scan: {message}", file=sys.stderr)
    return EXIT_INCOMPLETE


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
