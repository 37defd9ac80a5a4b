"""The stopped recorder on moto_server: a recorder that names AWS::Lambda::Function but is not
recording keeps Config's inventory empty or old, so ``scan`` must not trust it.

moto keeps no configuration items for Lambda at all, which is exactly what a stopped recorder
looks like to ``ListDiscoveredResources``: before issue 8, ``scan`` read Config here, printed
"0 function(s)" and exited 0 beside a public function."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import boto3
import pytest

from demo.server import MotoServer, pointed_at
from rules.cli import main

FUNCTION = "stale-public-api"


def _code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'ok'\n")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def stopped_recorder(moto_server: MotoServer) -> Iterator[None]:
    """A public function, and a recorder of every supported type that was started and stopped."""
    with pointed_at(moto_server):
        moto_server.reset()
        session = boto3.Session(region_name="us-east-1")
        role = session.client("iam").create_role(
            RoleName="stale-inventory-fn",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
        lam = session.client("lambda")
        lam.create_function(
            FunctionName=FUNCTION,
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": _code()},
        )
        lam.add_permission(
            FunctionName=FUNCTION,
            StatementId="everyone",
            Action="lambda:InvokeFunction",
            Principal="*",
        )
        config = session.client("config")
        config.put_configuration_recorder(
            ConfigurationRecorder={
                "name": "default",
                "roleARN": role,
                "recordingGroup": {"allSupported": True},
            }
        )
        config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "config"})
        config.start_configuration_recorder(ConfigurationRecorderName="default")
        config.stop_configuration_recorder(ConfigurationRecorderName="default")
    yield
    with pointed_at(moto_server):
        moto_server.reset()  # no recorder left behind for other modules


def scan(server: MotoServer, *arguments: str) -> int:
    return main(
        ["scan", "--endpoint-url", server.url, "--region", "us-east-1", *arguments], io.StringIO()
    )


def test_auto_reads_the_lambda_api_says_why_and_fails_on_the_public_function(
    stopped_recorder: None, moto_server: MotoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert scan(moto_server, "--fail-on", "non-compliant") == 1
    assert (
        "rules scan: us-east-1: 1 function(s) read from the Lambda API: "
        "Config recorder 'default' is not recording"
    ) in capsys.readouterr().err


def test_source_config_exits_2_with_the_reason(
    stopped_recorder: None, moto_server: MotoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert scan(moto_server, "--source", "config", "--fail-on", "non-compliant") == 2
    assert (
        "rules scan: cannot read functions from AWS Config: "
        "Config recorder 'default' is not recording"
    ) in capsys.readouterr().err
