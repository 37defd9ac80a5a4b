"""SARIF 2.1.0 for code scanning dashboards.

Only non-compliant evaluations become ``results`` (``kind: fail``): GitHub code scanning does not
document ``result.kind`` and would show passing checks as alerts. The compliant and
not-applicable counts go in ``run.properties``. Functions are cloud resources, not files: each
result names the function ARN as a logical location and as the artifact URI, and carries a stable
fingerprint (rule + ARN) so dashboards match a finding across runs. The function's account and
Region go in the result's ``properties`` (``accountId``, ``region``; left out when the ARN does
not say: never guessed), where a dashboard can group by them.
"""

from __future__ import annotations

import hashlib
from typing import Any, Sequence

from rules import __version__
from rules.model import Compliance
from rules.registry import RULES_BY_ID
from rules.reports.common import Result, counts_by_rule, rules_in
from rules.rule import Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "lambda-guardrails"

# SARIF level and GitHub's numeric security-severity (9.0+ critical, 7.0+ high, 4.0+ medium).
LEVELS = {
    Severity.CRITICAL: ("error", "9.5"),
    Severity.HIGH: ("error", "8.0"),
    Severity.MEDIUM: ("warning", "5.5"),
    Severity.LOW: ("note", "3.0"),
    Severity.INFORMATIONAL: ("note", "0.0"),
}


def render_sarif_log(results: Sequence[Result], tool_version: str = __version__) -> dict[str, Any]:
    rule_ids = rules_in(results)
    index = {rule_id: position for position, rule_id in enumerate(rule_ids)}
    counts = counts_by_rule(results)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": tool_version,
                        "rules": [_descriptor(rule_id) for rule_id in rule_ids],
                    }
                },
                "results": [
                    _result(r, index[r.evaluation.rule_id])
                    for r in results
                    if r.evaluation.compliance is Compliance.NON_COMPLIANT
                ],
                "properties": {
                    "evaluations": {
                        rule_id: {c.value: n for c, n in sorted(counter.items())}
                        for rule_id, counter in counts.items()
                    }
                },
            }
        ],
    }


def _descriptor(rule_id: str) -> dict[str, Any]:
    rule = RULES_BY_ID.get(rule_id)
    if rule is None:
        return {"id": rule_id}
    level, security_severity = LEVELS[rule.severity]
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description},
        "help": {"text": f"{rule.remediation} See {rule.documentation_url}"},
        "helpUri": rule.documentation_url,
        "defaultConfiguration": {"level": level},
        "properties": {
            "security-severity": security_severity,
            "severity": rule.severity.value,
            "tags": ["security", "aws", "lambda"],
        },
    }


def _result(result: Result, rule_index: int) -> dict[str, Any]:
    evaluation = result.evaluation
    rule = result.rule
    level = LEVELS[rule.severity][0] if rule else "warning"
    target = result.key
    fingerprint = hashlib.sha256(f"{evaluation.rule_id}|{target}".encode()).hexdigest()
    return {
        "ruleId": evaluation.rule_id,
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": level,
        "message": {"text": f"{evaluation.resource_id}: {evaluation.annotation}"},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": target}},
                "logicalLocations": [
                    {
                        "name": evaluation.resource_id,
                        "fullyQualifiedName": target,
                        "kind": "resource",
                    }
                ],
            }
        ],
        "partialFingerprints": {"guardrailsResource/v1": fingerprint},
        "properties": {
            "resourceType": evaluation.resource_type,
            "compliance": evaluation.compliance.value,
            **({"severity": rule.severity.value} if rule else {}),
            **_place_properties(result),
        },
    }


def _place_properties(result: Result) -> dict[str, str]:
    known = {"accountId": result.account_id, "region": result.region}
    return {name: value for name, value in known.items() if value is not None}
