"""Publishing results: ``PutEvaluations`` to AWS Config and ``BatchImportFindings`` to Security Hub.

Both send chunks of 100, retry what AWS rejected item by item (``FailedEvaluations`` /
``FailedFindings``; throttling is botocore's standard/adaptive retry), and raise
``PublishError`` when anything is still rejected: never a silent drop. Shared by the handler
and the scan CLI's ``--publish``. Annotations are cut to Config's 256 characters here, and only
here: every other consumer (findings, logs, CLIs, reports) carries the whole text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from rules.aws.errors import Failure, PublishError
from rules.model import Evaluation

CHUNK = 100  # PutEvaluations and BatchImportFindings maximum per call
# PutEvaluations rejects a longer Annotation. Only Config's copy is cut: evaluations, findings,
# logs and the CLIs keep the whole text.
ANNOTATION_LIMIT = 256
ATTEMPTS = 3  # per rejected item, on top of botocore's retries of the whole call
TEST_MODE_TOKEN = "TESTMODE"

T = TypeVar("T")
Sleep = Callable[[float], None]


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def config_annotation(text: str, limit: int = ANNOTATION_LIMIT) -> str:
    """``text`` cut to Config's limit, ending in ``...`` when cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def config_evaluation(evaluation: Evaluation, ordering_timestamp: datetime) -> dict[str, Any]:
    return {
        "ComplianceResourceType": evaluation.resource_type,
        "ComplianceResourceId": evaluation.resource_id,
        "ComplianceType": evaluation.compliance.value,
        "Annotation": config_annotation(evaluation.annotation),
        "OrderingTimestamp": ordering_timestamp,
    }


def put_evaluations(
    config: Any,
    evaluations: Sequence[Evaluation],
    *,
    result_token: str,
    ordering_timestamp: datetime,
    sleep: Sleep = time.sleep,
) -> int:
    """Send ``evaluations`` with the invocation's result token; returns how many Config
    accepted. ``TESTMODE`` tokens are sent with ``TestMode=True`` (Config stores nothing)."""
    payload = [config_evaluation(e, ordering_timestamp) for e in evaluations]
    test_mode = result_token == TEST_MODE_TOKEN

    def send(batch: Sequence[dict[str, Any]]) -> list[tuple[dict[str, Any] | None, Failure]]:
        arguments: dict[str, Any] = {"Evaluations": list(batch), "ResultToken": result_token}
        if test_mode:
            arguments["TestMode"] = True
        response = config.put_evaluations(**arguments)
        return [
            (
                dict(failed),
                Failure(
                    str(failed.get("ComplianceResourceId", "?")),
                    "FailedEvaluation",
                    str(failed.get("ComplianceType", "")),
                ),
            )
            for failed in response.get("FailedEvaluations") or []
        ]

    return _send_all("evaluations", payload, send, sleep)


def import_findings(
    securityhub: Any, findings: Sequence[Mapping[str, Any]], *, sleep: Sleep = time.sleep
) -> int:
    """Import ``findings`` (from the account that owns them); returns how many were imported."""
    by_id = {finding["Id"]: finding for finding in findings}

    def send(
        batch: Sequence[Mapping[str, Any]],
    ) -> list[tuple[Mapping[str, Any] | None, Failure]]:
        response = securityhub.batch_import_findings(Findings=list(batch))
        return [
            (
                by_id.get(str(failed.get("Id"))),  # None: unknown Id, reported, not re-sent
                Failure(
                    str(failed.get("Id", "?")),
                    str(failed.get("ErrorCode", "")),
                    str(failed.get("ErrorMessage", "")),
                ),
            )
            for failed in response.get("FailedFindings") or []
        ]

    return _send_all("findings", list(findings), send, sleep)


def _send_all(
    what: str,
    items: Sequence[T],
    send: Callable[[Sequence[T]], list[tuple[T | None, Failure]]],
    sleep: Sleep,
) -> int:
    """Send ``items`` in chunks; re-send what was rejected. A rejection AWS cannot tie to an
    item (None) is never re-sent but still counts as a failure: nothing is dropped silently."""
    pending = list(items)
    unmatched: list[Failure] = []
    failures: list[tuple[T, Failure]] = []
    for attempt in range(ATTEMPTS):
        if attempt:
            sleep(0.5 * 2 ** (attempt - 1))
        failures = []
        for batch in chunks(pending):
            for item, failure in send(batch):
                if item is None:
                    unmatched.append(failure)
                else:
                    failures.append((item, failure))
        if not failures:
            break
        pending = [item for item, _ in failures]
    rejected = tuple(failure for _, failure in failures) + tuple(unmatched)
    if rejected:
        raise PublishError(what, rejected, len(items) - len(failures) - len(unmatched))
    return len(items)
