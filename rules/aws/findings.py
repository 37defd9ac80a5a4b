"""One ASFF finding per (rule, function): pure, so the handler and the scan CLI build the same.

- ``Id`` is derived from the Config rule's name and the function ARN only, so every evaluation
  of the same function by the same deployed rule updates the same finding, and two deployments
  beside each other (two ``ruleNamePrefix`` values in one account) never overwrite each other's.
  Without a rule name (tools outside a deployment) the default deployment's name is used, so a
  ``scan --publish`` updates the findings the default stack's rules write.
- NON_COMPLIANT -> ``Compliance.Status`` FAILED, ``Severity.Label`` the rule's severity.
- COMPLIANT -> PASSED, ``Severity.Label`` INFORMATIONAL, as Security Hub's own control findings
  label every PASSED, WARNING and NOT_AVAILABLE result ("no configuration weakness was found").
- NOT_APPLICABLE (deleted, not recorded, out of scope) -> ``RecordState`` ARCHIVED with
  ``Compliance.Status`` NOT_AVAILABLE, which is how Security Hub's own controls retire findings
  of deleted resources; ``Severity.Label`` INFORMATIONAL, as theirs.
- Exempted (NOT_APPLICABLE because the function's exemption tag waived the rule, see
  ``rules.exemptions``) -> ``RecordState`` ACTIVE, ``Compliance.Status`` NOT_AVAILABLE,
  ``Workflow.Status`` SUPPRESSED and a ``Note`` with the reason and the expiry (``UpdatedBy``
  ``lambda-guardrails``), plus ``ProductFields`` ``LambdaGuardrails/Exemption``. Security Hub
  takes ``Workflow`` and ``Note`` from BatchImportFindings only when it creates the finding and
  ignores them on every update, and never resets SUPPRESSED by itself: ``rules.aws.workflow``
  sets them with BatchUpdateFindings on an existing finding, and sets NEW again when the
  exemption ends.
- The rule's severity is always kept: ``Severity.Original`` and ``ProductFields``
  ``LambdaGuardrails/RuleSeverity``. ``Severity`` and ``Types`` are also sent under
  ``FindingProviderFields``, the object AWS asks providers to use: on re-import Security Hub
  updates it, and the top-level copy only while no one changed it with BatchUpdateFindings, so
  a FAILED finding that turns PASSED does drop to INFORMATIONAL.

Times (all ``YYYY-MM-DDTHH:MM:SS.mmmZ``). The builder takes them; it reads nothing:
- ``LastObservedAt`` = ``observed_at``: when the evaluated configuration was observed (the
  configuration item's capture time for a change-triggered evaluation, the evaluation time for a
  periodic sweep or ``scan``).
- ``FirstObservedAt`` only when the caller can assert it (``first_observed_at``): the handler
  does not read the existing finding (a GetFindings per evaluation would cost a call and a
  grant), so it knows the first observation only for a function's first configuration item
  (status ``ResourceDiscovered``, see :func:`discovered_at`); otherwise the field is omitted
  rather than guessed.
- ``CreatedAt`` = ``UpdatedAt`` = ``now``, the time of this evaluation. Every import rewrites
  both (the handler cannot know whether the finding exists): on a re-import ``CreatedAt`` is the
  time of the latest evaluation, not of the first one. Security Hub orders updates by
  ``UpdatedAt`` and ignores an import older than what it holds.

Text limits are ASFF's: ``Title`` 256, ``Description`` 1,024, ``Remediation.Recommendation.Text``
512 characters. The annotation comes first in ``Description``; the rule's description is what
gets cut, and an annotation too long even alone ends with a note of how long it is, never a
silent cut. Environment variable values never appear (the model holds names only).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rules.aws.times import iso, parse_time
from rules.model import LAMBDA_FUNCTION, Compliance, ConfigurationItem, Evaluation, LambdaFunction
from rules.naming import config_rule_name as deployed_rule_name
from rules.rule import Rule, Severity

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
VERDICT = {
    Compliance.COMPLIANT: "passed",
    Compliance.NON_COMPLIANT: "failed",
    Compliance.NOT_APPLICABLE: "no longer applies",
}
EXEMPTED = "is waived by an exemption"
NOTE_LIMIT = 512  # ASFF Note.Text
# Note.UpdatedBy of every note this product writes: how it finds the suppressions it made.
NOTE_AUTHOR = "lambda-guardrails"
DISCOVERED = "ResourceDiscovered"  # status of the first configuration item Config records


def product_arn(partition: str, region: str, account: str) -> str:
    return f"arn:{partition}:securityhub:{region}:{account}:product/{account}/default"


def function_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:lambda:{region}:{account}:function:{name}"


def finding_id(config_rule: str, resource_arn: str) -> str:
    return f"{PRODUCT}/{config_rule}/{resource_arn}"


def discovered_at(item: Mapping[str, Any] | None) -> datetime | None:
    """The capture time of ``item`` (a configuration item or its summary, as the invoking event
    carries it) when it is the first Config recorded for its resource (``ResourceDiscovered``):
    no earlier configuration of the function was ever observed, so a finding may say it was
    first observed then. None otherwise: an earlier observation may exist."""
    if not item or item.get("configurationItemStatus") != DISCOVERED:
        return None
    captured = item.get("configurationItemCaptureTime")
    return parse_time(captured) if isinstance(captured, str | datetime) else None


def build_finding(
    rule: Rule,
    evaluation: Evaluation,
    subject: LambdaFunction | ConfigurationItem,
    *,
    account: str,
    region: str,
    partition: str,
    now: datetime,
    observed_at: datetime,
    first_observed_at: datetime | None = None,
    config_rule_name: str | None = None,
    config_rule_arn: str | None = None,
) -> dict[str, Any]:
    """The finding for ``evaluation`` of ``subject`` (the function, or the item of a function
    that has no configuration any more). ``now`` is the evaluation time (CreatedAt, UpdatedAt),
    ``observed_at`` when the evaluated configuration was observed (LastObservedAt),
    ``first_observed_at`` the first observation when the caller knows it (FirstObservedAt).
    Raises ValueError for other resource types and for a first observation after the last."""
    if evaluation.resource_type != LAMBDA_FUNCTION:
        raise ValueError(f"no finding for resource type {evaluation.resource_type}")
    if first_observed_at is not None and first_observed_at > observed_at:
        raise ValueError(
            f"first observation {iso(first_observed_at)} is after the last {iso(observed_at)}"
        )
    function = subject if isinstance(subject, LambdaFunction) else subject.function
    name = function.name if function else evaluation.resource_id
    arn = (function.arn if function else None) or (
        subject.arn if isinstance(subject, ConfigurationItem) else None
    )
    arn = arn or function_arn(partition, region, account, name)
    exempted = evaluation.exempted_because is not None
    archived = evaluation.compliance is Compliance.NOT_APPLICABLE and not exempted
    timestamp = iso(now)
    product_fields = {
        "LambdaGuardrails/RuleId": rule.id,
        "LambdaGuardrails/RuleSeverity": rule.severity.value,
    }
    if config_rule_name:
        product_fields["LambdaGuardrails/ConfigRuleName"] = config_rule_name
    if config_rule_arn:
        product_fields["LambdaGuardrails/ConfigRuleArn"] = config_rule_arn
    if evaluation.exempted_because is not None:
        product_fields["LambdaGuardrails/Exemption"] = evaluation.exempted_because
    resource: dict[str, Any] = {
        "Type": "AwsLambdaFunction",
        "Id": arn,
        "Partition": partition,
        "Region": region,
        "Details": {"AwsLambdaFunction": _details(function, name)},
    }
    if function and function.tags:
        resource["Tags"] = dict(function.tags)
    severity = {
        "Label": severity_label(rule, evaluation.compliance),
        "Original": rule.severity.value,
    }
    finding: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(config_rule_name or deployed_rule_name(rule.id), arn),
        "ProductArn": product_arn(partition, region, account),
        "GeneratorId": rule.id,
        "AwsAccountId": account,
        "Types": list(TYPES),
        "CreatedAt": timestamp,
        "UpdatedAt": timestamp,
        "LastObservedAt": iso(observed_at),
        "Severity": dict(severity),
        "FindingProviderFields": {"Severity": dict(severity), "Types": list(TYPES)},
        "Title": _cut(f"{rule.title}: {name}", TITLE_LIMIT),
        "Description": _description(rule, evaluation, name),
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
    if first_observed_at is not None:
        finding["FirstObservedAt"] = iso(first_observed_at)
    if exempted:
        # Taken only when the import creates the finding (rules.aws.workflow does the rest).
        finding["Workflow"] = {"Status": "SUPPRESSED"}
        finding["Note"] = exemption_note(evaluation, timestamp)
    return finding


def exemption_note(evaluation: Evaluation, updated_at: str) -> dict[str, str]:
    """The ASFF Note of an exempted evaluation: its annotation (tag, reason, expiry)."""
    return {
        "Text": _cut(_sentence(evaluation.annotation), NOTE_LIMIT),
        "UpdatedBy": NOTE_AUTHOR,
        "UpdatedAt": updated_at,
    }


def severity_label(rule: Rule, compliance: Compliance) -> str:
    """The rule's severity for a failure; INFORMATIONAL otherwise, as Security Hub's controls."""
    if compliance is Compliance.NON_COMPLIANT:
        return rule.severity.value
    return Severity.INFORMATIONAL.value


def _description(rule: Rule, evaluation: Evaluation, name: str) -> str:
    """The verdict and the whole annotation first; the rule's description in what room is left.
    An annotation that overflows the limit alone is cut with a note giving its full length."""
    verdict = EXEMPTED if evaluation.exempted_because else VERDICT[evaluation.compliance]
    head = f"Rule {rule.id} {verdict} for Lambda function {name}: "
    annotation = _sentence(evaluation.annotation)
    if len(head) + len(annotation) > DESCRIPTION_LIMIT:
        note = f"... [annotation cut: it has {len(evaluation.annotation):,} characters]"
        return head + annotation[: DESCRIPTION_LIMIT - len(head) - len(note)] + note
    text = head + annotation
    tail = f" {rule.description}"
    room = DESCRIPTION_LIMIT - len(text)
    if room <= len(" ..."):  # no room for even a cut description
        return text
    return text + _cut(tail, room)


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
