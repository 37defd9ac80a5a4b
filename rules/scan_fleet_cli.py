"""``scan --aggregator`` and ``scan --organization / --accounts / --ou``: the runs behind the
``scan`` flags of the "organization scale" group (``rules.scan_cli``). AWS modules are imported
only when a scan runs."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, Sequence, TextIO

from rules.errors import GuardrailsError
from rules.progress import Progress
from rules.scan_cli import _fail, output_format, report

if TYPE_CHECKING:
    from rules.aws.accounts import MemberSessions
    from rules.parameters import Parameters
    from rules.rule import Rule


def run_fleet_scan(
    mode: str,
    args: argparse.Namespace,
    rules: Sequence[Rule],
    parameters: dict[str, Parameters],
    out: TextIO,
) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from rules.scan import make_session

    if args.workers < 1 or args.parallel < 1:
        return _fail("--workers and --parallel must be at least 1")
    session = make_session(args.profile, args.endpoint_url)
    try:
        if mode == "aggregator":
            return _aggregator(args, session, rules, parameters, out)
        return _organization(args, session, rules, parameters, out)
    except GuardrailsError as error:
        return _fail(str(error))
    except (BotoCoreError, ClientError) as error:  # no credentials, endpoint down, throttled out
        return _fail(f"AWS call failed: {str(error).splitlines()[0][:300]}")


def _members(session: Any, role: str | None) -> MemberSessions | None:
    from rules.aws.accounts import MemberSessions, role_name, session_name
    from rules.scan import region_clients

    if role is None:
        return None
    return MemberSessions(
        lambda region: region_clients(session, region), role_name(role), session_name()
    )


def _aggregator(
    args: argparse.Namespace,
    session: Any,
    rules: Sequence[Rule],
    parameters: dict[str, Parameters],
    out: TextIO,
) -> int:
    from rules.aws.accounts import region_names
    from rules.aws.aggregate_scan import scan_aggregator
    from rules.scan import region_clients

    regions = region_names(args.region or []) or (session.get_config_variable("region"),)
    if not regions[0]:
        return _fail("no Region: pass --region (the aggregator's), or set AWS_REGION")
    region = regions[0]
    fmt = output_format(args, out)
    members = _members(session, args.role_name)
    clients = region_clients(session, region)
    with Progress(0, f"aggregator {args.aggregator} reading") as bar:

        def progress(phase: str, done: int, total: int) -> None:
            bar.update(done, total, f"aggregator {args.aggregator} {phase}")

        scan = scan_aggregator(
            clients.client("config"),
            args.aggregator,
            rules,
            parameters,
            region=region,
            partition=clients.partition,
            organizations=clients.client("organizations"),
            members=members,
            workers=args.workers,
            progress=progress,
        )
    inventory = scan.inventory
    print(
        f"rules scan: {len(inventory.functions)} of {inventory.listed} function(s) read from "
        f"{scan.as_region_scan().source_explanation}",
        file=sys.stderr,
    )
    if inventory.stale_sources:
        print(
            "rules scan: aggregator sources not up to date (their functions get no verdict): "
            + ", ".join(inventory.stale_sources),
            file=sys.stderr,
        )
    if scan.coverage is not None:
        print(
            f"rules scan: aggregator covers {scan.coverage.expected} account/Region(s); "
            f"{len(scan.coverage.gaps)} without anything recorded or not checked, "
            f"{len(scan.coverage.without_functions)} with other resources but no function",
            file=sys.stderr,
        )
    for note in scan.notes:
        print(f"rules scan: note: {note}", file=sys.stderr)
    return report(
        args,
        fmt,
        [scan.as_region_scan()],
        session,
        out,
        problems=scan.problems,
        notes=scan.notes,
    )


def _organization(
    args: argparse.Namespace,
    session: Any,
    rules: Sequence[Rule],
    parameters: dict[str, Parameters],
    out: TextIO,
) -> int:
    from rules.aws.accounts import places, region_names
    from rules.aws.fanout import scan_places

    regions = region_names([*(args.region or []), *(args.regions or [])]) or (
        session.get_config_variable("region"),
    )
    if not regions[0]:
        return _fail("no Region: pass --regions, or set AWS_REGION or a profile region")
    members = _members(session, args.role_name)
    if members is None:  # scan_mode asks for --role-name first; never scan without it
        return _fail("--organization/--accounts/--ou need --role-name")
    accounts = _accounts(args, session, regions[0])
    if not accounts:
        return _fail("no ACTIVE account to scan")
    fmt = output_format(args, out)
    targets = places(accounts, regions)
    label = f"{len(accounts)} account(s) x {len(regions)} Region(s)"
    with Progress(len(targets), label) as bar:

        def progress(done: int, total: int, evaluated: int) -> None:
            bar.update(done, total, f"{label}, {evaluated} function(s) evaluated")

        fanout = scan_places(
            members,
            targets,
            rules,
            parameters,
            source=None if args.source == "auto" else args.source,
            workers=args.workers,
            parallel=args.parallel,
            progress=progress,
        )
    for scan in fanout.scans:
        print(
            f"rules scan: {scan.place}: {len(scan.functions)} function(s) read from "
            f"{scan.source_explanation}",
            file=sys.stderr,
        )
    return report(args, fmt, fanout.scans, session, out, problems=fanout.problems)


def _accounts(args: argparse.Namespace, session: Any, region: str) -> tuple[str, ...]:
    from rules.aws.accounts import account_ids, accounts_under_ou, active_accounts, ou_id
    from rules.scan import region_clients

    if args.accounts:
        return account_ids(args.accounts)
    organizations = region_clients(session, region).client("organizations")
    if args.ou:
        found = accounts_under_ou(organizations, ou_id(args.ou))
    else:
        found = active_accounts(organizations)
    return tuple(account.id for account in found)
