"""``--fail-on`` of ``evaluate`` and ``scan``: when a run that gave every verdict exits 1.

``non-compliant``: any NON_COMPLIANT evaluation. A severity (``critical`` ... ``informational``):
a NON_COMPLIANT evaluation of a rule at that severity or above, the severity being the rule's in
the registry. A run with a missing verdict exits 2 whatever this says.
"""

from __future__ import annotations

import argparse
from typing import Iterable

from rules.model import Compliance, Evaluation
from rules.registry import get_rule
from rules.reports.common import SEVERITY_ORDER
from rules.rule import Severity

NON_COMPLIANT = "non-compliant"
# SEVERITY_ORDER is most severe first: a lower index is a higher severity.
CHOICES: tuple[str, ...] = (NON_COMPLIANT, *(s.value.lower() for s in SEVERITY_ORDER))


def add_fail_on_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fail-on",
        type=str.lower,
        choices=CHOICES,
        metavar="{" + ",".join(CHOICES) + "}",
        help="exit 1 when any evaluation is NON_COMPLIANT (non-compliant), or when a rule of "
        "that severity or higher is (e.g. high: HIGH or CRITICAL); 2 still wins when a verdict "
        "is missing",
    )


def fails(fail_on: str | None, evaluations: Iterable[Evaluation]) -> bool:
    """Whether ``evaluations`` (all of them given) make the run exit 1 under ``--fail-on``."""
    if fail_on is None:
        return False
    failing = (e for e in evaluations if e.compliance is Compliance.NON_COMPLIANT)
    if fail_on == NON_COMPLIANT:
        return any(True for _ in failing)
    threshold = SEVERITY_ORDER.index(Severity(fail_on.upper()))
    return any(SEVERITY_ORDER.index(get_rule(e.rule_id).severity) <= threshold for e in failing)
