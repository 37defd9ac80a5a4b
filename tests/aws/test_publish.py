from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import ANY, Stubber

from rules.aws.clients import Clients
from rules.aws.errors import PublishError
from rules.aws.findings import build_finding
from rules.aws.publish import (
    ANNOTATION_LIMIT,
    config_evaluation,
    import_findings,
    put_evaluations,
)
from rules.model import LAMBDA_FUNCTION, Compliance, ConfigurationItem, Evaluation
from rules.registry import get_rule
from tests.aws.fixtures import ACCOUNT, REGION, CallLog, RawBody, all_findings

RULE = get_rule("lambda-dlq-check")
WHEN = datetime(2025, 6, 2, 9, 16, 41, 517000, tzinfo=UTC)


def _evaluations(n: int, compliance: Compliance = Compliance.NON_COMPLIANT) -> list[Evaluation]:
    return [
        Evaluation(RULE.id, f"fn-{i:03d}", LAMBDA_FUNCTION, compliance, "a" * 300) for i in range(n)
    ]


def _findings(n: int) -> list[dict[str, Any]]:
    result = []
    for evaluation in _evaluations(n):
        item = ConfigurationItem(
            LAMBDA_FUNCTION, evaluation.resource_id, "OK", None, ACCOUNT, REGION, None, None
        )
        result.append(
            build_finding(
                RULE,
                evaluation,
                item,
                account=ACCOUNT,
                region=REGION,
                partition="aws",
                now=WHEN,
                observed_at=WHEN,
            )
        )
    return result


def _no_sleep(_: float) -> None:
    return None


def test_testmode_evaluations_go_in_chunks_of_100_with_test_mode(
    clients: Clients, calls: CallLog
) -> None:
    accepted = put_evaluations(
        clients.client("config"),
        _evaluations(250),
        result_token="TESTMODE",
        ordering_timestamp=WHEN,
    )
    sent = calls.of("config:PutEvaluations")
    assert accepted == 250
    assert [len(call["Evaluations"]) for call in sent] == [100, 100, 50]
    assert all(call["TestMode"] is True for call in sent)
    first = sent[0]["Evaluations"][0]
    assert first["OrderingTimestamp"] == WHEN
    assert len(first["Annotation"]) == 256  # cut to PutEvaluations' limit
    assert first["Annotation"] == "a" * 253 + "..."


@pytest.mark.parametrize(
    ("annotation", "sent"),
    [
        ("short", "short"),
        ("b" * 256, "b" * 256),  # exactly the limit: whole
        ("c" * 257, "c" * 253 + "..."),
        ("statement 'x' allows '*'; " * 40, ("statement 'x' allows '*'; " * 40)[:253] + "..."),
    ],
)
def test_only_configs_copy_of_the_annotation_is_cut(annotation: str, sent: str) -> None:
    evaluation = Evaluation(RULE.id, "fn", LAMBDA_FUNCTION, Compliance.NON_COMPLIANT, annotation)
    assert config_evaluation(evaluation, WHEN)["Annotation"] == sent
    assert len(sent) <= ANNOTATION_LIMIT == 256
    assert evaluation.annotation == annotation  # the evaluation itself keeps the whole text


def test_real_token_has_no_test_mode_and_rejected_evaluations_are_retried(clients: Clients) -> None:
    # moto gap: PutEvaluations without TestMode is not implemented -> Stubber.
    config = clients.client("config")
    evaluations = _evaluations(2)
    with Stubber(config) as stub:
        stub.add_response(
            "put_evaluations",
            {
                "FailedEvaluations": [
                    {
                        "ComplianceResourceType": LAMBDA_FUNCTION,
                        "ComplianceResourceId": "fn-001",
                        "ComplianceType": "NON_COMPLIANT",
                        "OrderingTimestamp": WHEN,
                    }
                ]
            },
            {"Evaluations": ANY, "ResultToken": "token-1"},
        )
        stub.add_response(
            "put_evaluations",
            {"FailedEvaluations": []},
            {"Evaluations": [ANY], "ResultToken": "token-1"},
        )
        assert (
            put_evaluations(
                config,
                evaluations,
                result_token="token-1",
                ordering_timestamp=WHEN,
                sleep=_no_sleep,
            )
            == 2
        )
        stub.assert_no_pending_responses()


