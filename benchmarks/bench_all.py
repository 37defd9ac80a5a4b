"""``make bench``: every figure of issue 5 next to a baseline measured in the same run.

1. pure evaluation: all five rules over 10,000 configuration items vs ``json.loads`` alone
   (``bench_engine``);
2. cold start: handler import + clients, time and peak RSS, vs bare boto3 with the same clients
   (``bench_cold_start``, fresh interpreters);
3. API calls of the real handler (``rules.handler.handle``) against moto_server: one
   change-triggered evaluation, and one periodic sweep of N functions per rule, next to the floor
   (the calls the data and the publishing need at the least);
4. ``python -m rules scan`` wall time and API calls for N functions on moto_server, with 1 and
   8 workers, vs the raw boto3 fetch of the same data (the floor);
5. ``scan --organization`` and ``scan --aggregator`` (aggregate reads stubbed) over 3 accounts x
   2 Regions x 200 functions, vs the raw boto3 fan-out over the same accounts (``bench_org``).

    python benchmarks/bench_all.py [--sizes 100,1000] [--org-functions 200] [--quick]

moto serves from one local process, so wall times measure our overhead over a ~1 ms round trip,
not AWS latency (where the parallel reads pay far more). moto's ListFunctions ignores paging.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import platform
import statistics
import sys
import threading
import time
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402

from benchmarks.bench_cold_start import CASES, measure  # noqa: E402
from benchmarks.bench_engine import (  # noqa: E402
    generate_items,
    time_json_loads,
    time_rules,
    time_whole_path,
)
from benchmarks.bench_org import measure as measure_organization  # noqa: E402
from benchmarks.seed import read_like_scan, seed_functions  # noqa: E402
from demo.config_events import change_event, configuration_item, now, scheduled_event  # noqa: E402
from demo.config_shim import ComplianceStore  # noqa: E402
from demo.flow import handler_output  # noqa: E402
from demo.server import MotoServer, pointed_at  # noqa: E402
from rules.aws.kms import KEY_MANAGERS  # noqa: E402
from rules.naming import config_rule_name  # noqa: E402
from rules.parameters import NO_PARAMETERS, parse_parameters  # noqa: E402
from rules.registry import CORE_RULES as RULES  # noqa: E402
from rules.rule import Field  # noqa: E402

ACCOUNT = "123456789012"
REGION = "us-east-1"
Row = tuple[str, str, str, str, str]  # measurement, figure, baseline, baseline figure, ratio
rows: list[Row] = []
notes: list[str] = []


def row(what: str, figure: float, unit: str, baseline: str, base: float) -> None:
    ratio = f"{figure / base:.2f}x" if base else "-"
    rows.append((what, f"{figure:,.1f} {unit}".strip(), baseline, f"{base:,.1f} {unit}", ratio))


class CallCounter:
    """Counts API calls (not HTTP attempts) per operation on the clients it is attached to."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def attach(self, client: Any) -> None:
        client.meta.events.register_first("before-call.*.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[f"{model.service_model.service_id}.{model.name}"] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())


# 1. pure evaluation ---------------------------------------------------------------------------
def bench_engine(items: int, repeat: int) -> None:
    texts = generate_items(items)
    parameters = {rule.id: parse_parameters(rule, {}) for rule in RULES}
    loads = statistics.median(time_json_loads(texts) for _ in range(repeat))
    rules_only = statistics.median(time_rules(texts, parameters) for _ in range(repeat))
    full = statistics.median(time_whole_path(texts, parameters) for _ in range(repeat))
    for label, seconds in (
        (f"5 rules on {items:,} parsed models", rules_only),
        (f"parse + adapt + 5 rules, {items:,} items", full),
    ):
        row(label, seconds * 1000, "ms", "json.loads of the same texts", loads * 1000)


# 2. cold start --------------------------------------------------------------------------------
def bench_cold_start(runs: int) -> None:
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in CASES}
    for _ in range(runs):
        for name, (imports, clients) in CASES.items():
            samples[name].append(measure(imports, clients))
    med = {n: {k: statistics.median(s[k] for s in v) for k in v[0]} for n, v in samples.items()}
    row(
        "cold start: import rules.handler",
        med["import rules.handler"]["total_ms"],
        "ms",
        "import boto3",
        med["import boto3"]["total_ms"],
    )
    row(
        "cold start: handler + 3 clients",
        med["rules.handler + 3 clients"]["total_ms"],
        "ms",
        "boto3 + the same 3 clients",
        med["boto3 + 3 clients"]["total_ms"],
    )
    row(
        "peak RSS: handler + 3 clients",
        med["rules.handler + 3 clients"]["rss_mb"],
        "MB",
        "boto3 + the same 3 clients",
        med["boto3 + 3 clients"]["rss_mb"],
    )


