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
    from rules.scan import RegionScan, ScanProblem

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
        help="rule to run; repeat for several (default: the rules on by default; 'all': "
        "every rule)",
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
    add_organization_arguments(scan)
    scan.add_argument(
        "--rule-name-prefix",
        default=DEFAULT_RULE_NAME_PREFIX,
        metavar="PREFIX",
        help="the deployed Config rules' name prefix (the stack's ruleNamePrefix, default "
        f"{DEFAULT_RULE_NAME_PREFIX!r}): named in findings and re-run by --publish",
    )


def add_organization_arguments(scan: Any) -> None:
    where = scan.add_argument_group(
        "organization scale",
        "Scan many accounts from one. --aggregator reads every function an AWS Config "
        "aggregator recorded (about total/100 calls, no role needed; what Config does not "
        "record fails closed unless --role-name reads it). --organization, --accounts or --ou "
        "assume --role-name in every account and Region and scan each in parallel. Accounts "
        "whose role cannot be assumed are reported and make the exit status 2.",
    )
    modes = where.add_mutually_exclusive_group()
    modes.add_argument(
        "--aggregator",
        metavar="NAME",
        help="read the organization's functions from this Config aggregator (in --region)",
    )
    modes.add_argument(
        "--organization",
        action="store_true",
        help="scan every ACTIVE account of the organization (organizations:ListAccounts)",
    )
    accounts = where.add_mutually_exclusive_group()
    accounts.add_argument(
        "--accounts", metavar="ID,...", help="scan these accounts (12-digit ids, comma-separated)"
    )
    accounts.add_argument(
        "--ou", metavar="OU_ID", help="scan the ACTIVE accounts under this OU and its child OUs"
    )
    where.add_argument(
        "--regions",
        action="append",
        metavar="REGION,...",
        help="Regions to scan in every account (comma-separated; same as repeating --region)",
    )
    where.add_argument(
        "--role-name",
        metavar="NAME",
        help="role assumed in each account (regional STS, 900 s sessions renewed before they "
        "expire); with --aggregator, reads environment variables and alias/version policies "
        "Config does not record, and checks recorders that may not record Lambda functions",
    )
    where.add_argument(
        "--parallel",
        type=int,
        default=4,
        metavar="N",
        help="accounts x Regions scanned at once (4), each with --workers reads",
    )


def run_scan(
    args: argparse.Namespace,
    rules: Sequence[Rule],
    parameters: dict[str, Parameters],
    out: TextIO,
) -> int:
    try:
        mode = scan_mode(args)
    except ValueError as error:
        return _fail(str(error))
    if mode != "account":
        from rules.scan_fleet_cli import run_fleet_scan

        status: int = run_fleet_scan(mode, args, rules, parameters, out)
        return status
    return _run_account_scan(args, rules, parameters, out)


def scan_mode(args: argparse.Namespace) -> str:
    """ "account", "aggregator" or "organization"; ValueError for flags that do not go together."""
    fleet = args.organization or args.accounts or args.ou
    if args.aggregator:
        if args.accounts or args.ou:
            raise ValueError("--aggregator reads every account it aggregates: drop --accounts/--ou")
        if args.regions or (args.region and len(args.region) > 1):
            raise ValueError(
                "--aggregator reads the Regions it aggregates: give only its own Region "
                "(--region), not --regions"
            )
        if args.source != "auto":
            raise ValueError("--source does not apply to --aggregator (its items are the source)")
    if (args.aggregator or fleet) and args.publish:
        raise ValueError(
            "--publish imports findings in the scanned account only: run it per account"
        )
    if args.aggregator:
        return "aggregator"
    if fleet:
        if not args.role_name:
            raise ValueError("--organization/--accounts/--ou need --role-name (the role to assume)")
        return "organization"
    if args.role_name or args.regions:
        raise ValueError(
            "--role-name and --regions go with --organization, --accounts, --ou or --aggregator"
        )
    return "account"


