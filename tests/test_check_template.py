"""``python -m rules check-template``: JSON and YAML templates, every violation with its logical
id and line, SARIF file locations, UNKNOWN on request, exit codes and unreadable templates."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from rules.cli import main
from rules.template_file import TemplateReadError, parse_template

TEMPLATES = Path(__file__).parent / "data" / "templates"
NONCOMPLIANT = ("noncompliant.yaml", "noncompliant.json")
PUBLIC = "lambda-function-public-access-prohibited"
# (logical id, rule) of every violation the template holds, and nothing else.
UNIQUE_ROLE = "lambda-unique-execution-role"
EXPECTED_VIOLATIONS = {
    ("Public", PUBLIC),
    ("OutsideVpc", "lambda-inside-vpc"),
    ("PlainVariables", "lambda-env-vars-cmk-encrypted"),
    ("NoDeadLetters", "lambda-dlq-check"),
    ("Unreserved", "lambda-concurrency-check"),
    ("ParameterInvoked", PUBLIC),
    ("ImportedPublicInvoke", PUBLIC),
    # Every function of the sample template uses the one Role it declares.
    *(
        (logical_id, UNIQUE_ROLE)
        for logical_id in (
            "Compliant",
            "Public",
            "OutsideVpc",
            "PlainVariables",
            "NoDeadLetters",
            "Unreserved",
            "ParameterInvoked",
        )
    ),
}
SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(["check-template", *argv], stdout=out)
    return status, out.getvalue()


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def line_of(path: Path, logical_id: str) -> int:
    """Where the resource's key is written, found in the text itself."""
    pattern = re.compile(rf'^\s*"?{logical_id}"?\s*:')
    lines = path.read_text().splitlines()
    return next(n for n, text in enumerate(lines, 1) if pattern.match(text))


@pytest.mark.parametrize("name", NONCOMPLIANT)
def test_every_violation_is_reported_with_logical_id_and_line(name: str) -> None:
    path = TEMPLATES / name
    status, text = run("--format", "jsonl", str(path))
    assert status == 0  # no --fail-on
    rows = json_lines(text)
    failing = {(r["logical_id"], r["rule"]) for r in rows if r["compliance"] == "NON_COMPLIANT"}
    assert failing == EXPECTED_VIOLATIONS
    for row in rows:
        assert row["line"] == line_of(path, row["logical_id"]), row
        assert row["template"] == str(path)
    compliant = {r["rule"] for r in rows if r["logical_id"] == "Compliant"}
    assert compliant == {r["rule"] for r in rows} and all(
        r["compliance"] == "COMPLIANT"
        for r in rows
        if r["logical_id"] == "Compliant" and r["rule"] != UNIQUE_ROLE
    )


def test_yaml_and_json_give_the_same_verdicts() -> None:
    by_format = [
        {(r["logical_id"], r["rule"], r["compliance"], r["annotation"]) for r in json_lines(text)}
        for name in NONCOMPLIANT
        for _, text in [run("--format", "jsonl", str(TEMPLATES / name))]
    ]
    assert by_format[0] == by_format[1]


def test_the_annotations_name_the_causes() -> None:
    _, text = run("--format", "jsonl", str(TEMPLATES / "noncompliant.yaml"))
    annotations = {(r["logical_id"], r["rule"]): r["annotation"] for r in json_lines(text)}
    assert "Ref InvokerPrincipal" in annotations["ParameterInvoked", PUBLIC]
    imported = annotations["ImportedPublicInvoke", PUBLIC]
    assert "Fn::ImportValue shared-function-arn" in imported and "'*'" in imported


