"""``rules.aws.fanout``: one place's failure, whatever it is, is that place's problem."""

from __future__ import annotations

from typing import Any

import pytest

from rules.aws import fanout
from rules.aws.fanout import scan_places
from rules.registry import RULES
from rules.scan import RegionScan

A, B = "111122223333", "444455556666"
PLACES = [(A, "us-east-1"), (A, "eu-west-1"), (B, "us-east-1"), (B, "eu-west-1")]


class FakeMembers:
    """Hands out a marker per place instead of assumed clients."""

    role = "Scanner"

    def clients(self, account: str, region: str) -> tuple[str, str]:
        return (account, region)


def test_an_unexpected_exception_in_one_place_is_its_problem_and_the_rest_are_scanned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def scan_region(clients: tuple[str, str], *_: Any, **__: Any) -> RegionScan:
        account, region = clients
        if (account, region) == (B, "us-east-1"):
            raise KeyError("FunctionArn")
        if (account, region) == (A, "eu-west-1"):
            raise RuntimeError("adapter surprised\nsecond line not reported")
        return RegionScan(region, "lambda", (), ())

    monkeypatch.setattr(fanout, "scan_region", scan_region)
    result = scan_places(FakeMembers(), PLACES, RULES, {}, parallel=2)  # type: ignore[arg-type]
    assert [(s.account_id, s.region) for s in result.scans] == [
        (A, "us-east-1"),
        (B, "eu-west-1"),
    ]
    problems = {(p.account_id, p.region): p for p in result.problems}
    assert set(problems) == {(A, "eu-west-1"), (B, "us-east-1")}
    assert problems[(B, "us-east-1")].message == "unexpected error KeyError: 'FunctionArn'"
    assert problems[(A, "eu-west-1")].message == (
        "unexpected error RuntimeError: adapter surprised"
    )
    assert problems[(A, "eu-west-1")].resource == ""  # the whole place: "not scanned"


def test_keyboard_interrupt_still_stops_the_fan_out(monkeypatch: pytest.MonkeyPatch) -> None:
    def scan_region(*_: Any, **__: Any) -> RegionScan:
        raise KeyboardInterrupt

    monkeypatch.setattr(fanout, "scan_region", scan_region)
    with pytest.raises(KeyboardInterrupt):
        scan_places(FakeMembers(), PLACES[:1], RULES, {}, parallel=1)  # type: ignore[arg-type]


def test_an_unexpected_exception_in_one_rule_of_the_aggregator_scan_is_that_functions_problem(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rules.aws import aggregate_scan
    from rules.parameters import NO_PARAMETERS
    from tests.factories import function

    original = aggregate_scan.recorded_verdict
    broken = RULES[0].id

    def recorded_verdict(rule: Any, subject: Any, parameters: Any) -> Any:
        if rule.id == broken:
            raise ValueError("no such field")
        return original(rule, subject, parameters)

    monkeypatch.setattr(aggregate_scan, "recorded_verdict", recorded_verdict)
    subject = function()
    outcome = aggregate_scan._evaluate(
        subject, RULES, {rule.id: NO_PARAMETERS for rule in RULES}, None
    )
    assert len(outcome.results) == len(RULES) - 1
    [problem] = outcome.problems
    assert problem.resource == subject.arn
    assert problem.message == f"rule {broken}: unexpected error ValueError: no such field"
