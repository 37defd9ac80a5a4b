"""The demo's runbook runner fills the step's payload as SSM does and reads the synthesized
document back (the full run is in `make demo`, against moto_server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo.remediate import UNRESOLVED, document_from_templates, payload
from infra.remediation import automation_content, to_yaml
from rules.remediation.runbooks import RUNBOOKS_BY_RULE

DLQ = RUNBOOKS_BY_RULE["lambda-dlq-check"]


def document() -> dict[str, object]:
    return automation_content(
        DLQ,
        role_arn="arn:aws:iam::111122223333:role/r",
        exemption_tag_key="k",
        rule_parameters="{}",
        attachment_sha256="0" * 64,
    )


def test_payload_takes_given_values_then_defaults() -> None:
    filled = payload(document(), {"FunctionName": "orders-api", "DryRun": False})
    assert filled["FunctionName"] == "orders-api"
    assert filled["DryRun"] is False
    assert filled["ExemptionTagKey"] == "k"
    assert filled["RuleParameters"] == "{}"
    with pytest.raises(ValueError, match="FunctionName"):
        payload(document(), {})


def test_document_is_read_back_from_a_template_with_deploy_time_values(tmp_path: Path) -> None:
    text = to_yaml(document())
    before, after = text.split("arn:aws:iam::111122223333:role/r")
    template = {
        "Resources": {
            "Doc": {
                "Type": "AWS::SSM::Document",
                "Properties": {
                    "Name": "n",
                    "Content": {"Fn::Join": ["", [before, {"Fn::GetAtt": ["R", "Arn"]}, after]]},
                },
            }
        }
    }
    path = tmp_path / "t.template.json"
    path.write_text(json.dumps(template))
    found = document_from_templates([path], "n")
    assert found is not None
    assert found["mainSteps"][0]["inputs"]["Script"] == DLQ.script()
    assert found["parameters"]["AutomationAssumeRole"]["default"] == UNRESOLVED
    assert document_from_templates([path], "other") is None
