"""One ASFF finding per (rule, function): pure, so the handler and the scan CLI build the same.

- ``Id`` is derived from the rule id and the function ARN only, so every evaluation of the same
  function by the same rule updates the same finding.
- NON_COMPLIANT -> ``Compliance.Status`` FAILED with the rule's severity; COMPLIANT -> PASSED.
- NOT_APPLICABLE (deleted, not recorded, out of scope) -> ``RecordState`` ARCHIVED with
  ``Compliance.Status`` NOT_AVAILABLE, which is how Security Hub's own controls retire findings
  of deleted resources.
- ``Severity`` is the rule's, from the registry, on every finding (``Label`` and ``Original``),
  as the handler issue specifies. Security Hub's own controls label PASSED findings
  INFORMATIONAL instead; dashboards that count by severity should filter on
  ``Compliance.Status`` FAILED and ``RecordState`` ACTIVE.
Environment variable values never appear (the model holds names only).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rules.aws.times import iso
from rules.model import LAMBDA_FUNCTION, Compliance, ConfigurationItem, Evaluation, LambdaFunction
from rules.rule import Rule

SCHEMA_VERSION = "2018-10-08"
PRODUCT = "lambda-guardrails"
TYPES = ("Software and Configuration Checks/AWS Security Best Practices",)
DESCRIPTION_LIMIT = 1024
TITLE_LIMIT = 256
RECOMMENDATION_LIMIT = 512
STATUS = {
    Compliance.COMPLIANT: "PASSED",
    Compliance.NON_COMPLIANT: "FAILED",
    Compliance.NOT_APPLICABLE: "NOT_AVAILABLE",
}


def product_arn(partition: str, region: str, account: str) -> str:
    return f"arn:{partition}:securityhub:{region}:{account}:product/{account}/default"


def function_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:lambda:{region}:{account}:function:{name}"


def finding_id(rule_id: str, resource_arn: str) -> str:
    return f"{PRODUCT}/{rule_id}/{resource_arn}"


def build_finding(
    rule: Rule,
    evaluation: Evaluation,
    subject: LambdaFunction | ConfigurationItem,
    *,
    account: str,
    region: str,
    partition: str,
    now: datetime,
    config_rule_name: str | None = None,
    config_rule_arn: str | None = None,
) -> dict[str, Any]:
    """The finding for ``evaluation`` of ``subject`` (the function, or the item of a function
    that has no configuration any more). Raises ValueError for other resource types."""
    if evaluation.resource_type != LAMBDA_FUNCTION:
        raise ValueError(f"no finding for resource type {evaluation.resource_type}")
    function = subject if isinstance(subject, LambdaFunction) else subject.function
    name = function.name if function else evaluation.resource_id
    arn = (function.arn if function else None) or (
        subject.arn if isinstance(subject, ConfigurationItem) else None
    )
    arn = arn or function_arn(partition, region, account, name)
    archived = evaluation.compliance is Compliance.NOT_APPLICABLE
    timestamp = iso(now)
    product_fields = {"LambdaGuardrails/RuleId": rule.id}
    if config_rule_name:
        product_fields["LambdaGuardrails/ConfigRuleName"] = config_rule_name
    if config_rule_arn:
        product_fields["LambdaGuardrails/ConfigRuleArn"] = config_rule_arn
    resource: dict[str, Any] = {
        "Type": "AwsLambdaFunction",
        "Id": arn,
        "Partition": partition,
        "Region": region,
        "Details": {"AwsLambdaFunction": _details(function, name)},
    }
    if function and function.tags:
        resource["Tags"] = dict(function.tags)
    verdict = {
        Compliance.COMPLIANT: "passed",
        Compliance.NON_COMPLIANT: "failed",
        Compliance.NOT_APPLICABLE: "no longer applies",
    }[evaluation.compliance]
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(rule.id, arn),
        "ProductArn": product_arn(partition, region, account),
        "GeneratorId": rule.id,
        "AwsAccountId": account,
        "Types": list(TYPES),
        "CreatedAt": timestamp,
        "UpdatedAt": timestamp,
        "Severity": {
            "Label": rule.severity.value,
            "Original": rule.severity.value,
        },
        "Title": _cut(f"{rule.title}: {name}", TITLE_LIMIT),
        "Description": _cut(
            f"Rule {rule.id} {verdict} for Lambda function {name}: "
            f"{_sentence(evaluation.annotation)} {rule.description}",
            DESCRIPTION_LIMIT,
        ),
        "Remediation": {
            "Recommendation": {
                "Text": _cut(rule.remediation, RECOMMENDATION_LIMIT),
                "Url": rule.documentation_url,
            }
        },
        "ProductFields": product_fields,
        "Compliance": {"Status": STATUS[evaluation.compliance]},
        "RecordState": "ARCHIVED" if archived else "ACTIVE",
        "Resources": [resource],
    }


def _details(function: LambdaFunction | None, name: str) -> dict[str, Any]:
    details: dict[str, Any] = {"FunctionName": name}
    if function is None:
        return details
    optional = {
        "Runtime": function.runtime,
        "Role": function.role,
        "PackageType": function.package_type,
        "KmsKeyArn": function.kms_key_arn,
    }
    details.update({key: value for key, value in optional.items() if value})
    if function.subnet_ids or function.security_group_ids:
        details["VpcConfig"] = {
            "SubnetIds": list(function.subnet_ids),
            "SecurityGroupIds": list(function.security_group_ids),
        }
    if function.dead_letter_target_arn:
        details["DeadLetterConfig"] = {"TargetArn": function.dead_letter_target_arn}
    return details


def _sentence(text: str) -> str:
    return text if text.endswith(".") else f"{text}."


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
