"""``scan`` at organization scale on moto_server: 3 accounts x 2 Regions x N functions.

- ``scan --organization``: the fan-out (``rules.aws.fanout.scan_places``) with a role assumed
  per account and Region, 4 places at once, 8 reads each;
- ``scan --aggregator``: the aggregate reads stubbed (moto lacks them; botocore's Stubber answers
  with the items Config would hold for the same functions), without and with ``--role-name``;
- the floor: raw boto3 over the same accounts and Regions, sequential: AssumeRole, ListFunctions,
  then GetPolicy + GetFunctionConcurrency + ListAliases per function and DescribeKey per key
  (what the fan-out reads, as ``bench_all``'s single-account raw fetch).

    python benchmarks/bench_org.py [--functions 200]

API calls are counted per operation (not HTTP attempts). Wall times on moto measure our overhead
over a ~1-3 ms local round trip, not AWS latency.
"""

from __future__ import annotations

import argparse
import io
import sys
import threading
import time
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
import botocore.session  # noqa: E402
from botocore.stub import Stubber  # noqa: E402

from benchmarks.seed import read_like_scan, seed_functions  # noqa: E402
from demo.config_events import configuration_item, now  # noqa: E402
from demo.server import MotoServer, pointed_at  # noqa: E402
from rules.aws.kms import KEY_MANAGERS  # noqa: E402
from rules.parameters import NO_PARAMETERS  # noqa: E402
from rules.registry import CORE_RULES as RULES  # noqa: E402
from tests.aggregate_items import asked, base_item, identifier, succeeded  # noqa: E402

REGIONS = ("us-east-1", "eu-west-1")
ROLE = "GuardrailsScan"
AGGREGATOR = "bench-aggregator"
MANAGEMENT = "123456789012"


