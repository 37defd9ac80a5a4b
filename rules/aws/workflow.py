"""Keeping exempted findings' ``Workflow`` and ``Note`` right after BatchImportFindings.

Security Hub takes ``Workflow`` and ``Note`` from an import only when it creates the finding; on
every later import it ignores them, and it never moves a finding out of SUPPRESSED by itself
(it resets only NOTIFIED and RESOLVED). So, after each import:

- an exempted finding not yet suppressed by this product (with the same note) gets
  ``BatchUpdateFindings`` Workflow SUPPRESSED and the exemption's Note;
- a finding this product suppressed (Workflow SUPPRESSED, ``Note.UpdatedBy`` ``lambda-guardrails``)
  whose function is no longer exempt (tag removed, expired, malformed, refused by policy) gets
  Workflow NEW and a Note saying why: an exemption that ends never leaves a failure hidden.
  A suppression someone else made (another ``Note.UpdatedBy``) is left alone.

What this product suppressed is read with one ``GetFindings`` query per invocation (the rule's
``GeneratorId``, Workflow SUPPRESSED, our note author), filtered again on the client: the
filters only narrow the read. Updates are sent 100 findings a call; anything Security Hub leaves
unprocessed raises ``PublishError``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rules.aws.errors import Failure, PublishError
from rules.aws.findings import NOTE_AUTHOR
from rules.aws.publish import chunks

SUPPRESSED = "SUPPRESSED"
NEW = "NEW"
REINSTATED_NOTE = (
    "The exemption no longer applies (tag removed, expired, malformed or refused by policy): "
    "the rule judges this function again."
)


@dataclass(frozen=True, slots=True)
class WorkflowSync:
    suppressed: int
    reinstated: int


def sync_workflow(securityhub: Any, findings: Sequence[Mapping[str, Any]]) -> WorkflowSync:
    """Suppress the exempted ``findings`` (just imported) and reinstate those this product
    suppressed that are not exempted any more."""
    exempted = [f for f in findings if "Workflow" in f]
    judged = [f for f in findings if "Workflow" not in f and f.get("RecordState") == "ACTIVE"]
    if not exempted and not judged:  # archived only (deleted functions): nothing to keep right
        return WorkflowSync(0, 0)
    ours = _suppressed_by_us(securityhub, {str(f["GeneratorId"]) for f in findings})
    to_suppress = [f for f in exempted if ours.get(_key(f)) != f["Note"]["Text"]]
    to_reinstate = [f for f in judged if _key(f) in ours]
    for note, group in _by_note(to_suppress):
        _update(securityhub, group, {"Status": SUPPRESSED}, note)
    if to_reinstate:
        _update(securityhub, to_reinstate, {"Status": NEW}, REINSTATED_NOTE)
    return WorkflowSync(len(to_suppress), len(to_reinstate))


def _key(finding: Mapping[str, Any]) -> tuple[str, str]:
    return str(finding["Id"]), str(finding["ProductArn"])


def _suppressed_by_us(securityhub: Any, generators: set[str]) -> dict[tuple[str, str], str]:
    """(Id, ProductArn) -> note text of the findings of ``generators`` this product
    suppressed."""
    filters = {
        "GeneratorId": [{"Value": g, "Comparison": "EQUALS"} for g in sorted(generators)],
        "WorkflowStatus": [{"Value": SUPPRESSED, "Comparison": "EQUALS"}],
        "NoteUpdatedBy": [{"Value": NOTE_AUTHOR, "Comparison": "EQUALS"}],
    }
    found: dict[tuple[str, str], str] = {}
    for page in securityhub.get_paginator("get_findings").paginate(Filters=filters):
        for finding in page.get("Findings", []):
            workflow = finding.get("Workflow") or {}
            note = finding.get("Note") or {}
            if (
                workflow.get("Status") == SUPPRESSED
                and note.get("UpdatedBy") == NOTE_AUTHOR
                and finding.get("GeneratorId") in generators
            ):
                found[_key(finding)] = str(note.get("Text", ""))
    return found


def _by_note(
    findings: Sequence[Mapping[str, Any]],
) -> Iterator[tuple[str, list[Mapping[str, Any]]]]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for finding in findings:
        groups.setdefault(str(finding["Note"]["Text"]), []).append(finding)
    yield from groups.items()


def _update(
    securityhub: Any,
    findings: Sequence[Mapping[str, Any]],
    workflow: Mapping[str, str],
    note: str,
) -> None:
    failures: list[Failure] = []
    accepted = 0
    for batch in chunks(findings):
        response = securityhub.batch_update_findings(
            FindingIdentifiers=[{"Id": f["Id"], "ProductArn": f["ProductArn"]} for f in batch],
            Workflow=dict(workflow),
            Note={"Text": note, "UpdatedBy": NOTE_AUTHOR},
        )
        accepted += len(response.get("ProcessedFindings") or [])
        failures += [
            Failure(
                str((failed.get("FindingIdentifier") or {}).get("Id", "?")),
                str(failed.get("ErrorCode", "")),
                str(failed.get("ErrorMessage", "")),
            )
            for failed in response.get("UnprocessedFindings") or []
        ]
    if failures:
        raise PublishError(f"workflow updates ({workflow['Status']})", tuple(failures), accepted)
