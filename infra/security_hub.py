"""Security Hub views of a deployment's findings: insights, and cross-region aggregation.

Insights (``AWS::SecurityHub::Insight``) filter exactly the findings ``rules.aws.findings``
builds for a failing function: ``Compliance.Status`` FAILED, ``RecordState`` ACTIVE, one
``AwsLambdaFunction`` resource, ``GeneratorId`` the bare rule id, ``Workflow.Status`` not
SUPPRESSED (an accepted risk is not work to do), and an ``Id`` that starts with
``lambda-guardrails/<Config rule name>/``. The Id prefix is what scopes an insight to ONE
deployment: two instances in one account (two ``ruleNamePrefix`` values) write the same
GeneratorIds but never the same Ids. Findings of an organization rule carry the name AWS Config
gives the rule's copy in each member account, ``OrgConfigRule-<organization rule name>-<random
suffix>``, hence :func:`organization_finding_id_prefix`.

Security Hub joins EQUALS and PREFIX filters on one field with OR, NOT_EQUALS filters with AND,
and different fields with AND; an insight takes at most 10 fields and 20 values per field
(checked here).

``AWS::SecurityHub::FindingAggregator`` links regions to the stack's region (the home region).
AWS allows ONE per account: only one stack of an account may create it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import aws_cdk as cdk
from aws_cdk import aws_securityhub as securityhub
from constructs import Construct

from infra.settings import ALL_REGIONS, SINGLETON_AGGREGATOR
from rules.aws.findings import STATUS, finding_id
from rules.model import Compliance

ASFF_LAMBDA_FUNCTION = "AwsLambdaFunction"  # Resources[].Type of every finding we build
ACTIVE = "ACTIVE"
SUPPRESSED = "SUPPRESSED"
MEMBER_RULE_PREFIX = "OrgConfigRule-"
MAX_FILTER_FIELDS = 10
MAX_FILTER_VALUES = 20
FINDING_AGGREGATOR_WARNING = "LambdaGuardrails:FindingAggregatorSingleton"
# The filter fields used here -> CloudFormation's (CDK's) property name.
FILTER_PROPERTIES = {
    "GeneratorId": "generator_id",
    "Id": "id",
    "ComplianceStatus": "compliance_status",
    "RecordState": "record_state",
    "ResourceType": "resource_type",
    "WorkflowStatus": "workflow_status",
}
GROUP_BY = {"Rule": "GeneratorId", "Account": "AwsAccountId"}

StringFilters = dict[str, list[dict[str, str]]]


def finding_id_prefix(config_rule_name: str) -> str:
    """The start of the Id of every finding the Config rule ``config_rule_name`` writes."""
    return finding_id(config_rule_name, "")


def organization_finding_id_prefix(organization_rule_name: str) -> str:
    """The start of the Id of every finding the member-account copies of the organization
    rule ``organization_rule_name`` write (``OrgConfigRule-<name>-<suffix>``)."""
    return finding_id(f"{MEMBER_RULE_PREFIX}{organization_rule_name}-", "").removesuffix("/")


def failed_function_filters(rule_ids: Sequence[str], id_prefixes: Sequence[str]) -> StringFilters:
    """ASFF filters (GetFindings' and the Insight resource's shape) selecting the active,
    failed Lambda function findings of ``rule_ids`` whose Id starts with one of
    ``id_prefixes``."""
    filters: StringFilters = {
        "GeneratorId": [{"Comparison": "EQUALS", "Value": rule_id} for rule_id in rule_ids],
        "Id": [{"Comparison": "PREFIX", "Value": prefix} for prefix in id_prefixes],
        "ComplianceStatus": [{"Comparison": "EQUALS", "Value": STATUS[Compliance.NON_COMPLIANT]}],
        "RecordState": [{"Comparison": "EQUALS", "Value": ACTIVE}],
        "ResourceType": [{"Comparison": "EQUALS", "Value": ASFF_LAMBDA_FUNCTION}],
        "WorkflowStatus": [{"Comparison": "NOT_EQUALS", "Value": SUPPRESSED}],
    }
    if len(filters) > MAX_FILTER_FIELDS:
        raise ValueError(f"an insight filters at most {MAX_FILTER_FIELDS} fields")
    for field, values in filters.items():
        if not values or len(values) > MAX_FILTER_VALUES:
            raise ValueError(
                f"insight filter {field}: {len(values)} values, Security Hub takes 1 to "
                f"{MAX_FILTER_VALUES}"
            )
    return filters


def _filters_property(filters: StringFilters) -> Any:
    """The CDK property for ``filters`` (CfnInsight.AwsSecurityFindingFiltersProperty)."""
    return securityhub.CfnInsight.AwsSecurityFindingFiltersProperty(
        **{
            FILTER_PROPERTIES[field]: [
                securityhub.CfnInsight.StringFilterProperty(
                    comparison=value["Comparison"], value=value["Value"]
                )
                for value in values
            ]
            for field, values in filters.items()
        }
    )


class GuardrailsInsights(Construct):
    """Two insights over one deployment's failing Lambda functions: grouped by rule
    (``GeneratorId``) and by account (``AwsAccountId``).

    ``config_rule_names``: rule id -> the Config rule's name (account mode) or the organization
    rule's name (``organization=True``). ``deployment`` names the insights (default: the stack
    name, resolved by CloudFormation)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config_rule_names: Mapping[str, str],
        organization: bool = False,
        deployment: str = cdk.Aws.STACK_NAME,
        depends_on: Sequence[cdk.CfnResource] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        prefix_of = organization_finding_id_prefix if organization else finding_id_prefix
        self.filters = failed_function_filters(
            list(config_rule_names), [prefix_of(name) for name in config_rule_names.values()]
        )
        self.insights: dict[str, securityhub.CfnInsight] = {}
        for label, attribute in GROUP_BY.items():
            insight = securityhub.CfnInsight(
                self,
                f"NonCompliantFunctionsBy{label}",
                name=cdk.Fn.join(
                    "",
                    [
                        "Lambda Guardrails (",
                        deployment,
                        f"): non-compliant Lambda functions by {label.lower()}",
                    ],
                ),
                group_by_attribute=attribute,
                filters=_filters_property(self.filters),
            )
            for resource in depends_on:
                insight.add_resource_dependency(resource)
            self.insights[attribute] = insight


class FindingAggregator(Construct):
    """Security Hub's cross-region aggregation into the stack's region: from every region
    (``ALL``, new ones included) or from the listed ones. One per account (AWS's limit): the
    synth warns so."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        regions: Literal["ALL"] | Sequence[str],
        depends_on: Sequence[cdk.CfnResource] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        if regions == ALL_REGIONS:
            mode, linked = "ALL_REGIONS", None
        else:
            linked = list(regions)
            if not linked:
                raise ValueError("a finding aggregator needs ALL or at least one region")
            mode = "SPECIFIED_REGIONS"
            home = cdk.Stack.of(self).region
            if not cdk.Token.is_unresolved(home) and home in linked:
                raise ValueError(
                    f"securityHubAggregationRegions: {home} is the stack's region, the home "
                    "region that aggregates; list only the regions linked to it"
                )
        self.aggregator = securityhub.CfnFindingAggregator(
            self, "Resource", region_linking_mode=mode, regions=linked
        )
        for resource in depends_on:
            self.aggregator.add_resource_dependency(resource)
        cdk.Annotations.of(self).add_warning_v2(
            FINDING_AGGREGATOR_WARNING,
            f"{SINGLETON_AGGREGATOR}. This stack makes {cdk.Stack.of(self).stack_name}'s "
            "region the home region of Security Hub's cross-region aggregation.",
        )