def test_yaml_short_forms_are_read_as_their_functions() -> None:
    text = """
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: !GetAtt Role.Arn
      KmsKeyArn: !GetAtt [Key, Arn]
      FunctionName: !Sub "${AWS::StackName}-fn"
      DeadLetterConfig: {TargetArn: !Ref Topic}
      Layers: [!Join [":", [a, !Ref B]]]
      Description: !If [IsProd, !ImportValue x, !Ref AWS::NoValue]
"""
    properties = parse_template(text, "t.yaml").template["Resources"]["Fn"]["Properties"]
    assert properties == {
        "Role": {"Fn::GetAtt": ["Role", "Arn"]},
        "KmsKeyArn": {"Fn::GetAtt": ["Key", "Arn"]},
        "FunctionName": {"Fn::Sub": "${AWS::StackName}-fn"},
        "DeadLetterConfig": {"TargetArn": {"Ref": "Topic"}},
        "Layers": [{"Fn::Join": [":", ["a", {"Ref": "B"}]]}],
        "Description": {"Fn::If": ["IsProd", {"Fn::ImportValue": "x"}, {"Ref": "AWS::NoValue"}]},
    }


@pytest.mark.parametrize("name", NONCOMPLIANT)
def test_sarif_puts_each_result_on_its_template_line(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(TEMPLATES.parent.parent.parent)  # the repository root, as in CI
    path = TEMPLATES / name
    status, text = run("--format", "sarif", f"tests/data/templates/{name}")
    assert status == 0
    log = json.loads(text)
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))
    results = log["runs"][0]["results"]
    assert {
        (r["locations"][0]["logicalLocations"][0]["name"], r["ruleId"]) for r in results
    } == EXPECTED_VIOLATIONS
    for result in results:
        location = result["locations"][0]["physicalLocation"]
        logical_id = result["properties"]["logicalId"]
        assert location["artifactLocation"]["uri"] == f"tests/data/templates/{name}"
        assert location["region"]["startLine"] == line_of(path, logical_id)
        assert result["message"]["text"].startswith(f"{logical_id}: ")
    fingerprints = [r["partialFingerprints"]["guardrailsTemplateResource/v1"] for r in results]
    assert len(set(fingerprints)) == len(results)


def test_unknown_on_request_is_its_own_level_and_not_counted_by_fail_on(tmp_path: Path) -> None:
    path = TEMPLATES / "noncompliant.yaml"
    _, text = run("--unknown", "unknown", "--format", "jsonl", str(path))
    levels = {(r["logical_id"], r["rule"]): r["compliance"] for r in json_lines(text)}
    assert levels["ParameterInvoked", PUBLIC] == "UNKNOWN"
    assert levels["Public", PUBLIC] == "NON_COMPLIANT"
    assert [k for k, v in levels.items() if v == "UNKNOWN"] == [("ParameterInvoked", PUBLIC)]
    # A template whose only failure is unknown: fails by default, not when UNKNOWN is asked for.
    only_unknown = tmp_path / "unknown.yaml"
    only_unknown.write_text(
        "Parameters: {P: {Type: String}}\nResources:\n  F: {Type: AWS::Lambda::Function}\n"
        "  G:\n    Type: AWS::Lambda::Permission\n    Properties:\n"
        "      FunctionName: !Ref F\n      Action: lambda:InvokeFunction\n"
        "      Principal: !Ref P\n"
    )
    base = ("--rule", PUBLIC, "--fail-on", "non-compliant", "--format", "jsonl")
    assert run(*base, str(only_unknown))[0] == 1
    assert run(*base, "--unknown", "unknown", str(only_unknown))[0] == 0


def test_fail_on_and_severity_thresholds() -> None:
    path = str(TEMPLATES / "noncompliant.yaml")
    assert run("--fail-on", "non-compliant", "--format", "jsonl", path)[0] == 1
    assert run("--fail-on", "critical", "--format", "jsonl", path)[0] == 1
    # Only LOW rules fail for this function set: a high threshold passes.
    low_only = ("--rule", "lambda-inside-vpc", "--rule", "lambda-concurrency-check")
    assert run(*low_only, "--fail-on", "high", "--format", "jsonl", path)[0] == 0
    assert run(*low_only, "--fail-on", "low", "--format", "jsonl", path)[0] == 1


