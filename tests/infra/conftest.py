"""Synthesize the app once per configuration per test session (a synth costs seconds)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK_DISABLE_STACK_TRACE", "1")

from aws_cdk.assertions import Template

from app import STACK_NAME, build_app

ROOT = Path(__file__).resolve().parents[2]
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
VPC = "vpc-0123456789abcdef0"
LAYER = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:40"
ALARM_TOPIC = "arn:aws:sns:eu-west-1:111122223333:guardrails-alerts"
# Every context key away from its default, given the way `-c key=value` gives them (strings).
FULL_OVERRIDES: dict[str, Any] = {
    "disabledRules": "lambda-dlq-check",
    "ruleParameters": json.dumps(
        {
            "lambda-concurrency-check": {"ConcurrencyLimitLow": 1, "ConcurrencyLimitHigh": "10"},
            "lambda-inside-vpc": {"subnetIds": ",".join(SUBNETS)},
            "lambda-dlq-check": {"dlqArns": "arn:aws:sqs:eu-west-1:111122223333:dlq"},
        }
    ),
    "ruleNamePrefix": "acme_",
    "periodicFrequency": "Six_Hours",
    "rulePeriodicFrequency": json.dumps(
        {"lambda-function-public-access-prohibited": "One_Hour", "lambda-inside-vpc": "off"}
    ),
    "securityHubExport": "false",
    "tags": json.dumps({"Owner": "platform-security", "CostCenter": "1234"}),
    "vpcId": VPC,
    "subnetIds": ",".join(SUBNETS),
    "createConfigRecorder": "true",
    "enableSecurityHub": "true",
    "reservedConcurrency": "3",
    "logRetentionDays": "90",
    "logLevel": "debug",
    "powertoolsLayerArn": LAYER,
    "alarmTopicArn": ALARM_TOPIC,
    "exemptionTagKey": "acme:exempt",
    "exemptionsDisabled": "lambda-function-public-access-prohibited",
}


@dataclass(frozen=True)
class Synth:
    outdir: Path
    template: Template
    resources: dict[str, Any]
    report: dict[str, Any]
    warnings: list[str]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


def synthesize(outdir: Path, overrides: dict[str, Any] | None = None) -> Synth:
    """What `npx cdk synth -c key=value ...` does: cdk.json's context plus the overrides."""
    context = {
        **cdk_json_context(),
        **(overrides or {}),
        # What the CLI adds: construct paths and asset paths in the template's Metadata.
        "aws:cdk:enable-path-metadata": True,
        "aws:cdk:enable-asset-metadata": True,
    }
    build_app(context, str(outdir)).synth()
    raw = json.loads((outdir / f"{STACK_NAME}.template.json").read_text())
    metadata = json.loads((outdir / f"{STACK_NAME}.metadata.json").read_text())
    warnings = [
        entry["data"]
        for entries in metadata.values()
        for entry in entries
        if entry["type"] == "aws:cdk:warning"
    ]
    return Synth(
        outdir=outdir,
        template=Template.from_json(raw),
        resources=raw["Resources"],
        report=json.loads((outdir / "validation-report.json").read_text()),
        warnings=warnings,
    )


@pytest.fixture(scope="session")
def default_synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    yield synthesize(tmp_path_factory.mktemp("cdk-default"))


@pytest.fixture(scope="session")
def full_synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    yield synthesize(tmp_path_factory.mktemp("cdk-full"), FULL_OVERRIDES)
