"""``scan --aggregator NAME``: the organization's functions from an AWS Config aggregator.

Config's items carry neither environment variables (names or values) nor the policies of
aliases and versions, the function URLs or the code signing configuration. Without
``--role-name`` a verdict those gaps decide fails closed (``evaluate_recorded``): NON_COMPLIANT,
the annotation naming the gap; a verdict they cannot change stands. With ``--role-name`` the
missing fields are read through that role in the function's own account and
Region (``evaluate_with_reads``, one assumed session per account and Region), so every verdict
is complete. Which functions share a role is read from the items themselves: each account and
Region's recorded functions are that rule's view (``with_role_peers_by_place``).

The aggregator's coverage is checked too (``rules.aws.coverage``): an account and Region it
should hold but holds nothing of is a problem; one holding other resources but no function is a
note (functions there, if any, are evaluated only if its recorder records
``AWS::Lambda::Function``), or, with ``--role-name``, the recorder is checked there
(``recorder_health`` through the assumed role) and one not recording Lambda is a problem.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from botocore.exceptions import BotoCoreError, ClientError

from rules.aws.accounts import MemberSessions
from rules.aws.aggregator import AggregateInventory, Sleep, read_aggregate
from rules.aws.coverage import Coverage, check_coverage
from rules.aws.evaluate import evaluate_with_reads
from rules.aws.fanout import unexpected
from rules.aws.inventory import recorder_health
from rules.engine import evaluate_function
from rules.errors import GuardrailsError, UnknownFieldError
from rules.model import LAMBDA_FUNCTION, Compliance, Evaluation, LambdaFunction
from rules.parameters import Parameters
from rules.reports.common import Result
from rules.role_index import with_role_peers
from rules.rule import Field, Rule
from rules.scan import WORKERS, RegionScan, ScanProblem

ROLE_HINT = "scan --role-name reads them in the function's account"

# progress(phase, done, total)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class AggregatorScan:
    aggregator: str
    region: str  # where the aggregator lives
    inventory: AggregateInventory
    results: tuple[Result, ...]
    problems: tuple[ScanProblem, ...]
    gap_decided: int  # verdicts a recorded-items gap decided (failed closed)
    role_name: str | None
    coverage: Coverage | None = None
    notes: tuple[str, ...] = ()  # what the report should say that is not a problem

    def as_region_scan(self) -> RegionScan:
        """The shape the CLI renders and builds findings from."""
        return RegionScan(
            self.region,
            "aggregator",
            self.inventory.functions,
            self.results,
            source_reason=self.source_reason,
        )

    @property
    def source_reason(self) -> str:
        places = {(f.account_id, f.region) for f in self.inventory.functions}
        accounts = {account for account, _ in places}
        reads = (
            f"what Config does not record read through role {self.role_name}"
            if self.role_name
            else f"{self.gap_decided} verdict(s) decided by what Config does not record, "
            "failed closed (--role-name reads it)"
        )
        return (
            f"aggregator '{self.aggregator}' in {self.region}, {len(accounts)} account(s) in "
            f"{len(places)} account/Region source(s); {reads}"
        )


def gaps(rule: Rule, function: LambdaFunction) -> tuple[Field, ...]:
    """Fields ``rule`` would read for ``function`` that Config's items do not carry and that no
    check raises about: the alias and version policies (periodic reads)."""
    if Field.QUALIFIED_POLICIES in rule.periodic_reads and function.qualified_policies is None:
        return (Field.QUALIFIED_POLICIES,)
    return ()


def evaluate_recorded(rule: Rule, function: LambdaFunction, parameters: Parameters) -> Evaluation:
    """``rule`` over what Config recorded alone. A field the check needs and Config does not
    record (``UnknownFieldError``), or a COMPLIANT verdict a missing field could overturn, is
    NON_COMPLIANT with an annotation naming the field; other verdicts stand. Other errors
    propagate (no verdict)."""
    return recorded_verdict(rule, function, parameters)[0]


def recorded_verdict(
    rule: Rule, function: LambdaFunction, parameters: Parameters
) -> tuple[Evaluation, bool]:
    """``evaluate_recorded``'s evaluation, and whether a gap decided it (failed closed)."""
    try:
        evaluation = evaluate_function(rule, function, parameters)
    except UnknownFieldError as error:
        return _fail_closed(rule, function, error.reason), True
    missing = gaps(rule, function)
    if evaluation.compliance is Compliance.COMPLIANT and missing:
        names = " and ".join(field.value for field in missing)
        reason = (
            f"function {function.name}: its own resource policy grants no public access, but "
            f"its {names} are not in Config's items"
        )
        return _fail_closed(rule, function, reason), True
    return evaluation, False


def _fail_closed(rule: Rule, function: LambdaFunction, reason: str) -> Evaluation:
    return Evaluation(
        rule.id,
        function.name,
        LAMBDA_FUNCTION,
        Compliance.NON_COMPLIANT,
        f"{reason}; counted as non-compliant until they are read ({ROLE_HINT})",
    )