def _run_account_scan(
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
    fmt = output_format(args, out)
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
    return report(args, fmt, scans, session, out)


def output_format(args: argparse.Namespace, out: TextIO) -> str:
    return FORMAT_ALIASES.get(args.format, args.format) or (
        "table" if _is_terminal(out) and not args.output else "jsonl"
    )


def report(
    args: argparse.Namespace,
    fmt: str,
    scans: Sequence[RegionScan],
    session: Any,
    out: TextIO,
    *,
    problems: Sequence[ScanProblem] = (),
    notes: Sequence[str] = (),
) -> int:
    """Write the document (``notes``: more lines for the HTML page), report every problem (in
    the document and on stderr), and give the exit status: 2 when anything got no verdict, else
    1 when ``--fail-on`` is met, else 0."""
    from rules.scan import ScanProblem

    results = [result for scan in scans for result in scan.results]
    every = [
        ScanProblem(scan.account_id, scan.region, resource, message)
        for scan in scans
        for resource, message in scan.problems
    ] + list(problems)
    document = _document(
        fmt, scans, results, session, args.rule_name_prefix, problems=every, notes=notes
    )
    if args.output:
        # newline="": the document's line ends as rendered (CSV's CRLF stays CRLF everywhere).
        with open(args.output, "w", encoding="utf-8", newline="") as handle:
            handle.write(document)
        print(f"rules scan: wrote {fmt} report to {args.output}", file=sys.stderr)
    else:
        out.write(document)
    for problem in every:
        print(f"rules scan: {problem.describe()}", file=sys.stderr)
    if every:
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
    fmt: str,
    scans: Sequence[RegionScan],
    results: list[Result],
    session: Any,
    prefix: str,
    *,
    problems: Sequence[ScanProblem] = (),
    notes: Sequence[str] = (),
) -> str:
    if fmt != "asff":
        lines = [
            f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
            *(
                f"{scan.place}: {len(scan.functions)} function(s) from {scan.source_explanation}."
                for scan in scans
            ),
            *notes,
        ]
        document = render(fmt, results, notes=lines, problems=problems)
        return with_problems(fmt, document, problems)
    from rules.scan import findings_for

    now = datetime.now(UTC)
    findings = []
    for scan in scans:
        partition = session.get_partition_for_region(scan.region)
        findings.extend(findings_for(scan, partition, now, prefix))
    return json.dumps({"Findings": findings}, indent=2) + "\n"


def with_problems(fmt: str, document: str, problems: Sequence[ScanProblem]) -> str:
    """The rendered document plus what got no verdict, in the format's own terms: a JSON line
    per problem (``error``, ``account_id``, ``region``, ``resource``), a table section, a SARIF
    tool execution notification. ``csv`` (a ``NO_VERDICT`` row each) and ``html`` (a "No
    verdict" table, in its CSV export too) already hold them: ``render`` wrote them."""
    if not problems or fmt in ("csv", "html"):
        return document
    if fmt == "jsonl":
        return document + "".join(json.dumps(p.as_json()) + "\n" for p in problems)
    if fmt == "table":
        lines = "".join(f"  {p.describe()}\n" for p in problems)
        return f"{document}No verdict ({len(problems)}):\n{lines}"
    if fmt == "sarif":
        log = json.loads(document)
        notifications = [{"level": "error", "message": {"text": p.describe()}} for p in problems]
        for run in log.get("runs", []):
            # Keep an invocation the renderer may have written; it did not fully succeed.
            invocations = run.setdefault("invocations", []) or [{}]
            run["invocations"] = invocations
            invocations[0]["executionSuccessful"] = False
            invocations[0].setdefault("toolExecutionNotifications", []).extend(notifications)
        return json.dumps(log, indent=2) + "\n"
    raise ValueError(f"no way to report problems in {fmt!r}")


def _fail(message: str) -> int:
    print(f"rules scan: {message}", file=sys.stderr)
    return EXIT_INCOMPLETE


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
