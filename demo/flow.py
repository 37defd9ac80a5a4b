"""The demo's flow, shared by ``python -m demo`` and the e2e tests.

Each rule's real handler (``rules.handler``: settings from the function's environment with
``RULE_ID`` set, then ``handle``) is invoked as Lambda would invoke that rule's function, with
the events Config delivers:
one ``ConfigurationItemChangeNotification`` per function and change-triggered rule, the
``ResourceDeleted`` item of a function deleted after its first evaluation, then one
``ScheduledNotification`` sweep per rule. A periodic-only rule (``Rule.change_triggered`` False:
its Config rule has no change trigger, so Config sends it no change event) first evaluates every
function in a sweep before the deletion, so the deleted function has a verdict to lose. Every
AWS call goes to the moto server the process is pointed at (``AWS_ENDPOINT_URL``).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
from dataclasses import dataclass, field
from typing import IO, Any, Iterator, Mapping, Sequence

import boto3

from demo.config_events import (
    change_event,
    configuration_item,
    deleted_item,
    now,
    scheduled_event,
)
from demo.config_shim import ComplianceStore
from demo.seed import SeededAccount, retire
from rules.model import LAMBDA_FUNCTION, Compliance, Evaluation
from rules.naming import config_rule_name
from rules.registry import RULES
from rules.reports.common import Result
from rules.rule import Rule


@dataclass
class FlowOutcome:
    invocations: list[dict[str, Any]] = field(default_factory=list)
    store: ComplianceStore = field(default_factory=ComplianceStore)

    def evaluations(self) -> list[Evaluation]:
        """What Config holds now: the latest evaluation per rule and function."""
        rule_ids = {config_rule_name(rule.id): rule.id for rule in RULES}
        return [
            Evaluation(
                rule_ids.get(stored.config_rule_name, stored.config_rule_name),
                stored.resource_id,
                stored.resource_type,
                Compliance(stored.compliance),
                stored.annotation,
            )
            for stored in self.store.latest.values()
            if stored.resource_type == LAMBDA_FUNCTION
        ]


@contextlib.contextmanager
def handler_output(sink: IO[str]) -> Iterator[None]:
    """Send the handlers' JSON logs and EMF metrics to ``sink`` instead of the terminal."""
    from rules.observability import logger

    handlers = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    previous = [h.setStream(sink) for h in handlers]
    try:
        with contextlib.redirect_stdout(sink):
            yield
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            if stream is not None:
                handler.setStream(stream)


@contextlib.contextmanager
def rule_function(rule: Rule) -> Iterator[None]:
    """The environment of ``rule``'s Lambda function."""
    saved = os.environ.get("RULE_ID")
    os.environ["RULE_ID"] = rule.id
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("RULE_ID", None)
        else:
            os.environ["RULE_ID"] = saved


class Invoker:
    """Invokes the handler the way Lambda invokes each rule's function.

    ``lambda_handler`` is ``Settings.from_environment()`` plus ``handle`` with the container's
    clients; here each rule's "container" gets its own ``Clients``, created while the process is
    pointed at the moto server, so no client cached elsewhere in the process is ever reused."""

    def __init__(self, outcome: FlowOutcome) -> None:
        from rules import handler

        self.handler = handler
        self.outcome = outcome
        self._containers: dict[str, Any] = {}

    def __call__(self, rule: Rule, event: Mapping[str, Any]) -> dict[str, Any]:
        with rule_function(rule):
            settings = self.handler.Settings.from_environment()
            clients = self._containers.get(rule.id)
            if clients is None:
                clients = self._containers[rule.id] = _container_clients(settings.region)
                self.outcome.store.attach(clients.client("config"))
            with self.outcome.store.invoking(config_rule_name(rule.id)):
                summary: dict[str, Any] = self.handler.handle(
                    dict(event), settings=settings, clients=clients
                )
        self.outcome.invocations.append(summary)
        return summary


def _container_clients(region: str) -> Any:
    from rules.aws.clients import ClientOptions, Clients, new_session

    return Clients(new_session(), ClientOptions(region))


def run_flow(
    session: boto3.Session,
    account: SeededAccount,
    *,
    rules: Sequence[Rule] = RULES,
    outcome: FlowOutcome | None = None,
    log: IO[str] | None = None,
    retire_functions: bool = True,
) -> FlowOutcome:
    """Change events for every seeded function (sweeps for the periodic-only rules), deletion
    events, then one sweep per rule.

    Pass the ``outcome`` of an earlier run to run again against the same Config store."""
    outcome = outcome or FlowOutcome()
    invoke = Invoker(outcome)
    lam = session.client("lambda", region_name=account.region)
    sink = log if log is not None else io.StringIO()
    changed = [rule for rule in rules if rule.change_triggered]

    def sweep(rule: Rule) -> None:
        invoke(rule, scheduled_event(
            rule_name=config_rule_name(rule.id), account=account.account_id, region=account.region
        ))

    with handler_output(sink):
        existing = {f["FunctionName"] for f in _all_functions(lam)}
        items = [
            configuration_item(lam, sample.name, capture_time=now())
            for sample in account.functions
            if sample.name in existing
        ]
        for rule in changed:
            for item in items:
                invoke(rule, change_event(item, rule_name=config_rule_name(rule.id)))
        for rule in rules:
            if not rule.change_triggered:
                sweep(rule)
        if retire_functions:
            retire(session, account)
        for sample in account.deleted:
            item = deleted_item(account.arns[sample.name], capture_time=now())
            for rule in changed:
                invoke(rule, change_event(item, rule_name=config_rule_name(rule.id)))
        for rule in rules:
            sweep(rule)
    return outcome


def _all_functions(lam: Any) -> list[dict[str, Any]]:
    return [f for page in lam.get_paginator("list_functions").paginate() for f in page["Functions"]]


def findings(session: boto3.Session, account: SeededAccount) -> list[dict[str, Any]]:
    """Our findings in Security Hub (moto ignores GetFindings filters: filtered here)."""
    hub = session.client("securityhub", region_name=account.region)
    product = f"arn:aws:securityhub:{account.region}:{account.account_id}:product/"
    rule_ids = {rule.id for rule in RULES}
    return [
        finding
        for page in hub.get_paginator("get_findings").paginate()
        for finding in page["Findings"]
        if finding["ProductArn"].startswith(product) and finding["GeneratorId"] in rule_ids
    ]


def results_with_arns(evaluations: Sequence[Evaluation], account: SeededAccount) -> list[Result]:
    order = {sample.name: index for index, sample in enumerate(account.functions)}
    rule_order = {rule.id: index for index, rule in enumerate(RULES)}
    ranked = sorted(
        evaluations,
        key=lambda e: (order.get(e.resource_id, len(order)), rule_order.get(e.rule_id, 99)),
    )
    return [Result(e, account.arns.get(e.resource_id)) for e in ranked]


def print_err(message: str) -> None:
    print(message, file=sys.stderr)
