"""Environment variable values never reach a shift-left report: the CloudFormation adapter names
an environment it cannot read by its variables' names only (``{DB_PASSWORD: <value>}``), whatever
intrinsic holds the values, so check-template's every format, the cdk-nag pack and the hook
repeat no value."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from infra.pack import LambdaGuardrailsChecks
from rules.adapters.cloudformation import describe_intrinsic, read_template
from rules.cli import main
from rules.hook import MODE_VARIABLE, PARAMETERS_VARIABLE, RULES_VARIABLE, handle
from rules.registry import RULES

EVENTS = Path(__file__).parent / "events"
CMK = "lambda-env-vars-cmk-encrypted"
NO_VALUE = {"Ref": "AWS::NoValue"}
# Distinctive values, one per way a template can hold them, and a short one.
SECRETS = {
    "IfSecret": "hunter3SECRET-in-an-if",
    "SubSecret": "SUBSECRET-9f8e7d",
    "JoinSecret": "JOINSECRET-1a2b3c",
    "SelectSecret": "SELECTSECRET-4d5e6f",
    "NestedSecret": "NESTEDSECRET-7g8h9i",
    "ShortSecret": "pw7",
}
# Function logical id -> its Environment property (each variables map unreadable at synth time).
ENVIRONMENTS: dict[str, Any] = {
    "InIf": {"Variables": {"Fn::If": ["IsProd", {"DB_PASSWORD": SECRETS["IfSecret"]}, NO_VALUE]}},
    "InSub": {
        "Fn::If": [
            "IsProd",
            {"Variables": {"TOKEN": {"Fn::Sub": "${AWS::Region}-" + SECRETS["SubSecret"]}}},
            NO_VALUE,
        ]
    },
    "InJoin": {
        "Variables": {
            "Fn::If": [
                "IsProd",
                {"API_KEY": {"Fn::Join": ["", ["k-", SECRETS["JoinSecret"]]]}},
                {"SHORT": SECRETS["ShortSecret"]},
            ]
        }
    },
    "InSelect": {
        "Variables": {"Fn::Select": [0, [{"SELECTED": SECRETS["SelectSecret"]}, {"B": "b"}]]}
    },
    "Nested": {
        "Fn::If": [
            "IsProd",
            {"Variables": {"OUTER": {"Fn::If": ["Other", SECRETS["NestedSecret"], "x"]}}},
            {"Variables": {"INNER": {"Nested": {"Deeper": SECRETS["NestedSecret"]}}}},
        ]
    },
}
NAMES = ("DB_PASSWORD", "TOKEN", "API_KEY", "SELECTED", "OUTER")


def template() -> dict[str, Any]:
    return {
        "Resources": {
            logical_id: {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Runtime": "python3.12", "Environment": environment},
            }
            for logical_id, environment in ENVIRONMENTS.items()
        }
    }


def assert_no_secret(text: str) -> None:
    for name, secret in SECRETS.items():
        assert secret not in text, name


def test_descriptions_name_variables_and_never_their_values() -> None:
    models = read_template(template())
    sources = " ".join(u.source for found in models.unknowns.values() for u in found)
    assert_no_secret(sources)
    # The names stay, so the annotation still says which variables are at stake.
    for name in NAMES:
        assert f"{name}: " in sources
    assert "{DB_PASSWORD: <value>}" in sources
    # Names of parameters, conditions and resources are not values: they are kept.
    assert "Fn::If [IsProd, " in sources
    assert "(Ref AWS::NoValue)" in sources
    # Outside a position that may hold a secret, a description is unchanged.
    assert describe_intrinsic({"Fn::Sub": "arn:${AWS::Partition}:sqs:x"}) == (
        "Fn::Sub arn:${AWS::Partition}:sqs:x"
    )


@pytest.mark.parametrize("fmt", ["jsonl", "sarif", "html", "csv", "table"])
@pytest.mark.parametrize("unknown", ["non-compliant", "unknown"])
def test_check_template_reports_no_value_in_any_format(
    tmp_path: Path, fmt: str, unknown: str
) -> None:
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps(template()))
    out = io.StringIO()
    main(["check-template", "--format", fmt, "--unknown", unknown, str(path)], stdout=out)
    text = out.getvalue()
    assert "DB_PASSWORD" in text or fmt == "table"  # the table may cut long annotations
    assert_no_secret(text)


def test_the_pack_reports_no_value(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "App")
    for logical_id, environment in ENVIRONMENTS.items():
        function = lambda_.CfnFunction(
            stack,
            logical_id,
            role="arn:aws:iam::111122223333:role/fn",
            runtime="python3.12",
            handler="index.handler",
            code=lambda_.CfnFunction.CodeProperty(zip_file="def handler(e, c): pass"),
        )
        function.add_property_override("Environment", environment)
    cdk.Validations.of(app).add_plugins(LambdaGuardrailsChecks(app, enabled_rules=[CMK]))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    assert "DB_PASSWORD" in report
    assert_no_secret(report)


def _no_kms() -> None:
    raise AssertionError("no key: DescribeKey is never asked")


def _no_ec2() -> None:
    raise AssertionError("lambda-vpc-multi-az is not run: DescribeSubnets is never asked")


def _no_lambda() -> None:
    raise AssertionError("no code signing configuration: GetCodeSigningConfig is never asked")


def test_the_hook_answers_and_logs_no_value(capsys: pytest.CaptureFixture[str]) -> None:
    base = json.loads((EVENTS / "hook_function_secret_env.json").read_text())
    env = {
        # Every rule but the multi-AZ one, whose zones only EC2 knows (tests/test_hook.py).
        RULES_VARIABLE: ",".join(rule.id for rule in RULES if rule.id != "lambda-vpc-multi-az"),
        PARAMETERS_VARIABLE: "{}",
        MODE_VARIABLE: "fail",
        "AWS_REGION": "eu-west-1",
    }
    answers = []
    for logical_id, environment in ENVIRONMENTS.items():
        event = copy.deepcopy(base)
        event["requestData"]["targetLogicalId"] = logical_id
        properties = event["requestData"]["targetModel"]["resourceProperties"]
        properties.pop("KmsKeyArn", None)
        properties["Environment"] = environment
        answers.append(
            handle(event, env=env, invoked_arn=None, kms=_no_kms, ec2=_no_ec2, lambda_=_no_lambda)
        )
    assert {a["errorCode"] for a in answers} == {"NonCompliant"}
    assert any("DB_PASSWORD" in a["message"] for a in answers)
    out = capsys.readouterr()
    assert_no_secret(json.dumps(answers) + out.out + out.err)
