"""JSON lines: one object per rule and function, the same fields as ``rules evaluate``."""

from __future__ import annotations

import json
from typing import Sequence

from rules.reports.common import Result


def render_jsonl(results: Sequence[Result]) -> str:
    return "".join(json.dumps(r.evaluation.as_json()) + "\n" for r in results)
