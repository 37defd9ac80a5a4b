"""What moto 5.2.5 lacks on the Config side, filled in on the client for the demo and e2e tests.

moto accepts ``PutEvaluations`` only with ``TestMode=True`` and then stores nothing, and it does
not implement ``GetComplianceDetailsByConfigRule`` (in server mode the call answers HTTP 500,
which botocore retries for a long time). The periodic sweep asks that API which functions the
rule evaluated before, so the demo keeps Config's side of the bargain itself:

- every ``PutEvaluations`` the handlers send still goes to moto (and must succeed there); once
  it has, the evaluations are recorded here under the Config rule being invoked;
- ``GetComplianceDetailsByConfigRule`` is answered from that record, on the client, without
  reaching moto.

A PutEvaluations request names no rule (Config derives it from the result token, and every demo
token is ``TESTMODE``), so the caller says which rule it is invoking (``store.invoking``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Iterator

from botocore.awsrequest import AWSResponse


@dataclass(frozen=True)
class StoredEvaluation:
    config_rule_name: str
    resource_type: str
    resource_id: str
    compliance: str
    annotation: str
    recorded: datetime


class ComplianceStore:
    def __init__(self) -> None:
        self.latest: dict[tuple[str, str, str], StoredEvaluation] = {}
        self.calls: list[tuple[str, int]] = []  # (rule, evaluations) per accepted PutEvaluations
        self._rule: str | None = None

    @contextlib.contextmanager
    def invoking(self, config_rule_name: str) -> Iterator[None]:
        self._rule = config_rule_name
        try:
            yield
        finally:
            self._rule = None

    def attach(self, config_client: Any) -> None:
        events = config_client.meta.events
        events.register("before-parameter-build.config-service.PutEvaluations", self._capture)
        events.register("after-call.config-service.PutEvaluations", self._commit)
        query = "config-service.GetComplianceDetailsByConfigRule"
        events.register(f"before-parameter-build.{query}", self._capture_query)
        events.register(f"before-call.{query}", self._answer)

    def _capture(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["guardrails_evaluations"] = (self._rule, list(params.get("Evaluations", [])))

    def _commit(self, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        rule, evaluations = context.pop("guardrails_evaluations", (None, []))
        if rule is None or http_response.status_code >= 300:
            return
        now = datetime.now(UTC)
        for evaluation in evaluations:
            stored = StoredEvaluation(
                rule,
                evaluation["ComplianceResourceType"],
                evaluation["ComplianceResourceId"],
                evaluation["ComplianceType"],
                evaluation.get("Annotation", ""),
                now,
            )
            self.latest[(rule, stored.resource_type, stored.resource_id)] = stored
        self.calls.append((rule, len(evaluations)))

    def _capture_query(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["guardrails_query"] = dict(params)

    def _answer(self, context: dict[str, Any], **_: Any) -> Any:
        query = context.pop("guardrails_query", {})
        rule = query.get("ConfigRuleName")
        wanted = set(query.get("ComplianceTypes") or ())
        results = [
            {
                "EvaluationResultIdentifier": {
                    "EvaluationResultQualifier": {
                        "ConfigRuleName": stored.config_rule_name,
                        "ResourceType": stored.resource_type,
                        "ResourceId": stored.resource_id,
                    },
                    "OrderingTimestamp": stored.recorded,
                },
                "ComplianceType": stored.compliance,
                "ResultRecordedTime": stored.recorded,
                "ConfigRuleInvokedTime": stored.recorded,
                "Annotation": stored.annotation,
            }
            for (name, _, _), stored in sorted(self.latest.items())
            if name == rule and (not wanted or stored.compliance in wanted)
        ]
        response = AWSResponse(url="", status_code=200, headers={}, raw=None)
        return response, {"EvaluationResults": results, "ResponseMetadata": {}}

    def verdicts(self) -> dict[tuple[str, str], StoredEvaluation]:
        """(rule, resource id) -> the latest evaluation Config holds."""
        return {(rule, rid): stored for (rule, _, rid), stored in self.latest.items()}
