"""What the rule functions run: the ``rules`` package as code, Powertools from AWS's layer.

No Docker and no bundling: the handler needs only the ``rules`` package, boto3 (in the Lambda
runtime) and Powertools, which comes from the layer AWS publishes in every commercial region.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

ROOT = Path(__file__).resolve().parent.parent
HANDLER = "rules.handler.lambda_handler"  # a string: synth never imports the handler
RUNTIME = lambda_.Runtime.PYTHON_3_14  # the newest (cdk-nag AwsSolutions-L1)
ARCHITECTURE = lambda_.Architecture.ARM_64
# The asset is the repository root filtered down to the `rules` package (no tests, no caches).
ASSET_EXCLUDE = ("*", "!rules", "!rules/**", "**/__pycache__", "**/*.pyc", "**/.*")


# Where a stack's rule functions get their code from, given the stack: the default is a CDK
# asset (needs the account bootstrapped); the stacksets mode passes an S3 object it publishes.
CodeSource = Callable[[Construct], lambda_.Code]


def rule_code() -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(ROOT), exclude=list(ASSET_EXCLUDE), ignore_mode=cdk.IgnoreMode.GLOB
    )


def asset_code(_stack: Construct) -> lambda_.Code:
    """The default ``CodeSource``: the ``rules`` package as a CDK asset."""
    return rule_code()


def powertools_version(requirements: Path = ROOT / "requirements.txt") -> str:
    """The Powertools version the code is tested with: the pin in requirements.txt, so the layer
    and the tests cannot drift apart."""
    match = re.search(
        r"^aws-lambda-powertools(?:\[[^\]]*\])?==([0-9][0-9A-Za-z.]*)\s*$",
        requirements.read_text(),
        re.MULTILINE,
    )
    if match is None:
        raise ValueError(f"{requirements}: no exact aws-lambda-powertools==X.Y.Z pin")
    return match.group(1)


def powertools_parameter_name(version: str) -> str:
    """AWS's public SSM parameter holding the layer ARN of Powertools ``version`` for this
    runtime and architecture, in the region CloudFormation deploys to; its value is
    ``arn:aws:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:N``.
    """
    python = RUNTIME.name.removeprefix("python")  # "3.14"
    arch = ARCHITECTURE.name  # "arm64" or "x86_64", as in the parameter path
    return f"/aws/service/powertools/python/{arch}/python{python}/{version}"


def powertools_layer_arn(override: str | None) -> str:
    """``override`` when set, else a CloudFormation dynamic reference resolved at deploy time."""
    if override:
        return override
    return f"{{{{resolve:ssm:{powertools_parameter_name(powertools_version())}}}}}"
