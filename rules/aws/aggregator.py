"""Every Lambda function of an organization from an AWS Config aggregator, read from one account.

``ListAggregateDiscoveredResources`` (``AWS::Lambda::Function``, 100 identifiers a page) and
``BatchGetAggregateResourceConfig`` (100 identifiers a call) return the items the aggregator
recorded; they have ``BatchGetResourceConfig``'s ``BaseConfigurationItem`` shape, so the same
adapter reads them. About total/100 calls for the whole organization, with no role in any
member account.

Nothing listed is dropped: an identifier Config leaves unprocessed after the retries, one it
returns no item for, and one whose source (account and Region) the aggregator has not brought up
to date (``DescribeConfigurationAggregatorSourcesStatus``: FAILED or OUTDATED, or no status at
all) each become a ``Unread`` naming the function and the cause; such a function gets no verdict.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rules.adapters.config_item import configuration_item_from_dict
from rules.errors import GuardrailsError
from rules.model import LAMBDA_FUNCTION, LambdaFunction

IDENTIFIERS_PER_CALL = 100  # the API's maximum for both the page and the batch
# Unprocessed identifiers are Config throttling the batch: back off exponentially from
# BACKOFF_BASE_SECONDS, each wait capped at BACKOFF_CAP_SECONDS and jittered (half fixed, half
# random, so parallel scans do not retry in step), about 16-32 s over all attempts.
UNPROCESSED_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
SUCCEEDED = "SUCCEEDED"
ORGANIZATION = "ORGANIZATION"
NOT_RECORDED = "ResourceNotRecorded"

MAX_BACKOFF_SECONDS = sum(
    min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**retry)
    for retry in range(UNPROCESSED_ATTEMPTS - 1)
)

# progress(functions read so far, functions listed)
Progress = Callable[[int, int], None]
Sleep = Callable[[float], None]
# A number in [0, 1): random.random, or a fixed one in tests.
Jitter = Callable[[], float]


@dataclass(frozen=True, slots=True)
class FunctionKey:
    """An aggregate resource identifier of a Lambda function (the resource id is its name)."""

    account_id: str
    region: str
    name: str

    def arn(self, partition: str) -> str:
        return f"arn:{partition}:lambda:{self.region}:{self.account_id}:function:{self.name}"

    def identifier(self) -> dict[str, str]:
        return {
            "SourceAccountId": self.account_id,
            "SourceRegion": self.region,
            "ResourceId": self.name,
            "ResourceType": LAMBDA_FUNCTION,
        }


@dataclass(frozen=True, slots=True)
class Unread:
    """A listed function that got no configuration to evaluate, and why."""

    key: FunctionKey
    arn: str
    cause: str


@dataclass(frozen=True, slots=True)
class AggregateInventory:
    functions: tuple[LambdaFunction, ...]
    unread: tuple[Unread, ...]
    listed: int
    stale_sources: tuple[str, ...]  # "account/region: status" of every source not SUCCEEDED
    freshness: SourceFreshness

    @property
    def listed_places(self) -> set[tuple[str, str]]:
        """(account, Region) of every function listed, read or not."""
        return {(f.account_id, f.region) for f in self.functions} | {
            (u.key.account_id, u.key.region) for u in self.unread
        }


def key_of(identifier: Mapping[str, Any]) -> FunctionKey:
    try:
        return FunctionKey(
            str(identifier["SourceAccountId"]),
            str(identifier["SourceRegion"]),
            str(identifier["ResourceId"]),
        )
    except KeyError as error:
        raise GuardrailsError(
            f"aggregate resource identifier without {error.args[0]}: {dict(identifier)!r}"
        ) from None


class SourceFreshness:
    """Whether the aggregator's items of an account and Region are up to date.

    A source is an account (``SourceType`` ACCOUNT, ``SourceId`` the account id) or the whole
    organization (``SourceType`` ORGANIZATION) in one Region: every status that covers an
    account and Region must be SUCCEEDED. None covering it is unknown freshness: stale too."""

    def __init__(self, statuses: Iterable[Mapping[str, Any]]) -> None:
        self._by_account: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
        self._by_region: dict[str, list[Mapping[str, Any]]] = {}
        for status in statuses:
            region = str(status.get("AwsRegion") or "")
            if status.get("SourceType") == ORGANIZATION:
                self._by_region.setdefault(region, []).append(status)
            else:
                key = (str(status.get("SourceId") or ""), region)
                self._by_account.setdefault(key, []).append(status)

    def stale_reason(self, account_id: str, region: str) -> str | None:
        """Why the items of ``account_id`` in ``region`` cannot be trusted; None when fresh."""
        covering = self._by_account.get((account_id, region), []) + self._by_region.get(region, [])
        if not covering:
            return (
                f"the aggregator reports no status for source {account_id}/{region} "
                "(DescribeConfigurationAggregatorSourcesStatus): its items may be stale"
            )
        for status in covering:
            if status.get("LastUpdateStatus") != SUCCEEDED:
                return _describe_stale(status)
        return None

    def regions(self, account_id: str | None) -> list[str]:
        """The Regions with a status of the organization source (``account_id`` None) or of
        that account's source: the Regions an AllAwsRegions source aggregates."""
        if account_id is None:
            return sorted(region for region in self._by_region if region)
        return sorted(region for account, region in self._by_account if account == account_id)

    def stale_sources(self) -> tuple[str, ...]:
        every = [s for group in self._by_account.values() for s in group] + [
            s for group in self._by_region.values() for s in group
        ]
        return tuple(
            f"{s.get('SourceId', '?')}/{s.get('AwsRegion', '?')}: {s.get('LastUpdateStatus')}"
            for s in every
            if s.get("LastUpdateStatus") != SUCCEEDED
        )


