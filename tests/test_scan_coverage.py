"""``rules.aws.coverage``: the accounts and Regions an aggregator should hold, against what it
holds.

moto gap: moto 5.2.5 implements neither ``GetAggregateDiscoveredResourceCounts`` nor the
aggregator source statuses (and its ``DescribeConfigurationAggregators`` serves only aggregators
it created): botocore's Stubber answers the aggregator account's Config client with AWS's
documented shapes, and its Organizations client for ``ListAccounts``. The code makes the real
calls.
"""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.stub import Stubber

from rules.aws.aggregator import SourceFreshness
from rules.aws.coverage import NOTHING_RECORDED, Gap, check_coverage
from tests.test_scan_aggregator import AGGREGATOR, config_client, expect_aggregator, expect_counts

A, B, C = "111122223333", "444455556666", "777788889999"
EAST, WEST = "us-east-1", "eu-west-1"
ORGANIZATION = {"OrganizationAggregationSource": {"RoleArn": "arn:aws:iam::1:role/r"}}


def organizations_client() -> Any:
    return botocore.session.get_session().create_client(
        "organizations", region_name=EAST, aws_access_key_id="x", aws_secret_access_key="x"
    )


def organization(regions: list[str] | None = None) -> dict[str, Any]:
    source: dict[str, Any] = {"RoleArn": "arn:aws:iam::123456789012:role/aggregator"}
    if regions is None:
        source["AllAwsRegions"] = True
    else:
        source["AwsRegions"] = regions
    return {"OrganizationAggregationSource": source}


def accounts(*ids: str, closed: str | None = None) -> dict[str, Any]:
    listed = [{"Id": i, "Name": i, "State": "ACTIVE"} for i in ids]
    if closed:
        listed.append({"Id": closed, "Name": "gone", "State": "SUSPENDED"})
    return {"Accounts": listed}


def organization_status(*regions: str) -> SourceFreshness:
    return SourceFreshness(
        {
            "SourceId": "o-abc",
            "SourceType": "ORGANIZATION",
            "AwsRegion": region,
            "LastUpdateStatus": "SUCCEEDED",
        }
        for region in regions
    )


def test_an_organization_source_expects_every_active_account_in_its_regions() -> None:
    config, orgs = config_client(), organizations_client()
    with Stubber(config) as stub, Stubber(orgs) as org_stub:
        expect_aggregator(stub, organization([EAST, WEST]))
        expect_counts(stub, EAST, {A: 40, B: 5})
        expect_counts(stub, WEST, {A: 3})
        org_stub.add_response("list_accounts", accounts(A, B, C, closed="999999999999"), {})
        coverage = check_coverage(config, orgs, AGGREGATOR, organization_status(), [(A, EAST)])
        stub.assert_no_pending_responses()
    # C records nothing anywhere, B nothing in eu-west-1: no verdict there; the suspended
    # account is not expected.
    assert coverage.gaps == (
        Gap(B, WEST, NOTHING_RECORDED),
        Gap(C, EAST, NOTHING_RECORDED),
        Gap(C, WEST, NOTHING_RECORDED),
    )
    assert "no recorder, recording stopped, or not yet aggregated" in NOTHING_RECORDED
    # Other resources but no function: maybe a recorder without Lambda.
    assert coverage.without_functions == ((A, WEST), (B, EAST))
    assert coverage.expected == 6


def test_list_accounts_denied_is_a_gap_and_the_known_accounts_are_still_checked() -> None:
    config, orgs = config_client(), organizations_client()
    with Stubber(config) as stub, Stubber(orgs) as org_stub:
        expect_aggregator(stub, organization([EAST, WEST]))
        expect_counts(stub, EAST, {A: 40, B: 5})
        expect_counts(stub, WEST, {A: 3})
        org_stub.add_client_error(
            "list_accounts",
            "AccessDeniedException",
            "You don't have permissions to access this resource.",
            400,
        )
        coverage = check_coverage(
            config, orgs, AGGREGATOR, organization_status(), [(A, EAST), (A, WEST), (B, EAST)]
        )
    [denied, west] = coverage.gaps
    assert (denied.account_id, denied.region) == (None, None)
    assert "organizations:ListAccounts" in denied.message
    assert "AccessDeniedException" in denied.message
    assert "management account or a delegated administrator" in denied.message
    assert west == Gap(B, WEST, NOTHING_RECORDED)


def test_account_sources_and_all_regions_take_the_regions_the_aggregator_reports() -> None:
    config = config_client()
    statuses = SourceFreshness(
        [
            {
                "SourceId": A,
                "SourceType": "ACCOUNT",
                "AwsRegion": r,
                "LastUpdateStatus": "SUCCEEDED",
            }
            for r in (EAST, WEST)
        ]
        + [
            {
                "SourceId": B,
                "SourceType": "ACCOUNT",
                "AwsRegion": EAST,
                "LastUpdateStatus": "OUTDATED",
            }
        ]
    )
    with Stubber(config) as stub:
        expect_aggregator(
            stub,
            {
                "AccountAggregationSources": [
                    {"AccountIds": [A, B], "AllAwsRegions": True},
                    {"AccountIds": [C], "AwsRegions": [WEST]},
                ]
            },
        )
        expect_counts(stub, WEST, {A: 2, C: 9})
        expect_counts(stub, EAST, {A: 1})
        # No ListAccounts: account sources name their accounts.
        coverage = check_coverage(config, None, AGGREGATOR, statuses, [(A, EAST), (C, WEST)])
        stub.assert_no_pending_responses()
    assert coverage.gaps == (Gap(B, EAST, NOTHING_RECORDED),)
    assert coverage.without_functions == ((A, WEST),)
    assert coverage.expected == 4


def test_an_aggregator_that_filters_lambda_out_is_a_gap() -> None:
    config = config_client()
    with Stubber(config) as stub:
        expect_aggregator(
            stub,
            {
                "AccountAggregationSources": [{"AccountIds": [A], "AwsRegions": [EAST]}],
                "AggregatorFilters": {
                    "ResourceType": {"Type": "INCLUDE", "Value": ["AWS::S3::Bucket"]}
                },
            },
        )
        expect_counts(stub, EAST, {A: 2})
        coverage = check_coverage(config, None, AGGREGATOR, SourceFreshness([]), [])
    assert coverage.gaps[0].account_id is None
    assert "it holds no AWS::Lambda::Function" in coverage.gaps[0].message
    assert coverage.without_functions == ((A, EAST),)


def test_counts_are_read_on_every_page() -> None:
    from rules.aws.coverage import held_counts

    config = config_client()
    asked = {
        "ConfigurationAggregatorName": AGGREGATOR,
        "Filters": {"Region": EAST},
        "GroupByKey": "ACCOUNT_ID",
        "Limit": 1000,
    }
    with Stubber(config) as stub:
        stub.add_response(
            "get_aggregate_discovered_resource_counts",
            {
                "TotalDiscoveredResources": 3,
                "GroupedResourceCounts": [{"GroupName": A, "ResourceCount": 3}],
                "NextToken": "more",
            },
            asked,
        )
        stub.add_response(
            "get_aggregate_discovered_resource_counts",
            {
                "TotalDiscoveredResources": 3,
                "GroupedResourceCounts": [{"GroupName": B, "ResourceCount": 0}],
            },
            {**asked, "NextToken": "more"},
        )
        assert held_counts(config, AGGREGATOR, EAST) == {A: 3, B: 0}