# moto account ---------------------------------------------------------------------------------
def populate(session: boto3.Session, count: int) -> None:
    """``count`` functions: every 3rd with a resource policy, every 2nd with reserved concurrency,
    every 4th with a KMS key and variables."""
    iam = session.client("iam")
    try:
        role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName="bench")["Role"]["Arn"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(e, c):\n    return 1\n")
    seed_functions(session, ACCOUNT, role, buffer.getvalue(), count)
    session.client("securityhub").enable_security_hub(EnableDefaultStandards=False)


def handler_clients(counter: CallCounter, store: ComplianceStore) -> Any:
    from rules.aws.clients import ClientOptions, Clients, new_session

    clients = Clients(new_session(), ClientOptions(REGION))
    for service in ("config", "securityhub", "lambda", "kms"):
        counter.attach(clients.client(service))
    store.attach(clients.client("config"))
    return clients


# 3. handler API calls -------------------------------------------------------------------------
def bench_change_event(session: boto3.Session) -> None:
    from rules.handler import Settings, handle

    lam = session.client("lambda")
    for name, label in (("bench-00000", "KMS key"), ("bench-00001", "no variables known")):
        item = configuration_item(lam, name, capture_time=now())
        per_rule = []
        for rule in RULES:
            counter, store = CallCounter(), ComplianceStore()
            clients = handler_clients(counter, store)
            with store.invoking(config_rule_name(rule.id)):
                handle(
                    change_event(item, rule_name=config_rule_name(rule.id)),
                    settings=Settings(rule, REGION),
                    clients=clients,
                )
            per_rule.append(counter.total)
        row(
            f"API calls, 1 change event ({label}), mean of 5 rules",
            statistics.mean(per_rule),
            "",
            "PutEvaluations + BatchImportFindings",
            2,
        )


def bench_sweep(count: int) -> None:
    from rules.handler import Settings, handle

    totals, by_operation = [], Counter[str]()
    for rule in RULES:
        counter, store = CallCounter(), ComplianceStore()
        clients = handler_clients(counter, store)
        with store.invoking(config_rule_name(rule.id)):
            handle(
                scheduled_event(
                    rule_name=config_rule_name(rule.id), account=ACCOUNT, region=REGION
                ),
                settings=Settings(rule, REGION),
                clients=clients,
            )
        totals.append(counter.total)
        by_operation.update(counter.calls)
    # Floor per rule: the function list (1 page on moto), the reads the rule needs on the Lambda
    # API path (the public-access rule also lists each function's aliases), one DescribeKey for
    # the one key (CMK rule), and one PutEvaluations + one BatchImportFindings per 100 functions.
    reads = count * sum(
        len(rule.lambda_api_reads) + (Field.QUALIFIED_POLICIES in rule.periodic_reads)
        for rule in RULES
    ) + sum(Field.KEY_MANAGER in rule.may_need for rule in RULES)
    floor = (len(RULES) * (1 + 2 * math.ceil(count / 100)) + reads) / len(RULES)
    row(
        f"API calls, sweep of {count:,} functions, mean per rule",
        statistics.mean(totals),
        "",
        "list + needed reads + publish/100",
        floor,
    )
    notes.append(
        f"sweep of {count:,}, calls over the 5 rules: "
        + ", ".join(f"{op} {n}" for op, n in sorted(by_operation.items()))
    )


# 4. scan vs raw fetch ---------------------------------------------------------------------------
def raw_fetch(session: boto3.Session) -> tuple[float, int]:
    """ListFunctions + GetPolicy + GetFunctionConcurrency + ListAliases each, DescribeKey per
    distinct key, sequential: what scan reads."""
    lam, kms = session.client("lambda"), session.client("kms")
    counter = CallCounter()
    counter.attach(lam)
    counter.attach(kms)
    start = time.perf_counter()
    read_like_scan(lam, kms)
    return time.perf_counter() - start, counter.total


def run_scan(server: MotoServer, workers: int) -> tuple[float, int, int]:
    from rules.scan import make_session, region_clients, scan_region

    clients = region_clients(make_session(endpoint_url=server.url), REGION)
    counter = CallCounter()
    for service in ("config", "lambda", "kms"):
        counter.attach(clients.client(service))
    KEY_MANAGERS.clear()  # each run asks once per key, as a fresh scan process would
    start = time.perf_counter()
    scan = scan_region(clients, RULES, {r.id: NO_PARAMETERS for r in RULES}, workers=workers)
    return time.perf_counter() - start, counter.total, len(scan.results)


def bench_scan(server: MotoServer, session: boto3.Session, count: int) -> None:
    raw_seconds, raw_calls = min((raw_fetch(session) for _ in range(3)), key=lambda r: r[0])
    for workers in (1, 8):
        seconds, calls, results = min(
            (run_scan(server, workers) for _ in range(3)), key=lambda r: r[0]
        )
        assert results == count * len(RULES), results
        row(
            f"scan {count:,} functions, {workers} worker(s): wall",
            seconds * 1000,
            "ms",
            "raw boto3 fetch, sequential",
            raw_seconds * 1000,
        )
    row(f"scan {count:,} functions: API calls", calls, "", "raw boto3 fetch", raw_calls)


# 5. organization scale ----------------------------------------------------------------------
def bench_organization(server: MotoServer, count: int) -> None:
    for what, figure, unit, baseline, base in measure_organization(server, count):
        row(what, figure, unit, baseline, base)


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import moto

    return (
        f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, boto3 {boto3.__version__}, moto {moto.__version__}"
    )


def timed(label: str, step: Callable[[], None]) -> None:
    start = time.perf_counter()
    step()
    print(f"  ({label}: {time.perf_counter() - start:.1f} s)", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000", help="function counts for sweep and scan")
    parser.add_argument(
        "--org-functions",
        type=int,
        default=200,
        help="functions per account and Region for the organization scan (0: skip it)",
    )
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"machine: {machine()}")
    timed("engine", lambda: bench_engine(2_000 if args.quick else 10_000, 1 if args.quick else 3))
    timed("cold start", lambda: bench_cold_start(1 if args.quick else 7))
    with MotoServer() as server, pointed_at(server):
        session = boto3.Session(region_name=REGION)
        populate(session, 2)
        quiet = io.StringIO()  # the handlers' JSON logs and EMF metrics
        with handler_output(quiet):
            timed("change events", lambda: bench_change_event(session))
        for count in sizes:
            server.reset()
            timed(f"seed {count}", lambda n=count: populate(session, n))  # type: ignore[misc]
            with handler_output(quiet):
                timed(f"sweep {count}", lambda n=count: bench_sweep(n))  # type: ignore[misc]
            timed(f"scan {count}", lambda n=count: bench_scan(server, session, n))  # type: ignore[misc]
        if args.org_functions:
            timed("organization", lambda: bench_organization(server, args.org_functions))
    header = ("measurement", "figure", "baseline (same run)", "baseline", "ratio")
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    print()
    for line in (header, tuple("-" * w for w in widths), *rows):
        print(
            "  ".join(
                cell.ljust(w) if i in (0, 2) else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(line, widths, strict=True))
            )
        )
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