def test_rule_parameters_apply(tmp_path: Path) -> None:
    path = str(TEMPLATES / "noncompliant.yaml")
    parameters = json.dumps({"subnetIds": "subnet-0fedcba9876543210"})
    _, text = run(
        "--rule", "lambda-inside-vpc", "--parameters", parameters, "--format", "jsonl", path
    )
    rows = json_lines(text)
    # Every function in a VPC now sits in subnets the parameter does not allow.
    assert {r["compliance"] for r in rows if r["logical_id"] == "Compliant"} == {"NON_COMPLIANT"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Resources: [", "not valid JSON or YAML"),
        ('{"Resources": {"A": }', "not valid JSON or YAML"),
        ("", "empty file"),
        ("- a\n- b\n", "not an object"),
        ("AWSTemplateFormatVersion: '2010-09-09'\n", "no Resources object"),
        ("Resources:\n  A: {Type: X}\n  A: {Type: Y}\n", "Duplicate"),
        (
            "Transform: AWS::Serverless-2016-10-31\nResources:\n"
            "  Fn: {Type: AWS::Serverless::Function}\n",
            "check it after the SAM transform",
        ),
    ],
)
def test_unreadable_or_invalid_templates_exit_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(content)
    good = str(TEMPLATES / "noncompliant.json")
    status, text = run("--format", "jsonl", str(bad), good)
    assert status == 2
    error = capsys.readouterr().err
    assert str(bad) in error and message in error
    rows = json_lines(text)
    assert {"error"} == set(rows[-1]) and message in rows[-1]["error"]
    # The readable template is still reported, labelled by file.
    assert any(r.get("logical_id") == "Public" for r in rows)


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(str(tmp_path / "nope.yaml"))[0] == 2
    assert "cannot read" in capsys.readouterr().err


def test_parse_errors_name_the_line() -> None:
    with pytest.raises(TemplateReadError, match="line 3: "):
        parse_template("Resources:\n  A: {Type: X\n", "t.yaml")


@pytest.mark.parametrize("fmt", ["table", "html", "csv"])
def test_other_formats_render(fmt: str) -> None:
    status, text = run("--format", fmt, str(TEMPLATES / "noncompliant.yaml"))
    assert status == 0
    for logical_id, _ in EXPECTED_VIOLATIONS:
        assert logical_id in text


def test_readme_shows_the_three_ways_with_one_command_each() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme[readme.index("## Before deployment") :]
    section = section[: section.index("\n## ", 1)]
    for command in (
        "add_plugins(LambdaGuardrailsChecks(app))",
        "python -m rules check-template",
        "-c deploymentHook=fail",
    ):
        assert command in section


REGIONAL_DLQ = (
    "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n"
    "      DeadLetterConfig:\n"
    "        TargetArn: !Sub arn:${AWS::Partition}:sqs:${AWS::Region}:111122223333:dlq\n"
)


def test_an_unknown_region_is_never_guessed_for_a_listed_arn(tmp_path: Path) -> None:
    path = tmp_path / "regional.yaml"
    path.write_text(REGIONAL_DLQ)
    listed = json.dumps({"dlqArns": "arn:aws:sqs:us-east-1:111122223333:dlq"})
    base = ("--rule", "lambda-dlq-check", "--parameters", listed, "--format", "jsonl")
    # Without --region the Region is known only at deploy time: no match on a guess; the
    # verdict is decided by AWS::Region, named, and UNKNOWN on request.
    (row,) = json_lines(run(*base, str(path))[1])
    assert row["compliance"] == "NON_COMPLIANT"
    assert "Ref AWS::Region" in row["annotation"]
    (row,) = json_lines(run(*base, "--unknown", "unknown", str(path))[1])
    assert row["compliance"] == "UNKNOWN"
    # The Region given: the listed queue is the one the template names.
    (row,) = json_lines(run(*base, "--region", "us-east-1", str(path))[1])
    assert row["compliance"] == "COMPLIANT"
    (row,) = json_lines(run(*base, "--region", "eu-west-1", str(path))[1])
    assert row["compliance"] == "NON_COMPLIANT"
