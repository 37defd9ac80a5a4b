"""Whether an AWS Config aggregator holds anything for every account and Region it should.

``ListAggregateDiscoveredResources`` lists the functions Config recorded; an account without a
recorder, whose recording stopped, or whose recorder does not record ``AWS::Lambda::Function``
lists nothing, which would read as "no functions". So the scan compares the places the
aggregator should cover with what it holds:

- expected places (``DescribeConfigurationAggregators``): an ``OrganizationAggregationSource``
  covers the organization's ACTIVE accounts (``organizations:ListAccounts``) in its
  ``AwsRegions``; each ``AccountAggregationSource`` its ``AccountIds`` in its ``AwsRegions``.
  With ``AllAwsRegions`` the Regions are those the aggregator reports a source status for
  (``DescribeConfigurationAggregatorSourcesStatus``, per Region): AWS adds Regions as they
  come, and the account's enabled Regions are not readable from here.
- what it holds (``GetAggregateDiscoveredResourceCounts``, per Region, ``GroupByKey``
  ``ACCOUNT_ID``): the resources of every type Config recorded there.

A place holding nothing is a gap: no verdict can be given for it. A place holding other
resources but no function may be a recorder that leaves Lambda out: the caller says so, or
checks the recorder through the scan role. When ``ListAccounts`` is denied (the aggregator's
account is neither the management account nor a delegated administrator), the accounts
missing everywhere cannot be known: that is a gap too, never a silent skip.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from rules.aws.accounts import active_accounts
from rules.aws.aggregator import SourceFreshness
from rules.errors import GuardrailsError
from rules.model import LAMBDA_FUNCTION

COUNTS_PER_PAGE = 1000  # GetAggregateDiscoveredResourceCounts' maximum
NOTHING_RECORDED = (
    "AWS Config records nothing here that the aggregator holds: no recorder, recording "
    "stopped, or not yet aggregated; functions here, if any, are not evaluated"
)

Place = tuple[str, str]  # (account id, Region)


@dataclass(frozen=True, slots=True)
class Source:
    """One aggregation source: ``accounts`` None for the organization's accounts, ``regions``
    None for AllAwsRegions."""

    accounts: tuple[str, ...] | None
    regions: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class AggregatorSources:
    sources: tuple[Source, ...]
    included_types: tuple[str, ...] | None  # AggregatorFilters ResourceType INCLUDE, if any

    @property
    def organization(self) -> bool:
        return any(source.accounts is None for source in self.sources)


@dataclass(frozen=True, slots=True)
class Gap:
    """A place (or, with ``account_id`` None, the whole check) without a verdict."""

    account_id: str | None
    region: str | None
    message: str


@dataclass(frozen=True, slots=True)
class Coverage:
    gaps: tuple[Gap, ...]
    without_functions: tuple[Place, ...]  # other resources recorded, no Lambda function
    expected: int  # places the aggregator should cover


def aggregator_sources(config: Any, aggregator: str) -> AggregatorSources:
    """``DescribeConfigurationAggregators`` for ``aggregator``."""
    response = config.describe_configuration_aggregators(ConfigurationAggregatorNames=[aggregator])
    found = [
        a
        for a in response.get("ConfigurationAggregators") or []
        if a.get("ConfigurationAggregatorName") == aggregator
    ]
    if not found:
        raise GuardrailsError(f"no Config aggregator named {aggregator!r} in this Region")
    return sources_of(found[0])


def sources_of(aggregator: Mapping[str, Any]) -> AggregatorSources:
    sources = [
        Source(tuple(str(a) for a in raw.get("AccountIds") or ()), _regions(raw))
        for raw in aggregator.get("AccountAggregationSources") or []
    ]
    organization = aggregator.get("OrganizationAggregationSource")
    if organization:
        sources.append(Source(None, _regions(organization)))
    types = ((aggregator.get("AggregatorFilters") or {}).get("ResourceType") or {}).get("Value")
    return AggregatorSources(tuple(sources), tuple(types) if types else None)


def _regions(source: Mapping[str, Any]) -> tuple[str, ...] | None:
    return None if source.get("AllAwsRegions") else tuple(source.get("AwsRegions") or ())


def held_counts(config: Any, aggregator: str, region: str) -> dict[str, int]:
    """Resources of any type the aggregator holds per account in ``region``, every page."""
    counts: dict[str, int] = {}
    token: str | None = None
    while True:
        request: dict[str, Any] = {
            "ConfigurationAggregatorName": aggregator,
            "Filters": {"Region": region},
            "GroupByKey": "ACCOUNT_ID",
            "Limit": COUNTS_PER_PAGE,
        }
        if token:
            request["NextToken"] = token
        response = config.get_aggregate_discovered_resource_counts(**request)
        for group in response.get("GroupedResourceCounts") or []:
            counts[str(group["GroupName"])] = int(group.get("ResourceCount") or 0)
        token = response.get("NextToken")
        if not token:
            return counts


def check_coverage(
    config: Any,
    organizations: Any,
    aggregator: str,
    freshness: SourceFreshness,
    function_places: Iterable[Place],
) -> Coverage:
    """Every place the aggregator should cover: a gap where it holds nothing, and the places
    holding other resources but no function (``function_places``: where functions were
    listed)."""
    sources = aggregator_sources(config, aggregator)
    gaps: list[Gap] = []
    if sources.included_types is not None and LAMBDA_FUNCTION not in sources.included_types:
        gaps.append(
            Gap(
                None,
                None,
                f"aggregator {aggregator!r} collects only {', '.join(sources.included_types)} "
                f"(AggregatorFilters): it holds no {LAMBDA_FUNCTION}, none is evaluated",
            )
        )
    regions = list(
        dict.fromkeys(r for source in sources.sources for r in _source_regions(source, freshness))
    )
    held = {region: held_counts(config, aggregator, region) for region in regions}
    members: Sequence[str] | None = None
    if sources.organization:
        members, denied = _organization_accounts(organizations)
        if denied:
            gaps.append(Gap(None, None, denied))
    expected = expected_places(sources, members, freshness, held)
    with_functions = set(function_places)
    without: list[Place] = []
    for account, region in expected:
        if held.get(region, {}).get(account, 0) <= 0:
            gaps.append(Gap(account, region, NOTHING_RECORDED))
        elif (account, region) not in with_functions:
            without.append((account, region))
    return Coverage(tuple(gaps), tuple(without), len(expected))


def expected_places(
    sources: AggregatorSources,
    organization_accounts: Sequence[str] | None,
    freshness: SourceFreshness,
    held: Mapping[str, Mapping[str, int]],
) -> list[Place]:
    """The (account, Region) pairs the sources cover, each once, in order. Without the
    organization's accounts (ListAccounts denied), an organization source covers at least
    every account the aggregator holds anything of, in any Region."""
    seen_anywhere = list(dict.fromkeys(a for counts in held.values() for a in counts))
    places: list[Place] = []
    for source in sources.sources:
        if source.accounts is not None:
            accounts: Sequence[str] = source.accounts
        elif organization_accounts is not None:
            accounts = organization_accounts
        else:
            accounts = seen_anywhere
        for account in accounts:
            regions = source.regions
            if regions is None:
                regions = tuple(freshness.regions(None if source.accounts is None else account))
            places += [(account, region) for region in regions]
    return list(dict.fromkeys(places))


def _source_regions(source: Source, freshness: SourceFreshness) -> Iterable[str]:
    if source.regions is not None:
        return source.regions
    if source.accounts is None:
        return freshness.regions(None)
    return (r for account in source.accounts for r in freshness.regions(account))


def _organization_accounts(organizations: Any) -> tuple[list[str] | None, str | None]:
    """The ACTIVE accounts, or why they cannot be listed."""
    if organizations is None:
        return None, "coverage not checked: no Organizations client to list the accounts with"
    try:
        return [account.id for account in active_accounts(organizations)], None
    except (GuardrailsError, ClientError, BotoCoreError) as error:
        cause = _first_line(error)
    return None, (
        f"coverage not checked: the organization's accounts cannot be listed "
        f"(organizations:ListAccounts: {cause}); run the scan from the management account or "
        "a delegated administrator: an account with no recorder would otherwise read as one "
        "without functions"
    )


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0][:300] if str(error) else type(error).__name__