def _describe_stale(status: Mapping[str, Any]) -> str:
    source = f"{status.get('SourceType', 'ACCOUNT')} {status.get('SourceId', '?')}"
    when = status.get("LastUpdateTime")
    error = ": ".join(
        str(status[key]) for key in ("LastErrorCode", "LastErrorMessage") if status.get(key)
    )
    details = "".join((f", last update {when}" if when else "", f", {error}" if error else ""))
    return (
        f"aggregator source {source} in {status.get('AwsRegion', '?')} is "
        f"{status.get('LastUpdateStatus') or 'without a status'}{details}: "
        "its recorded items may be stale"
    )


def source_freshness(config: Any, aggregator: str) -> SourceFreshness:
    """``DescribeConfigurationAggregatorSourcesStatus``, every page."""
    pages = config.get_paginator("describe_configuration_aggregator_sources_status").paginate(
        ConfigurationAggregatorName=aggregator
    )
    return SourceFreshness(s for page in pages for s in page.get("AggregatedSourceStatusList", []))


def list_function_keys(config: Any, aggregator: str) -> list[FunctionKey]:
    """``ListAggregateDiscoveredResources`` for ``AWS::Lambda::Function``, 100 a page."""
    pages = config.get_paginator("list_aggregate_discovered_resources").paginate(
        ConfigurationAggregatorName=aggregator,
        ResourceType=LAMBDA_FUNCTION,
        PaginationConfig={"PageSize": IDENTIFIERS_PER_CALL},
    )
    keys = [key_of(i) for page in pages for i in page.get("ResourceIdentifiers", [])]
    return list(dict.fromkeys(keys))


def backoff_delays(
    attempts: int = UNPROCESSED_ATTEMPTS, jitter: Jitter = random.random
) -> Iterator[float]:
    """The waits before the 2nd, 3rd, ... attempt: exponential from ``BACKOFF_BASE_SECONDS``,
    capped at ``BACKOFF_CAP_SECONDS``, each between half and all of its ceiling."""
    for retry in range(attempts - 1):
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**retry)
        yield ceiling / 2 + ceiling / 2 * jitter()