class Calls:
    """API calls per operation, from session-level and client-level hooks (thread-safe)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[f"{model.service_model.service_id}.{model.name}"] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def member_session(account: str, region: str, name: str = "bench-setup") -> boto3.Session:
    credentials = boto3.client("sts", region_name=region).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{name}", RoleSessionName=name
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def _code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(e, c):\n    return 1\n")
    return buffer.getvalue()


def populate(count: int) -> tuple[str, ...]:
    """An organization of 3 accounts (the management account and 2 members), each with the scan
    role and ``count`` functions in each of ``REGIONS`` (bench_all's mix: every 3rd with a
    policy, every 2nd with reserved concurrency, every 4th with a KMS key and variables)."""
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    members = [
        org.create_account(Email=f"bench{i}@example.com", AccountName=f"bench-{i}")[
            "CreateAccountStatus"
        ]["AccountId"]
        for i in range(2)
    ]
    accounts = (MANAGEMENT, *members)
    code = _code()
    for account in accounts:
        iam = member_session(account, REGIONS[0]).client("iam")
        role = iam.create_role(RoleName="bench-fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument="{}")
        for region in REGIONS:
            seed_functions(member_session(account, region), account, role, code, count)
    return accounts


def raw_floor(accounts: tuple[str, ...]) -> tuple[float, int]:
    """The data the fan-out reads, with plain boto3, one account and Region after the other."""
    calls = Calls()
    start = time.perf_counter()
    for account in accounts:
        for region in REGIONS:
            sts = boto3.client("sts", region_name=region)
            sts.meta.events.register_first("before-call.*.*", calls)
            credentials = sts.assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/{ROLE}",
                RoleSessionName="raw",
                DurationSeconds=900,
            )["Credentials"]
            session = boto3.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                region_name=region,
            )
            lam, kms = session.client("lambda"), session.client("kms")
            for client in (lam, kms):
                client.meta.events.register_first("before-call.*.*", calls)
            read_like_scan(lam, kms)
    return time.perf_counter() - start, calls.total


def _members(server: MotoServer, calls: Calls) -> Any:
    from rules.aws.accounts import MemberSessions, session_name
    from rules.scan import make_session, region_clients

    session = make_session(endpoint_url=server.url)
    session.register("before-call", calls)
    return MemberSessions(lambda region: region_clients(session, region), ROLE, session_name())


def organization_scan(server: MotoServer, accounts: tuple[str, ...]) -> tuple[float, int, int]:
    from rules.aws.accounts import places
    from rules.aws.fanout import scan_places

    calls = Calls()
    members = _members(server, calls)
    KEY_MANAGERS.clear()
    start = time.perf_counter()
    fanout = scan_places(
        members, places(accounts, REGIONS), RULES, {r.id: NO_PARAMETERS for r in RULES}
    )
    seconds = time.perf_counter() - start
    assert not fanout.problems, fanout.problems
    return seconds, calls.total, sum(len(scan.results) for scan in fanout.scans)


def aggregate_items(accounts: tuple[str, ...], count: int) -> list[dict[str, Any]]:
    """The items an aggregator would hold for every function (read once, outside the timing)."""
    items = []
    for account in accounts:
        for region in REGIONS:
            lam = member_session(account, region).client("lambda")
            stamp = now()
            items += [
                base_item(configuration_item(lam, f"bench-{i:05d}", capture_time=stamp))
                for i in range(count)
            ]
    return items


def stubbed_config(items: list[dict[str, Any]], accounts: tuple[str, ...]) -> tuple[Any, Stubber]:
    client = botocore.session.get_session().create_client(
        "config", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    stubber.add_response(
        "describe_configuration_aggregator_sources_status",
        succeeded([(a, r) for a in accounts for r in REGIONS]),
    )
    pages = [items[i : i + 100] for i in range(0, len(items), 100)]
    for index, page in enumerate(pages):
        response: dict[str, Any] = {"ResourceIdentifiers": [identifier(i) for i in page]}
        if index < len(pages) - 1:
            response["NextToken"] = str(index + 1)
        stubber.add_response("list_aggregate_discovered_resources", response)
    for page in pages:
        stubber.add_response(
            "batch_get_aggregate_resource_config",
            {"BaseConfigurationItems": page, "UnprocessedResourceIdentifiers": []},
            {
                "ConfigurationAggregatorName": AGGREGATOR,
                "ResourceIdentifiers": [asked(i) for i in page],
            },
        )
    # The coverage check: the aggregator's sources (the organization, both Regions), then what
    # it holds per Region by account.
    stubber.add_response(
        "describe_configuration_aggregators",
        {
            "ConfigurationAggregators": [
                {
                    "ConfigurationAggregatorName": AGGREGATOR,
                    "OrganizationAggregationSource": {
                        "RoleArn": "arn:aws:iam::123456789012:role/aggregator",
                        "AwsRegions": list(REGIONS),
                    },
                }
            ]
        },
    )
    for region in REGIONS:
        stubber.add_response(
            "get_aggregate_discovered_resource_counts",
            {
                "TotalDiscoveredResources": len(items),
                "GroupedResourceCounts": [
                    {"GroupName": a, "ResourceCount": len(items)} for a in accounts
                ],
            },
            {
                "ConfigurationAggregatorName": AGGREGATOR,
                "Filters": {"Region": region},
                "GroupByKey": "ACCOUNT_ID",
                "Limit": 1000,
            },
        )
    return client, stubber


def stubbed_organizations(accounts: tuple[str, ...]) -> tuple[Any, Stubber]:
    client = botocore.session.get_session().create_client(
        "organizations", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    stubber.add_response(
        "list_accounts",
        {"Accounts": [{"Id": a, "Name": a, "State": "ACTIVE"} for a in accounts]},
    )
    return client, stubber


def aggregator_scan(
    server: MotoServer, items: list[dict[str, Any]], accounts: tuple[str, ...], role: bool
) -> tuple[float, int, int]:
    from rules.aws.aggregate_scan import scan_aggregator

    calls = Calls()
    config, stubber = stubbed_config(items, accounts)
    organizations, organizations_stubber = stubbed_organizations(accounts)
    config.meta.events.register_first("before-call.*.*", calls)
    organizations.meta.events.register_first("before-call.*.*", calls)
    members = _members(server, calls) if role else None
    KEY_MANAGERS.clear()
    with stubber, organizations_stubber:
        start = time.perf_counter()
        scan = scan_aggregator(
            config,
            AGGREGATOR,
            RULES,
            {r.id: NO_PARAMETERS for r in RULES},
            region="us-east-1",
            partition="aws",
            organizations=organizations,
            members=members,
        )
        seconds = time.perf_counter() - start
    assert not scan.problems, scan.problems[:3]
    return seconds, calls.total, len(scan.results)


def measure(server: MotoServer, count: int) -> list[tuple[str, float, str, str, float]]:
    """(measurement, figure, unit, baseline, baseline figure) rows; the server is reset."""
    server.reset()
    accounts = populate(count)
    total = len(accounts) * len(REGIONS) * count
    raw_seconds, raw_calls = min((raw_floor(accounts) for _ in range(2)), key=lambda r: r[0])
    org_seconds, org_calls, org_results = min(
        (organization_scan(server, accounts) for _ in range(2)), key=lambda r: r[0]
    )
    assert org_results == total * len(RULES), org_results
    items = aggregate_items(accounts, count)
    runs = {
        role: min(
            (aggregator_scan(server, items, accounts, role) for _ in range(2)),
            key=lambda r: r[0],
        )
        for role in (False, True)
    }
    shape = f"{len(accounts)} accounts x {len(REGIONS)} Regions x {count}"
    floor = "raw boto3 fan-out, sequential"
    raw_ms = raw_seconds * 1000
    rows = [
        (f"scan --organization, {shape}: wall", org_seconds * 1000, "ms", floor, raw_ms),
        (f"scan --organization, {shape}: API calls", org_calls, "", floor, raw_calls),
    ]
    for role, (seconds, calls, results) in runs.items():
        assert results == total * len(RULES), results
        label = "scan --aggregator" + (" --role-name" if role else "")
        rows += [
            (f"{label}, {shape}: wall", seconds * 1000, "ms", floor, raw_seconds * 1000),
            (f"{label}, {shape}: API calls", calls, "", floor, raw_calls),
        ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--functions", type=int, default=200, help="per account and Region")
    args = parser.parse_args()
    with MotoServer() as server, pointed_at(server):
        for what, figure, unit, baseline, base in measure(server, args.functions):
            ratio = f"{figure / base:.2f}x" if base else "-"
            print(f"{what}: {figure:,.1f} {unit}  |  {baseline}: {base:,.1f} {unit}  ({ratio})")


if __name__ == "__main__":
    main()