def test_evaluations_still_rejected_fail_loudly(clients: Clients) -> None:
    config = clients.client("config")
    failed = {
        "ComplianceResourceType": LAMBDA_FUNCTION,
        "ComplianceResourceId": "fn-000",
        "ComplianceType": "NON_COMPLIANT",
        "OrderingTimestamp": WHEN,
    }
    with Stubber(config) as stub:
        for _ in range(3):
            stub.add_response("put_evaluations", {"FailedEvaluations": [failed]})
        with pytest.raises(PublishError, match="1 evaluations rejected") as raised:
            put_evaluations(
                config, _evaluations(1), result_token="t", ordering_timestamp=WHEN, sleep=_no_sleep
            )
    assert raised.value.failures[0].id == "fn-000"


def test_findings_go_in_chunks_of_100_and_reach_security_hub(
    clients: Clients, calls: CallLog
) -> None:
    assert import_findings(clients.client("securityhub"), _findings(250)) == 250
    assert [len(c["Findings"]) for c in calls.of("securityhub:BatchImportFindings")] == [
        100,
        100,
        50,
    ]
    assert len(all_findings()) == 250


def test_partially_failed_findings_are_retried_until_imported(clients: Clients) -> None:
    securityhub = clients.client("securityhub")
    findings = _findings(3)
    rejected = {"Id": findings[1]["Id"], "ErrorCode": "InternalException", "ErrorMessage": "x"}
    with Stubber(securityhub) as stub:
        stub.add_response(
            "batch_import_findings",
            {"FailedCount": 1, "SuccessCount": 2, "FailedFindings": [rejected]},
            {"Findings": findings},
        )
        stub.add_response(
            "batch_import_findings",
            {"FailedCount": 0, "SuccessCount": 1, "FailedFindings": []},
            {"Findings": [findings[1]]},
        )
        assert import_findings(securityhub, findings, sleep=_no_sleep) == 3
        stub.assert_no_pending_responses()


def test_findings_still_failing_raise_with_their_ids(clients: Clients) -> None:
    securityhub = clients.client("securityhub")
    findings = _findings(2)
    rejected = {"Id": findings[0]["Id"], "ErrorCode": "InvalidInput", "ErrorMessage": "bad"}
    with Stubber(securityhub) as stub:
        stub.add_response(
            "batch_import_findings",
            {"FailedCount": 1, "SuccessCount": 1, "FailedFindings": [rejected]},
        )
        for _ in range(2):
            stub.add_response(
                "batch_import_findings",
                {"FailedCount": 1, "SuccessCount": 0, "FailedFindings": [rejected]},
            )
        with pytest.raises(PublishError) as raised:
            import_findings(securityhub, findings, sleep=_no_sleep)
    assert raised.value.accepted == 1
    assert [f.id for f in raised.value.failures] == [findings[0]["Id"]]
    assert "InvalidInput bad" in str(raised.value)


def test_throttling_is_retried_by_botocore(clients: Clients) -> None:
    """The first attempt is answered 429 ThrottlingException before moto sees it."""
    securityhub = clients.client("securityhub")
    attempts: list[str] = []

    def throttle_once(request: Any, **_: Any) -> AWSResponse | None:
        attempts.append(request.url)
        if len(attempts) > 1:
            return None
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
        return AWSResponse(
            request.url, 429, {"x-amzn-errortype": "ThrottlingException"}, RawBody(body.encode())
        )

    securityhub.meta.events.register_first(
        "before-send.securityhub.BatchImportFindings", throttle_once
    )
    assert import_findings(securityhub, _findings(1)) == 1
    assert len(attempts) == 2
    assert len(all_findings()) == 1


def test_a_failure_security_hub_cannot_tie_to_a_finding_is_still_reported(
    clients: Clients,
) -> None:
    securityhub = clients.client("securityhub")
    unknown = {"Id": "not-one-we-sent", "ErrorCode": "InvalidInput", "ErrorMessage": "?"}
    with Stubber(securityhub) as stub:
        stub.add_response(
            "batch_import_findings",
            {"FailedCount": 1, "SuccessCount": 1, "FailedFindings": [unknown]},
        )
        with pytest.raises(PublishError) as raised:
            import_findings(securityhub, _findings(1), sleep=_no_sleep)
    assert [f.id for f in raised.value.failures] == ["not-one-we-sent"]