def batch_get(
    config: Any,
    aggregator: str,
    keys: Sequence[FunctionKey],
    *,
    sleep: Sleep = time.sleep,
    jitter: Jitter = random.random,
) -> tuple[list[Mapping[str, Any]], list[FunctionKey]]:
    """The items of ``keys`` (at most 100) and the keys still unprocessed after
    ``UNPROCESSED_ATTEMPTS`` calls, retried after ``backoff_delays``."""
    if len(keys) > IDENTIFIERS_PER_CALL:
        raise ValueError(f"{len(keys)} identifiers: at most {IDENTIFIERS_PER_CALL} a call")
    items: list[Mapping[str, Any]] = []
    pending = list(keys)
    delays = backoff_delays(UNPROCESSED_ATTEMPTS, jitter)
    for attempt in range(UNPROCESSED_ATTEMPTS):
        if attempt:
            sleep(next(delays))
        response = config.batch_get_aggregate_resource_config(
            ConfigurationAggregatorName=aggregator,
            ResourceIdentifiers=[key.identifier() for key in pending],
        )
        items.extend(response.get("BaseConfigurationItems") or [])
        pending = [key_of(i) for i in response.get("UnprocessedResourceIdentifiers") or []]
        if not pending:
            break
    return items, pending


def read_aggregate(
    config: Any,
    aggregator: str,
    partition: str,
    *,
    progress: Progress | None = None,
    sleep: Sleep = time.sleep,
    jitter: Jitter = random.random,
) -> AggregateInventory:
    """Every function the aggregator recorded, or why it cannot be read. Functions of a stale
    source are not fetched: no verdict can rest on them."""
    freshness = source_freshness(config, aggregator)
    keys = list_function_keys(config, aggregator)
    functions: list[LambdaFunction] = []
    unread: list[Unread] = []
    fresh: list[FunctionKey] = []
    for key in keys:
        stale = freshness.stale_reason(key.account_id, key.region)
        if stale:
            unread.append(Unread(key, key.arn(partition), stale))
        else:
            fresh.append(key)
    for start in range(0, len(fresh), IDENTIFIERS_PER_CALL):
        chunk = fresh[start : start + IDENTIFIERS_PER_CALL]
        items, unprocessed = batch_get(config, aggregator, chunk, sleep=sleep, jitter=jitter)
        read, problems = _functions(items, chunk, partition)
        functions += read
        unread += problems
        unread += [
            Unread(
                key,
                key.arn(partition),
                f"BatchGetAggregateResourceConfig left it unprocessed after "
                f"{UNPROCESSED_ATTEMPTS} attempts (backing off up to {MAX_BACKOFF_SECONDS:.0f} s)",
            )
            for key in unprocessed
        ]
        if progress:
            progress(len(functions), len(keys))
    return AggregateInventory(
        tuple(functions), tuple(unread), len(keys), freshness.stale_sources(), freshness
    )


def _functions(
    items: Sequence[Mapping[str, Any]], asked: Sequence[FunctionKey], partition: str
) -> tuple[list[LambdaFunction], list[Unread]]:
    """The items' functions, and an ``Unread`` for every asked key without one."""
    functions: list[LambdaFunction] = []
    unread: list[Unread] = []
    answered: set[FunctionKey] = set()
    for raw in items:
        key = FunctionKey(
            str(raw.get("accountId", "")), str(raw.get("awsRegion", "")), str(raw.get("resourceId"))
        )
        answered.add(key)
        try:
            item = configuration_item_from_dict(raw)
        except GuardrailsError as error:
            unread.append(Unread(key, str(raw.get("arn") or key.arn(partition)), str(error)))
            continue
        if item.function is not None:
            functions.append(item.function)
        elif item.status == NOT_RECORDED:
            unread.append(
                Unread(
                    key,
                    item.arn or key.arn(partition),
                    f"Config has no configuration for it ({NOT_RECORDED})",
                )
            )
        else:
            unread.append(
                Unread(key, item.arn or key.arn(partition), f"its item's status is {item.status}")
            )
    unread += [
        Unread(
            key,
            key.arn(partition),
            "BatchGetAggregateResourceConfig returned neither its item nor an unprocessed "
            "identifier (AWS returns no item for a deleted resource)",
        )
        for key in asked
        if key not in answered
    ]
    return functions, unread
