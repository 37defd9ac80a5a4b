from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from rules.model import Compliance
from rules.reports import render
from rules.reports.common import Result
from rules.reports.sarif import render_sarif_log
from tests.reports_helpers import organization_results, sample_results

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())


def test_sarif_validates_against_the_official_2_1_0_schema() -> None:
    document = json.loads(render("sarif", sample_results()))
    jsonschema.Draft4Validator(SCHEMA).validate(document)


def test_the_schema_check_can_fail() -> None:
    document = render_sarif_log(sample_results())
    document["runs"][0]["results"][0]["level"] = "critical"  # not a SARIF level
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(document)


def test_results_are_the_failures_with_stable_fingerprints() -> None:
    results = sample_results()
    run = render_sarif_log(results)["runs"][0]
    failing = [r for r in results if r.evaluation.compliance is Compliance.NON_COMPLIANT]
    assert [
        (x["ruleId"], x["locations"][0]["logicalLocations"][0]["fullyQualifiedName"])
        for x in run["results"]
    ] == [(r.evaluation.rule_id, r.arn) for r in failing]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["kind"] == "fail"
    again = render_sarif_log(results)["runs"][0]["results"]
    assert [x["partialFingerprints"] for x in again] == [
        x["partialFingerprints"] for x in run["results"]
    ]
    assert len({json.dumps(x["partialFingerprints"]) for x in run["results"]}) == len(failing)


def test_severity_maps_to_level_and_security_severity() -> None:
    run = render_sarif_log(sample_results())["runs"][0]
    by_id = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    public = by_id["lambda-function-public-access-prohibited"]
    assert public["defaultConfiguration"]["level"] == "error"
    assert float(public["properties"]["security-severity"]) >= 9.0
    assert by_id["lambda-inside-vpc"]["defaultConfiguration"]["level"] == "note"
    counts = run["properties"]["evaluations"]["lambda-inside-vpc"]
    assert counts == {"COMPLIANT": 1, "NON_COMPLIANT": 1}


def test_results_carry_account_and_region_and_still_validate() -> None:
    results = organization_results(["222233334444", "111122223333"], ["us-east-1", "eu-west-1"], 1)
    arnless = Result(replace(results[1].evaluation, resource_id="gone"))  # place unknown
    document = render_sarif_log([*results, arnless])
    jsonschema.Draft4Validator(SCHEMA).validate(document)
    sarif_results = document["runs"][0]["results"]
    failing = [r for r in results if r.evaluation.compliance is Compliance.NON_COMPLIANT]
    assert [
        (x["properties"]["accountId"], x["properties"]["region"]) for x in sarif_results[:-1]
    ] == [(r.account_id, r.region) for r in failing]
    assert {"accountId", "region"}.isdisjoint(sarif_results[-1]["properties"])  # never guessed
