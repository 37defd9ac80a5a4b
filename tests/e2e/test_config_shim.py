"""The demo's stand-in for Config's compliance store (moto has none): what PutEvaluations
accepted is what GetComplianceDetailsByConfigRule answers, per rule and compliance type."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3

from demo.config_shim import ComplianceStore
from demo.server import MotoServer


def _evaluation(resource_id: str, compliance: str) -> dict[str, object]:
    return {
        "ComplianceResourceType": "AWS::Lambda::Function",
        "ComplianceResourceId": resource_id,
        "ComplianceType": compliance,
        "OrderingTimestamp": datetime.now(UTC),
    }


def test_store_answers_from_accepted_evaluations(
    moto_server: MotoServer, session: boto3.Session
) -> None:
    config = session.client("config")
    store = ComplianceStore()
    store.attach(config)
    with store.invoking("rule-a"):
        config.put_evaluations(
            Evaluations=[_evaluation("f1", "NON_COMPLIANT"), _evaluation("f2", "COMPLIANT")],
            ResultToken="TESTMODE",
            TestMode=True,
        )
    with store.invoking("rule-b"):
        config.put_evaluations(
            Evaluations=[_evaluation("f1", "COMPLIANT")], ResultToken="TESTMODE", TestMode=True
        )
    with store.invoking("rule-a"):  # a later verdict replaces the earlier one
        config.put_evaluations(
            Evaluations=[_evaluation("f2", "NOT_APPLICABLE")], ResultToken="TESTMODE", TestMode=True
        )

    def ids(rule: str, *types: str) -> list[str]:
        pages = config.get_paginator("get_compliance_details_by_config_rule").paginate(
            ConfigRuleName=rule, ComplianceTypes=list(types)
        )
        return [
            r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]
            for page in pages
            for r in page["EvaluationResults"]
        ]

    assert ids("rule-a", "COMPLIANT", "NON_COMPLIANT") == ["f1"]
    assert ids("rule-a", "NOT_APPLICABLE") == ["f2"]
    assert ids("rule-b", "COMPLIANT") == ["f1"]
    assert ids("rule-c", "COMPLIANT") == []
    assert store.calls == [("rule-a", 2), ("rule-b", 1), ("rule-a", 1)]
