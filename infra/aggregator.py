"""An AWS Config organization aggregator, for the management or delegated-administrator
account: every account of the organization, in the given regions (or all), read through a role
that may only read the organization's account list.

The role's policy is exactly AWS's ``AWSConfigRoleForOrganizations`` (v2) statement, written
out as a customer-managed policy rather than attached by reference, so a change AWS makes to the
managed policy never widens it unseen. Organizations' read actions have no resource-level
permissions, hence ``Resource: *`` (acknowledged). The trust policy names
``config.amazonaws.com`` only; AWS documents no ``aws:SourceAccount`` / ``aws:SourceArn`` that
Config sends when it assumes an aggregator's role, and only principals of this account that may
``iam:PassRole`` it can give it to an aggregator.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_config as config
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.nag import acknowledge
from infra.settings import REGION_NAME

# AWSConfigRoleForOrganizations, policy version v2 (AWS managed policy reference).
ORGANIZATION_READ_ACTIONS = (
    "organizations:ListAccounts",
    "organizations:DescribeOrganization",
    "organizations:ListAWSServiceAccessForOrganization",
    "organizations:ListDelegatedAdministrators",
)
ORGANIZATIONS_WHY = (
    "AWS Organizations' ListAccounts, DescribeOrganization, ListAWSServiceAccessForOrganization "
    "and ListDelegatedAdministrators have no resource-level permissions (exactly the actions of "
    "AWS's AWSConfigRoleForOrganizations)"
)
# ConfigurationAggregatorName: 1-256 characters, letters, digits, '-' and '_'.
AGGREGATOR_NAME = re.compile(r"[\w-]{1,256}", re.ASCII)
AGGREGATOR_SUFFIX = "organization"


def aggregator_name(rule_name_prefix: str) -> str:
    """``<ruleNamePrefix>organization`` (``guardrails-organization``): two deployments in one
    account and region already need two prefixes (their Config rule names), so their
    aggregators never collide."""
    name = f"{rule_name_prefix}{AGGREGATOR_SUFFIX}"
    if not AGGREGATOR_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a Config aggregator name (letters, digits, - and _)")
    return name


class OrganizationAggregator(Construct):
    """``AWS::Config::ConfigurationAggregator`` over the whole organization.

    ``regions``: the source regions; ``all_regions=True`` instead aggregates every region
    Config supports, new ones included. Exactly one of the two."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        regions: Sequence[str] = (),
        all_regions: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        if not AGGREGATOR_NAME.fullmatch(name):
            raise ValueError(f"aggregator name {name!r}: letters, digits, - and _, 1-256")
        if all_regions == bool(regions):
            raise ValueError("give the aggregator's regions, or all_regions=True, not both")
        for region in regions:
            # A token is the stack's own region, known at deploy time.
            if not cdk.Token.is_unresolved(region) and not REGION_NAME.fullmatch(region):
                raise ValueError(f"aggregator region {region!r} is not a region name")
        self.name = name
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description=f"AWS Config aggregator {name}: read the organization's accounts",
            statements=[
                iam.PolicyStatement(actions=list(ORGANIZATION_READ_ACTIONS), resources=["*"])
            ],
        )
        acknowledge(self.policy, "IAM5", "Resource::*", ORGANIZATIONS_WHY)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("config.amazonaws.com"),
            description=f"AWS Config aggregator {name} reads the organization's accounts",
            managed_policies=[self.policy],
        )
        self.aggregator = config.CfnConfigurationAggregator(
            self,
            "Resource",
            configuration_aggregator_name=name,
            organization_aggregation_source=config.CfnConfigurationAggregator.OrganizationAggregationSourceProperty(
                role_arn=self.role.role_arn,
                all_aws_regions=True if all_regions else None,
                aws_regions=list(regions) or None,
            ),
        )
        # The aggregator checks the role when it is created: the policy must be attached first.
        self.aggregator.node.add_dependency(self.role)
        self.aggregator.node.add_dependency(self.policy)

    @property
    def arn(self) -> str:
        arn: str = self.aggregator.attr_configuration_aggregator_arn
        return arn
