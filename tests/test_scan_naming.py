"""scan names the Config rules as the stack deploys them (``ruleNamePrefix`` + rule id): in the
findings' ProductFields and in the StartConfigRulesEvaluation call of ``--publish``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import botocore.session
from botocore.stub import Stubber

from rules.model import LAMBDA_FUNCTION, Compliance, Evaluation
from rules.registry import get_rule
from rules.reports.common import Result
from rules.scan import RegionScan, findings_for
from rules.scan_cli import _publish
from tests.factories import BASE

PUBLIC = get_rule("lambda-function-public-access-prohibited")
EVALUATION = Evaluation(PUBLIC.id, BASE.name, LAMBDA_FUNCTION, Compliance.COMPLIANT, "fine")
SCAN = RegionScan("us-east-1", "lambda", (BASE,), (Result(EVALUATION, BASE.arn),))


def _client(service: str) -> Any:
    return botocore.session.get_session().create_client(
        service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )


def test_findings_name_the_prefixed_config_rule() -> None:
    (default,) = findings_for(SCAN, "aws", datetime.now(UTC))
    (custom,) = findings_for(SCAN, "aws", datetime.now(UTC), "team-a-")
    field = "LambdaGuardrails/ConfigRuleName"
    assert default["ProductFields"][field] == f"guardrails-{PUBLIC.id}"
    assert custom["ProductFields"][field] == f"team-a-{PUBLIC.id}"
    assert custom["GeneratorId"] == PUBLIC.id  # the id users type stays bare


def test_publish_asks_config_to_rerun_the_prefixed_rules(capsys: Any) -> None:
    securityhub, config = _client("securityhub"), _client("config")

    class Clients:
        partition = "aws"

        def client(self, service: str) -> Any:
            assert service == "securityhub"
            return securityhub

    class Session:
        def create_client(self, service: str, **_: Any) -> Any:
            assert service == "config"
            return config

    with Stubber(securityhub) as hub, Stubber(config) as rules:
        hub.add_response("batch_import_findings", {"FailedCount": 0, "SuccessCount": 1})
        rules.add_response(
            "start_config_rules_evaluation", {}, {"ConfigRuleNames": [f"team-a-{PUBLIC.id}"]}
        )
        _publish(SCAN, Clients(), Session(), [PUBLIC], "team-a-")
        rules.assert_no_pending_responses()
    assert f"Config re-evaluates team-a-{PUBLIC.id}" in capsys.readouterr().err
