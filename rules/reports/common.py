"""What every report format renders: evaluations, each with the function's ARN when known."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Protocol, Sequence

from rules.adapters.common import arn_field
from rules.model import Compliance, Evaluation
from rules.registry import RULES_BY_ID
from rules.rule import Rule, Severity

# Where a result lives: (account id, Region), each None when the ARN does not say.
Place = tuple[str | None, str | None]

# Most severe first: the order reports list severities in.
SEVERITY_ORDER: tuple[Severity, ...] = (
    Severity.CRITICAL,
    Severity.HIGH,
    Severity.MEDIUM,
    Severity.LOW,
    Severity.INFORMATIONAL,
)


@dataclass(frozen=True, slots=True)
class Result:
    """One evaluation and where the resource lives. ``arn`` is None for evaluations whose source
    carried no ARN (e.g. a deleted item); reports then fall back to the resource id."""

    evaluation: Evaluation
    arn: str | None = None

    @property
    def key(self) -> str:
        """Identifies the resource across accounts and regions."""
        return self.arn or self.evaluation.resource_id

    @property
    def account_id(self) -> str | None:
        return arn_field(self.arn, 4)

    @property
    def region(self) -> str | None:
        return arn_field(self.arn, 3)

    @property
    def place(self) -> Place:
        return (self.account_id, self.region)

    @property
    def rule(self) -> Rule | None:
        return RULES_BY_ID.get(self.evaluation.rule_id)

    @property
    def severity(self) -> Severity | None:
        rule = self.rule
        return rule.severity if rule else None


NO_VERDICT = "NO_VERDICT"  # the compliance column of something that got no verdict


class Unevaluated(Protocol):
    """Something that got no verdict (``rules.scan.ScanProblem`` is one): a function
    (``resource`` its ARN or name) or a whole account and Region (``resource`` empty)."""

    @property
    def account_id(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def resource(self) -> str: ...
    @property
    def message(self) -> str: ...


def no_verdict_cells(problem: Unevaluated) -> tuple[str, str, str]:
    """(resource id, resource ARN, annotation) of a problem as the CSV and the HTML page show
    it: the function's name and ARN when the resource is an ARN, the resource as given
    otherwise; the cause as the annotation ("not scanned: ..." for a whole account and Region)."""
    resource = problem.resource
    arn = resource if resource.startswith("arn:") else ""
    parts = arn.split(":")
    name = parts[6] if len(parts) > 6 and parts[5] == "function" else resource
    annotation = problem.message if resource else f"not scanned: {problem.message}"
    return name, arn, annotation


def as_results(evaluations: Iterable[Evaluation | Result]) -> list[Result]:
    return [item if isinstance(item, Result) else Result(item) for item in evaluations]


def rules_in(results: Sequence[Result]) -> list[str]:
    """Rule ids in registry order, then any unknown ones in order of appearance."""
    present = dict.fromkeys(r.evaluation.rule_id for r in results)
    known = [rule_id for rule_id in RULES_BY_ID if rule_id in present]
    return known + [rule_id for rule_id in present if rule_id not in RULES_BY_ID]


def counts_by_rule(results: Sequence[Result]) -> dict[str, Counter[Compliance]]:
    counts: dict[str, Counter[Compliance]] = {rule_id: Counter() for rule_id in rules_in(results)}
    for result in results:
        counts[result.evaluation.rule_id][result.evaluation.compliance] += 1
    return counts


def failures_by_severity(results: Sequence[Result]) -> dict[Severity, int]:
    """Non-compliant evaluations per severity, every severity present (most severe first)."""
    counts = Counter(
        r.severity
        for r in results
        if r.evaluation.compliance is Compliance.NON_COMPLIANT and r.severity is not None
    )
    return {severity: counts.get(severity, 0) for severity in SEVERITY_ORDER}


def by_place(results: Sequence[Result]) -> dict[Place, list[Result]]:
    """Results grouped by account, then Region (both ascending, unknown last); each group keeps
    the order the results came in."""
    groups: dict[Place, list[Result]] = {}
    for result in results:
        groups.setdefault(result.place, []).append(result)
    return {place: groups[place] for place in sorted(groups, key=_place_order)}


def spans_several_places(results: Sequence[Result]) -> bool:
    return len({result.place for result in results}) > 1


def _place_order(place: Place) -> tuple[bool, str, bool, str]:
    account, region = place
    return (account is None, account or "", region is None, region or "")
