"""Step 2 of the demo: synthesize the CDK app (when this checkout has one) and say what it would
deploy: Config rules (their names and triggers), functions, alarms, roles and the actions each
role may call."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Mapping

ROOT = Path(__file__).resolve().parent.parent


def synthesize(
    root: Path = ROOT, outdir: Path | None = None, context: Mapping[str, Any] | None = None
) -> tuple[list[Path], str | None]:
    """Run ``app.py`` (``CDK_OUTDIR``) and return the templates, or why there are none.
    ``context`` replaces cdk.json's (``CDK_CONTEXT_JSON``, what the CDK CLI passes)."""
    if not (root / "app.py").exists():
        return [], "this checkout has no CDK app (app.py) yet"
    if shutil.which("node") is None:
        return [], "Node.js is not installed (aws-cdk-lib runs on it)"
    outdir = outdir or root / "cdk.out"
    environment = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    if context is not None:
        environment["CDK_CONTEXT_JSON"] = json.dumps(context)
    completed = subprocess.run(
        [sys.executable, "app.py"],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-15:])
        return [], f"synth failed (exit {completed.returncode}):\n{tail}"
    return sorted(outdir.glob("*.template.json")), None


def summarize(template: Mapping[str, Any]) -> list[str]:
    resources: Mapping[str, Any] = template.get("Resources", {})
    by_type = Counter(resource.get("Type", "?") for resource in resources.values())
    lines = ["Resources: " + ", ".join(f"{n} {t}" for t, n in sorted(by_type.items()))]
    rules = _of_type(resources, "AWS::Config::ConfigRule")
    lines.append(f"Config rules ({len(rules)}):")
    for _, properties in rules:
        source = properties.get("Source", {})
        triggers = sorted({_trigger(d) for d in source.get("SourceDetails", [])})
        lines.append(
            f"  {properties.get('ConfigRuleName', '?')}  "
            f"[{source.get('Owner', '?')}; {', '.join(triggers)}]"
        )
    functions = _of_type(resources, "AWS::Lambda::Function")
    lines.append(f"Functions ({len(functions)}):")
    for logical_id, properties in functions:
        traits = [
            str(properties.get("Runtime", "?")),
            "/".join(properties.get("Architectures", ["x86_64"])),
            f"{properties.get('MemorySize', 128)} MB",
            f"reserved concurrency {properties.get('ReservedConcurrentExecutions', 'none')}",
            "DLQ" if properties.get("DeadLetterConfig") else "no DLQ",
            "CMK" if properties.get("KmsKeyArn") else "no CMK",
            "VPC" if properties.get("VpcConfig") else "no VPC",
        ]
        lines.append(f"  {logical_id}: {', '.join(traits)}")
    alarms = _of_type(resources, "AWS::CloudWatch::Alarm")
    lines.append(f"Alarms ({len(alarms)}):")
    for logical_id, properties in alarms:
        actions = properties.get("AlarmActions", [])
        lines.append(
            f"  {logical_id}: {properties.get('Namespace', '?')} "
            f"{properties.get('MetricName', '?')} > {properties.get('Threshold', '?')}, "
            + (f"notifies {', '.join(map(str, actions))}" if actions else "notifies no one")
        )
    roles = _of_type(resources, "AWS::IAM::Role")
    lines.append(f"Roles ({len(roles)}) and the actions each may call:")
    policies = _of_type(resources, "AWS::IAM::Policy") + _of_type(
        resources, "AWS::IAM::ManagedPolicy"
    )
    for logical_id, properties in roles:
        actions = set(_actions(p.get("PolicyDocument", {}) for p in properties.get("Policies", [])))
        attached = {
            ref["Ref"]
            for ref in properties.get("ManagedPolicyArns", [])
            if isinstance(ref, Mapping) and "Ref" in ref
        }
        for policy_id, policy in policies:
            if policy_id in attached or {"Ref": logical_id} in policy.get("Roles", []):
                actions.update(_actions([policy.get("PolicyDocument", {})]))
        lines.append(f"  {logical_id}: {', '.join(sorted(actions)) or '(none)'}")
    return lines


def _trigger(detail: Mapping[str, Any]) -> str:
    """A trigger, a periodic one with its frequency (``ScheduledNotification/One_Hour``)."""
    message = str(detail.get("MessageType", "?"))
    frequency = detail.get("MaximumExecutionFrequency")
    return f"{message}/{frequency}" if frequency else message


def _of_type(resources: Mapping[str, Any], kind: str) -> list[tuple[str, Mapping[str, Any]]]:
    return [
        (logical_id, resource.get("Properties", {}))
        for logical_id, resource in resources.items()
        if resource.get("Type") == kind
    ]


def _actions(documents: Iterable[Mapping[str, Any]]) -> Iterable[str]:
    for document in documents:
        for statement in document.get("Statement", []):
            if statement.get("Effect", "Allow") != "Allow":
                continue
            action = statement.get("Action", [])
            yield from [action] if isinstance(action, str) else action


def describe(root: Path = ROOT) -> list[str]:
    templates, problem = synthesize(root)
    if problem:
        return [f"(skipped: {problem})"]
    lines: list[str] = []
    for path in templates:
        lines.append(f"{path.name}:")
        lines.extend("  " + line for line in summarize(json.loads(path.read_text())))
    return lines
