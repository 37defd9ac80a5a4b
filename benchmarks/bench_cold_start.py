"""Cold start of the rule handler next to a bare ``import boto3`` (not a timed test).

Each case runs in a fresh interpreter; the figures are medians over RUNS runs:
- import time (perf_counter around the imports, interpreter start excluded);
- peak RSS of the whole process (VmHWM), which is what Lambda's memory setting caps.

Run: ``python benchmarks/bench_cold_start.py [RUNS]`` from the repository root.
Targets: handler import <= 1.5x bare ``import boto3``; peak RSS < 100 MB (128 MB functions).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("config", "securityhub", "lambda")

# Peak RSS from VmHWM: ru_maxrss keeps the parent's high-water mark across fork+exec on Linux,
# so a probe started by a large benchmark process would report the parent's size.
PROBE = """
import json, resource, time

def peak_rss_mb():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

start, cpu_start = time.perf_counter(), time.process_time()
{imports}
{clients}
done, cpu_done = time.perf_counter(), time.process_time()
print(json.dumps({{
    "total_ms": (done - start) * 1000,
    "cpu_ms": (cpu_done - cpu_start) * 1000,
    "rss_mb": peak_rss_mb(),
}}))
"""

CASES = {
    "import boto3": ("import boto3", ""),
    "boto3 + 3 clients": (
        "import boto3",
        "\n".join(f"boto3.client({s!r}, region_name='us-east-1')" for s in SERVICES),
    ),
    "import rules.handler": ("import rules.handler", ""),
    "rules.handler + 2 clients": (
        "import rules.handler\nfrom rules.handler import Settings, default_clients\n",
        "clients = default_clients(Settings.from_environment())\n"
        + "\n".join(f"clients.client({s!r})" for s in SERVICES[:2]),
    ),
    "rules.handler + 3 clients": (
        "import rules.handler\nfrom rules.handler import Settings, default_clients\n",
        "clients = default_clients(Settings.from_environment())\n"
        + "\n".join(f"clients.client({s!r})" for s in SERVICES),
    ),
}


def measure(imports: str, clients: str) -> dict[str, float]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "RULE_ID": "lambda-function-public-access-prohibited",
    }
    script = PROBE.format(imports=imports, clients=clients)
    output = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout
    return {key: float(value) for key, value in json.loads(output.splitlines()[-1]).items()}


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in CASES}
    for _ in range(runs):  # round-robin, so background load hits every case alike
        for name, (imports, clients) in CASES.items():
            samples[name].append(measure(imports, clients))
    results = {
        name: {key: statistics.median(s[key] for s in runs_) for key in runs_[0]}
        for name, runs_ in samples.items()
    }
    base = results["import boto3"]["total_ms"]
    cpu_base = results["import boto3"]["cpu_ms"]
    with_clients = results["boto3 + 3 clients"]["total_ms"]
    print(f"{runs} fresh interpreters per case, medians (Python {sys.version.split()[0]})")
    print(f"{'case':28} {'wall ms':>8} {'x boto3':>8} {'cpu ms':>7} {'x boto3':>8} {'RSS MB':>7}")
    for name, figures in results.items():
        print(
            f"{name:28} {figures['total_ms']:8.0f} {figures['total_ms'] / base:8.2f} "
            f"{figures['cpu_ms']:7.0f} {figures['cpu_ms'] / cpu_base:8.2f} "
            f"{figures['rss_mb']:7.1f}"
        )
    handler = results["import rules.handler"]["total_ms"]
    handler_clients = results["rules.handler + 3 clients"]["total_ms"]
    peak = max(figures["rss_mb"] for figures in results.values())
    print(f"handler import / bare import boto3: {handler / base:.2f}x (target <= 1.5x)")
    print(f"handler + clients / boto3 + clients: {handler_clients / with_clients:.2f}x")
    print(
        "(a change event creates the config and securityhub clients on first use; lambda only "
        "when a read is needed; creation is botocore loading each service model)"
    )
    print(f"peak RSS: {peak:.1f} MB (target < 100 MB)")


if __name__ == "__main__":
    main()
