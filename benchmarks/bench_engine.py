"""Pure evaluation throughput: all five rules over N configuration items from raw JSON text,
next to plain ``json.loads`` of the same texts (the floor: every evaluation must parse).

    python benchmarks/bench_engine.py [--items 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rules.adapters.config_item import configuration_item_from_dict
from rules.engine import evaluate_item
from rules.errors import GuardrailsError
from rules.model import ConfigurationItem
from rules.parameters import Parameters, parse_parameters
from rules.registry import CORE_RULES as RULES  # the five the peers implement

TEMPLATE = Path(__file__).resolve().parent.parent / "tests" / "events" / "lambda_ci_compliant.json"
PUBLIC_STATEMENT = {
    "Sid": "FunctionURLAllowPublicAccess",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "lambda:InvokeFunctionUrl",
    "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
}


def generate_items(count: int, seed: int = 7) -> list[str]:
    """Varied items: about half with a public statement, without VPC, DLQ, key or concurrency."""
    rng = random.Random(seed)
    template = json.loads(TEMPLATE.read_text())
    texts = []
    for index in range(count):
        item = copy.deepcopy(template)
        name = f"function-{index:05d}"
        item["resourceId"] = item["resourceName"] = item["configuration"]["functionName"] = name
        configuration, supplementary = item["configuration"], item["supplementaryConfiguration"]
        if rng.random() < 0.5:
            policy = json.loads(supplementary["Policy"])
            policy["Statement"].append(PUBLIC_STATEMENT)
            supplementary["Policy"] = json.dumps(policy)
        if rng.random() < 0.3:
            configuration["vpcConfig"] = {"subnetIds": [], "securityGroupIds": []}
        if rng.random() < 0.3:
            del configuration["deadLetterConfig"]
        if rng.random() < 0.3:
            del supplementary["Concurrency"]
        if rng.random() < 0.5:
            configuration["environment"] = {"variables": {"A": "x", "B": "y"}}
        texts.append(json.dumps(item))
    return texts


def time_json_loads(texts: list[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        json.loads(text)
    return time.perf_counter() - start


def time_adapt(texts: list[str]) -> float:
    """json.loads + the adapter (which parses the policy JSON inside the item)."""
    start = time.perf_counter()
    for text in texts:
        configuration_item_from_dict(json.loads(text))
    return time.perf_counter() - start


def evaluate_all(item: ConfigurationItem, parameters: dict[str, Parameters]) -> list[str]:
    """All five rules on one model; a rule that needs a read counts as such (no verdict)."""
    outcomes = []
    for rule in RULES:
        try:
            outcomes.append(evaluate_item(rule, item, parameters[rule.id]).compliance.value)
        except GuardrailsError:
            outcomes.append("needs a read")
    return outcomes


def time_rules(texts: list[str], parameters: dict[str, Parameters]) -> float:
    """The five rules alone, on models built before the clock starts."""
    items = [configuration_item_from_dict(json.loads(text)) for text in texts]
    start = time.perf_counter()
    for item in items:
        evaluate_all(item, parameters)
    return time.perf_counter() - start


def time_whole_path(texts: list[str], parameters: dict[str, Parameters]) -> float:
    """The whole path: json.loads, adapter once, then all five rules on the one model."""
    start = time.perf_counter()
    for text in texts:
        evaluate_all(configuration_item_from_dict(json.loads(text)), parameters)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    texts = generate_items(args.items)
    size = sum(map(len, texts)) / len(texts)
    parameters = {rule.id: parse_parameters(rule, {}) for rule in RULES}
    loads, adapts, rules_only, wholes = [], [], [], []
    for _ in range(args.repeat):
        loads.append(time_json_loads(texts))
        adapts.append(time_adapt(texts))
        rules_only.append(time_rules(texts, parameters))
        wholes.append(time_whole_path(texts, parameters))
    floor, adapt, checks, full = (statistics.median(x) for x in (loads, adapts, rules_only, wholes))
    outcomes = Counter(
        outcome
        for text in texts
        for outcome in evaluate_all(configuration_item_from_dict(json.loads(text)), parameters)
    )
    count = args.items * len(RULES)
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{args.items} items, {size:.0f} bytes each, {len(RULES)} rules, median of {args.repeat}")
    print(f"{'step':<44}{'seconds':>10}{'per item':>12}{'x json.loads':>14}")
    for label, seconds in (
        ("json.loads only (floor)", floor),
        ("json.loads + adapter (parse once)", adapt),
        ("five rules on the parsed model", checks),
        ("whole path: parse + adapt + 5 rules", full),
    ):
        per_item = seconds / args.items * 1e6
        print(f"{label:<44}{seconds:>10.3f}{per_item:>10.1f}us{seconds / floor:>14.2f}")
    print(f"evaluations per second (whole path): {count / full:,.0f}")
    print(f"outcomes: {dict(outcomes)}")
    for label, seconds in (("five rules", checks), ("whole path", full)):
        verdict = "met" if seconds <= 2 * floor else "NOT met"
        print(f"target {label} <= 2.00x json.loads: {verdict}")


if __name__ == "__main__":
    main()