def scan_aggregator(
    config: object,
    aggregator: str,
    rules: Sequence[Rule],
    parameters: Mapping[str, Parameters],
    *,
    region: str,
    partition: str,
    organizations: object = None,
    members: MemberSessions | None = None,
    workers: int = WORKERS,
    progress: Progress | None = None,
    sleep: Sleep = time.sleep,
) -> AggregatorScan:
    """Read the aggregator's functions (``config`` is the aggregator account's Config client,
    ``organizations`` its Organizations client), check the aggregator's coverage, then evaluate
    each function: from the items alone, or with ``members``' reads."""

    def read(done: int, total: int) -> None:
        if progress:
            progress("reading", done, total)

    inventory = read_aggregate(config, aggregator, partition, progress=read, sleep=sleep)
    if any(Field.ROLE_PEERS in rule.periodic_reads for rule in rules):
        inventory = with_role_peers_by_place(inventory)
    problems = [
        ScanProblem(u.key.account_id, u.key.region, u.arn, u.cause) for u in inventory.unread
    ]
    coverage = check_coverage(
        config, organizations, aggregator, inventory.freshness, inventory.listed_places
    )
    problems += [ScanProblem(g.account_id, g.region, "", g.message) for g in coverage.gaps]
    notes: list[str] = []
    if members is None:
        notes += _without_functions_note(coverage)
    else:
        problems += _recorders_without_lambda(members, coverage, workers)

    def evaluate(function: LambdaFunction) -> _Outcome:
        return _evaluate(function, rules, parameters, members)

    results: list[Result] = []
    decided = 0
    functions = inventory.functions
    with ThreadPoolExecutor(max_workers=max(1, workers if members else 1)) as pool:
        for done, outcome in enumerate(pool.map(evaluate, functions), 1):
            results += outcome.results
            problems += outcome.problems
            decided += outcome.gap_decided
            if progress:
                progress("evaluating", done, len(functions))
    return AggregatorScan(
        aggregator,
        region,
        inventory,
        tuple(results),
        tuple(problems),
        decided,
        members.role if members else None,
        coverage,
        tuple(notes),
    )


def with_role_peers_by_place(inventory: AggregateInventory) -> AggregateInventory:
    """``inventory`` with each function's ``role_peers`` (the unique-role rule's view): the
    other functions of its account and Region that use its role, as the periodic evaluation
    compares them. Config records every function's role, so the aggregator's items are that
    view; a function of the place it could not read (stale source, unprocessed identifier) is
    counted, so no peer found there is no verdict, never COMPLIANT."""
    places: dict[tuple[str | None, str | None], list[LambdaFunction]] = defaultdict(list)
    for function in inventory.functions:
        places[(function.account_id, function.region)].append(function)
    unread: Counter[tuple[str | None, str | None]] = Counter(
        (u.key.account_id, u.key.region) for u in inventory.unread
    )
    peered = {
        (function.account_id, function.region, function.name): function
        for (account, region), functions in places.items()
        for function in with_role_peers(
            functions,
            scope="the account and Region",
            whole_account=True,
            unread=unread[(account, region)],
        )
    }
    functions = tuple(peered[(f.account_id, f.region, f.name)] for f in inventory.functions)
    return replace(inventory, functions=functions)


def _without_functions_note(coverage: Coverage) -> list[str]:
    if not coverage.without_functions:
        return []
    places = ", ".join(f"{account}/{region}" for account, region in coverage.without_functions)
    return [
        f"{len(coverage.without_functions)} account/Region(s) where AWS Config holds other "
        f"resources but no Lambda function: {places}. Functions there, if any, are not "
        f"evaluated unless the recorder there records {LAMBDA_FUNCTION} "
        "(scan --role-name checks each recorder)"
    ]


def _recorders_without_lambda(
    members: MemberSessions, coverage: Coverage, workers: int
) -> list[ScanProblem]:
    """Each place holding no function, checked through the scan role: a recorder that does not
    record Lambda continuously and healthily there is a problem."""

    def check(place: tuple[str, str]) -> ScanProblem | None:
        account, region = place
        try:
            health = recorder_health(members.clients(account, region).client("config"))
        except GuardrailsError as error:
            return ScanProblem(account, region, "", f"recorder not checked: {error}")
        except (BotoCoreError, ClientError) as error:
            return ScanProblem(
                account, region, "", f"recorder not checked: AWS call failed: {error}"
            )
        if health.usable:
            return None  # it records functions: there are none
        return ScanProblem(
            account,
            region,
            "",
            f"AWS Config holds other resources here but no Lambda function, and {health.reason}: "
            "functions here, if any, are not evaluated",
        )

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        found = list(pool.map(check, coverage.without_functions))
    return [problem for problem in found if problem is not None]


@dataclass(frozen=True, slots=True)
class _Outcome:
    results: list[Result]
    problems: list[ScanProblem]
    gap_decided: int = 0


def _evaluate(
    function: LambdaFunction,
    rules: Sequence[Rule],
    parameters: Mapping[str, Parameters],
    members: MemberSessions | None,
) -> _Outcome:
    """Every rule over one function: results (each with the function's ARN) and problems."""
    results: list[Result] = []
    problems: list[ScanProblem] = []
    decided = 0

    def problem(message: str) -> ScanProblem:
        return ScanProblem(function.account_id, function.region, function.arn, message)

    try:
        clients = members.clients(function.account_id, function.region) if members else None
    except GuardrailsError as error:  # the role cannot be assumed there: no complete verdict
        return _Outcome([], [problem(str(error))])
    for rule in rules:
        try:
            if clients is None:
                evaluation, gap = recorded_verdict(rule, function, parameters[rule.id])
                decided += gap
            else:
                evaluation = evaluate_with_reads(
                    rule, function, parameters[rule.id], clients, periodic=True
                )
        except GuardrailsError as error:
            problems.append(problem(f"rule {rule.id}: {error}"))
            continue
        except (BotoCoreError, ClientError) as error:
            problems.append(problem(f"rule {rule.id}: AWS call failed: {error}"))
            continue
        except Exception as error:  # noqa: BLE001 -- reported as this function's problem, scan goes on
            problems.append(problem(f"rule {rule.id}: {unexpected(error)}"))
            continue
        results.append(Result(evaluation, function.arn))
    return _Outcome(results, problems, decided)
