"""JSON lines: one object per rule and function, the fields of ``rules evaluate`` plus where the
function lives (``account_id``, ``region``: null when the ARN is unknown, never guessed)."""

from __future__ import annotations

import json
from typing import Any, Sequence

from rules.reports.common import Result


def render_jsonl(results: Sequence[Result]) -> str:
    return "".join(json.dumps(as_json(r)) + "\n" for r in results)


def as_json(result: Result) -> dict[str, Any]:
    return {**result.evaluation.as_json(), "account_id": result.account_id, "region": result.region}
