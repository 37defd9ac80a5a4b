"""``deploymentMode=organization``: the rule functions once in the delegated administrator
(audit) account, one organization Config rule per rule pointing every member account at them,
and a member role in every account of ``targetOuIds`` that the functions assume there.

- One ``OrganizationStack`` per target region (an organization Config rule and its Lambda
  function are regional); the first also holds the member role's StackSet, deployed once per
  account into one region because IAM is global.
- The member role's template is synthesized by ``MemberRoleStack`` in a nested stage (cdk-nag
  checks it like any stack; ``cdk deploy --all`` never deploys it into the admin account) and
  reaches the StackSet as its template body.
- With ``remediation`` on, the runbooks in every member account: ``<name>-Code-<region>`` (the
  stacksets mode's ``CodeBucketStack``, one per region, holding only the runbooks' attachment)
  and, in the first stack after them, a StackSet deploying ``MemberRemediationStack`` into every
  account of ``targetOuIds`` but ``excludedAccounts`` and every region of the rules. It holds
  the documents, their automation roles and, for rules in ``autoRemediate``, the ``findings``
  trigger, matching the findings of the rule's member-account copy (``Id`` prefix
  ``lambda-guardrails/OrgConfigRule-<name>-``) for a function of that account and region. No
  ``AWS::Config::RemediationConfiguration``: it names the account's Config rule, and AWS names
  the copies itself (``OrgConfigRule-<name>-<random suffix>``), so no template can; hence the
  ``config`` trigger is refused for automatic rules.
- The central functions' roles have deterministic names (``central_role_name``) so that the
  member role can trust exactly them: the admin account as principal, ``aws:PrincipalArn``
  ArnEquals that list, ``aws:PrincipalOrgID`` the organization. Their only grant in the admin
  account is ``sts:AssumeRole`` on the member role, limited to the organization by
  ``aws:ResourceOrgID``: an outside account's rule that invokes them cannot make them act in its
  account, and an event without ``ExecutionRoleName`` finds nothing to read in the admin account.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_config as config
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import code
from infra.aggregator import OrganizationAggregator, aggregator_name
from infra.alarms import GuardrailsAlarms
from infra.dashboard import GuardrailsDashboard
from infra.nag import acknowledge
from infra.remediation import (
    CREATE_ACTION,
    GuardrailsRemediation,
    member_account_rules,
    remediation_options,
)
from infra.rule_construct import (
    CHANGE_TRIGGERS,
    RESOURCE_TYPE,
    ConfigLambdaRule,
    RuleFunctionOptions,
    grant_statement,
    nag_resource,
)
from infra.security_hub import (
    FindingAggregator,
    GuardrailsInsights,
    organization_finding_id_prefix,
)
from infra.settings import CONTEXT_DEFAULTS, Settings, SettingsError
from infra.stack import (
    acknowledge_outside_vpc,
    construct_id,
    rule_dead_letter_queue,
    rule_function_key,
    rule_function_options,
)
from infra.stackset import ServiceManagedStackSet, StackSetTemplate, synthesize_stack
from infra.stacksets import (
    CODE_ACCOUNT_PARAMETER,
    CodeBucketStack,
    check_bucket_names,
    same_in_every_region,
    shared_bucket_attachment,
)
from rules.parameters import EXECUTION_ROLE_NAME
from rules.permissions import ASSUME_EXECUTION_ROLE, Grant, member_role_grants
from rules.registry import RULES_BY_ID
from rules.remediation.runbooks import RUNBOOKS, RUNBOOKS_BY_RULE

ORGANIZATION_STACK = "LambdaGuardrailsOrganization"
CENTRAL_CONCURRENCY_WARNING = "LambdaGuardrails:CentralConcurrency"
ACCOUNTS_WITHOUT_ROLE_WARNING = "LambdaGuardrails:AccountsWithoutMemberRole"
MEMBER_ROLE_STAGE = "LambdaGuardrailsMemberRole"
MEMBER_ROLE_STACK = "MemberRole"
MEMBER_REMEDIATION_STAGE = "LambdaGuardrailsMemberRemediation"
MEMBER_REMEDIATION_STACK = "MemberRemediation"
# The member accounts' runbooks: <ruleNamePrefix><rule id>-org-remediation. Not the account
# mode's suffix: an account-mode or stacksets instance with the same prefix in a member account
# (its Config rules do not meet the organization rules' copies) keeps its own documents.
ORGANIZATION_DOCUMENT_SUFFIX = "-org-remediation"
CENTRAL_ACCOUNT_PARAMETER = "CentralAccountId"
CENTRAL_REGION_PARAMETER = "CentralRegion"
CONFIG_PRINCIPAL = "config.amazonaws.com"
# AWS's limits: OrganizationConfigRuleName, IAM role names, a Lambda function's resource policy,
# a StackSet's TemplateBody, OrganizationCustomRuleMetadata InputParameters and Description.
ORGANIZATION_RULE_NAME_MAX = 64
IAM_ROLE_NAME_MAX = 64
FUNCTION_POLICY_MAX = 20 * 1024
INPUT_PARAMETERS_MAX = 2048
DESCRIPTION_MAX = 256
# The longest region code (e.g. us-isof-south-1) bounds a role name whose region is only known
# at deploy time.
LONGEST_REGION = 16
# What one per-account invoke statement costs in the function's policy, at most: a 100-character
# Sid, a 140-character function ARN, the account id (measured on the JSON Lambda stores).
STATEMENT_BYTES = len(
    json.dumps(
        {
            "Sid": "x" * 100,
            "Effect": "Allow",
            "Principal": {"Service": CONFIG_PRINCIPAL},
            "Action": "lambda:InvokeFunction",
            "Resource": "x" * 140,
            "Condition": {"StringEquals": {"AWS:SourceAccount": "123456789012"}},
        }
    )
)
POLICY_ENVELOPE_BYTES = len('{"Version":"2012-10-17","Id":"default","Statement":[]}')


def organization_rule_name(settings: Settings, rule_id: str) -> str:
    """``Settings.config_rule_name``, within OrganizationConfigRuleName's 64 characters."""
    name = settings.config_rule_name(rule_id)
    if len(name) > ORGANIZATION_RULE_NAME_MAX:
        raise SettingsError(
            f"ruleNamePrefix: {settings.rule_name_prefix!r} makes the organization rule {name!r} "
            f"{len(name)} characters long, AWS Config allows {ORGANIZATION_RULE_NAME_MAX}"
        )
    return name


def central_role_name(prefix: str, rule_id: str, region: str) -> str:
    """The central function's role in ``region``: deterministic, so the member role can trust
    it by ARN; per prefix and region, so instances and regions never share one (role names are
    global to the account). ``region`` may be a deploy-time token (bounded by LONGEST_REGION)."""
    name = f"{prefix}{rule_id.removeprefix('lambda-')}-{region}"
    length = (
        len(name)
        if not cdk.Token.is_unresolved(region)
        else (len(prefix) + len(rule_id.removeprefix("lambda-")) + 1 + LONGEST_REGION)
    )
    if length > IAM_ROLE_NAME_MAX:
        raise SettingsError(
            f"ruleNamePrefix: {prefix!r} makes the central role name of {rule_id} longer than "
            f"IAM's {IAM_ROLE_NAME_MAX} characters"
        )
    return name


def organization_input_parameters(settings: Settings, rule_id: str) -> str:
    """The account mode's parameters plus ``ExecutionRoleName``, as Config's JSON string."""
    parameters = {
        **settings.rule_parameters.get(rule_id, {}),
        EXECUTION_ROLE_NAME.name: settings.execution_role_name,
    }
    encoded = json.dumps(parameters, separators=(",", ":"))
    if len(encoded) > INPUT_PARAMETERS_MAX:
        raise SettingsError(
            f"ruleParameters.{rule_id}: {len(encoded)} characters with ExecutionRoleName, AWS "
            f"Config allows {INPUT_PARAMETERS_MAX} for an organization rule"
        )
    return encoded


def check_invoke_policy_size(accounts: Sequence[str]) -> None:
    """Per-account invoke statements (``memberAccountIds`` plus the admin account) must fit in
    the function policy's 20 KB, with room left for nobody else's statement."""
    size = POLICY_ENVELOPE_BYTES + (len(accounts) + 1) * (STATEMENT_BYTES + 1)
    if size > FUNCTION_POLICY_MAX:
        most = (FUNCTION_POLICY_MAX - POLICY_ENVELOPE_BYTES) // (STATEMENT_BYTES + 1) - 1
        raise SettingsError(
            f"memberAccountIds: {len(accounts)} accounts make each function's resource policy "
            f"up to {size} bytes, Lambda allows {FUNCTION_POLICY_MAX} (at most {most} accounts; "
            "leave memberAccountIds empty for the organization-wide permission)"
        )


def _resources(template: str, regions: Sequence[str]) -> list[str]:
    """A grant's resource in the member account, once per central region."""
    return sorted(
        {
            template.format(partition=cdk.Aws.PARTITION, region=region, account=cdk.Aws.ACCOUNT_ID)
            for region in regions
        }
    )


class MemberRoleStack(cdk.Stack):
    """The role (``ExecutionRoleName``) the central functions assume in a member account: trusted
    only by their roles, holding the rules' grants in that account (``member_role_grants``),
    scoped to the account and the central regions. Synthesized for a StackSet: no bootstrap, no
    assets; the admin account (and, unless ``targetRegions`` names them, the region) arrive as
    parameters."""

    def __init__(
        self,
        scope: Construct,
        construct_id_: str,
        *,
        settings: Settings,
        regions: Sequence[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id_,
            synthesizer=cdk.BootstraplessSynthesizer(),
            analytics_reporting=False,
            description="Lambda Guardrails: the role the central AWS Config rule functions "
            "assume in this account",
            **kwargs,
        )
        central_account = cdk.CfnParameter(
            self,
            CENTRAL_ACCOUNT_PARAMETER,
            type="String",
            allowed_pattern=r"\d{12}",
            description="The delegated administrator account running the rule functions",
        ).value_as_string
        self.region_parameter = not regions
        if not regions:
            regions = [
                cdk.CfnParameter(
                    self,
                    CENTRAL_REGION_PARAMETER,
                    type="String",
                    allowed_pattern=r"[a-z]{2}(-[a-z]+)+-\d",
                    description="The region of the rule functions",
                ).value_as_string
            ]
        self.regions = list(regions)
        self.central_role_arns = [
            f"arn:{cdk.Aws.PARTITION}:iam::{central_account}:role/"
            + central_role_name(settings.rule_name_prefix, rule_id, region)
            for region in self.regions
            for rule_id in settings.rule_ids
        ]
        self.grants = member_role_grants(
            [RULES_BY_ID[rule_id] for rule_id in settings.rule_ids],
            security_hub_export=settings.security_hub_export,
        )
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="What the Lambda Guardrails rule functions call in this account",
            statements=[
                grant_statement(
                    grant,
                    lambda value: _resources(value, self.regions),
                    _resources(grant.resource, self.regions),
                )
                for grant in self.grants
            ],
        )
        # The account as principal and the roles in a condition: a role principal must exist
        # when the trust policy is written (and breaks when the role is recreated), and cannot
        # hold a wildcard; aws:PrincipalArn matches the exact role ARNs whenever they exist.
        self.role = iam.Role(
            self,
            "Role",
            role_name=settings.execution_role_name,
            description="Assumed by the Lambda Guardrails rule functions of the delegated "
            "administrator account",
            assumed_by=iam.AccountPrincipal(central_account).with_conditions(
                {
                    "StringEquals": {"aws:PrincipalOrgID": settings.organization_id},
                    "ArnEquals": {"aws:PrincipalArn": self.central_role_arns},
                }
            ),
            max_session_duration=cdk.Duration.hours(1),
            managed_policies=[self.policy],
        )
        self._acknowledge(self.grants)
        for key, value in settings.tags.items():
            cdk.Tags.of(self).add(key, value)

    def _acknowledge(self, grants: Sequence[Grant]) -> None:
        for grant in grants:
            if "*" not in grant.resource:
                continue
            for region in self.regions:
                resource = grant.resource.format(
                    partition="<AWS::Partition>",
                    region=f"<{CENTRAL_REGION_PARAMETER}>"
                    if cdk.Token.is_unresolved(region)
                    else region,
                    account="<AWS::AccountId>",
                )
                acknowledge(self.policy, "IAM5", f"Resource::{resource}", grant.why)


def refuse_unsupported_remediation(settings: Settings) -> None:
    """What the member accounts' runbooks cannot do in this mode, refused at synth."""
    if not settings.remediation:
        return
    if settings.auto_remediate and settings.auto_remediate_trigger == "config":
        raise SettingsError(
            "deploymentMode organization: autoRemediate needs autoRemediateTrigger=findings. "
            "An automatic Config remediation names the account's Config rule, and AWS names "
            "an organization rule's copy in each member account itself "
            "(OrgConfigRule-<name>-<random suffix>), so no template can"
        )
    if settings.remediation_custom_action not in (None, CREATE_ACTION):
        raise SettingsError(
            "remediationCustomAction: an ARN names one account's custom action, and the "
            "runbooks' StackSet deploys to every member account: use create (each account "
            "gets its own) or off"
        )


def remediated_rule_ids(settings: Settings) -> tuple[str, ...]:
    """The deployed rules that have a runbook (none with ``remediation`` off)."""
    if not settings.remediation:
        return ()
    return tuple(rule_id for rule_id in settings.rule_ids if rule_id in RUNBOOKS_BY_RULE)


class MemberRemediationStack(cdk.Stack):
    """The runbooks in one member account and region: documents attaching the rules zip from
    the administrator's code bucket of the region (``CodeBucketAccount`` parameter), their
    automation roles and, for ``autoRemediate`` rules, the ``findings`` trigger on the findings
    the central functions import into this account. Synthesized for a StackSet: no bootstrap,
    no assets."""

    def __init__(
        self,
        scope: Construct,
        construct_id_: str,
        *,
        settings: Settings,
        attachment_key: str,
        attachment_sha256: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id_,
            synthesizer=cdk.BootstraplessSynthesizer(),
            analytics_reporting=False,
            description="Lambda Guardrails: the remediation runbooks of the organization Config "
            "rules in this account",
            **kwargs,
        )
        refuse_unsupported_remediation(settings)
        rules = member_account_rules(
            {
                rule_id: organization_finding_id_prefix(organization_rule_name(settings, rule_id))
                for rule_id in remediated_rule_ids(settings)
            },
            self,
        )
        attachment = shared_bucket_attachment(
            ORGANIZATION_STACK, attachment_key, attachment_sha256
        )(self)
        self.remediation = GuardrailsRemediation(
            self,
            "Remediation",
            runbooks=RUNBOOKS,
            rules=rules,
            options=replace(
                remediation_options(settings), document_suffix=ORGANIZATION_DOCUMENT_SUFFIX
            ),
            attachment=attachment,
        )
        for key, value in settings.tags.items():
            cdk.Tags.of(self).add(key, value)


class OrganizationStack(cdk.Stack):
    """The delegated administrator's stack in one region: the rule functions (no per-account
    Config rule), their invoke permissions, one organization Config rule per rule, alarms, and
    (``member_role_template`` given) the member role's StackSet."""

    def __init__(
        self,
        scope: Construct,
        construct_id_: str,
        *,
        settings: Settings,
        member_role: MemberRoleStack | None = None,
        member_remediation: MemberRemediationStack | None = None,
        code_stacks: Sequence[CodeBucketStack] = (),
        **kwargs: Any,
    ) -> None:
        """``member_role`` (and ``member_remediation``, after ``code_stacks``): the StackSets
        this stack deploys (the first region's)."""
        super().__init__(scope, construct_id_, **kwargs)
        self.settings = settings
        self.key = rule_function_key(self)
        self.dead_letter_queue = rule_dead_letter_queue(self, self.key)
        options = rule_function_options(
            self,
            settings,
            function_code=code.rule_code(),
            key=self.key,
            dead_letter_queue=self.dead_letter_queue,
            security_group_ids=settings.security_group_ids,
        )
        if settings.subnet_ids and not settings.security_group_ids:
            raise SettingsError(
                "deploymentMode organization: with subnetIds, set securityGroupIds (the "
                "organization stacks create no security group)"
            )
        if settings.member_account_ids:
            check_invoke_policy_size(settings.member_account_ids)
        self.rules: dict[str, ConfigLambdaRule] = {}
        self.organization_rules: dict[str, config.CfnOrganizationConfigRule] = {}
        for rule_id in settings.rule_ids:
            self._rule(rule_id, options)
        self.alarms = GuardrailsAlarms(
            self,
            "Alarms",
            rules=list(self.rules.values()),
            dead_letter_queue=self.dead_letter_queue,
            topic_arn=settings.alarm_topic_arn,
        )
        if not settings.in_vpc:
            acknowledge_outside_vpc(self, self.rules.values())
        if settings.reserved_concurrency == CONTEXT_DEFAULTS["reservedConcurrency"]:
            cdk.Annotations.of(self).add_warning_v2(
                CENTRAL_CONCURRENCY_WARNING,
                f"Each central rule function keeps the account mode's reservedConcurrency "
                f"({settings.reserved_concurrency}) while it serves every member account: size "
                "it to the organization (see the README's organization mode). Throttled Config "
                "events are retried for up to 6 hours, then land in the dead-letter queue.",
            )
        self.dashboard = GuardrailsDashboard(
            self,
            "Dashboard",
            rules=list(self.rules.values()),
            dead_letter_queue=self.dead_letter_queue,
            alarms=self.alarms.alarms,
        )
        if settings.security_hub_export:
            # With this account as Security Hub's delegated administrator, the member
            # accounts' findings are visible here too.
            self.insights = GuardrailsInsights(
                self,
                "Insights",
                config_rule_names={rule_id: rule.name for rule_id, rule in self.rules.items()},
                organization=True,
            )
        self.stack_set: ServiceManagedStackSet | None = None
        self.remediation_stack_set: ServiceManagedStackSet | None = None
        self.aggregator: OrganizationAggregator | None = None
        if member_remediation is not None:
            self._member_remediation(member_remediation, code_stacks)
        if member_role is not None:  # the home region: what the organization needs once
            self._home_region(member_role)
            if not settings.excluded_accounts:
                cdk.Annotations.of(self).add_warning_v2(
                    ACCOUNTS_WITHOUT_ROLE_WARNING,
                    "The organization rules reach every account of the organization, the member "
                    "role only the accounts of targetOuIds, and never the management account "
                    "(service-managed StackSets skip it): list the management account and any "
                    "account outside targetOuIds in excludedAccounts, or their evaluations fail "
                    "with AccessDenied.",
                )
        for key, value in settings.tags.items():
            cdk.Tags.of(self).add(key, value)

    def _member_remediation(
        self, member: MemberRemediationStack, code_stacks: Sequence[CodeBucketStack]
    ) -> None:
        """The runbooks' StackSet: every account of the OUs but ``excludedAccounts`` (the
        organization rules skip them), every region of the rules, after the code buckets hold
        the attachment."""
        for code_stack in code_stacks:
            self.add_stack_dependency(
                code_stack,
                "the runbooks' StackSet deploys only after the code buckets hold their attachment",
            )
        synthesized = synthesize_stack(member)
        self.remediation_stack_set = ServiceManagedStackSet(
            self,
            "Remediation",
            template=StackSetTemplate.of(
                self, "RemediationTemplate", synthesized.template, synthesized.path
            ),
            regions=self.settings.target_regions or [self.region],
            settings=self.settings,
            description="Lambda Guardrails: the remediation runbooks of the organization rules",
            parameters={CODE_ACCOUNT_PARAMETER: cdk.Aws.ACCOUNT_ID},
            excluded_accounts=self.settings.excluded_accounts,
        )

    def _home_region(self, member_role: MemberRoleStack) -> None:
        """The member role's StackSet (in this region only: IAM is global), the organization's
        Config aggregator and, when asked, Security Hub's finding aggregator."""
        settings = self.settings
        parameters = {CENTRAL_ACCOUNT_PARAMETER: cdk.Aws.ACCOUNT_ID}
        if member_role.region_parameter:
            parameters[CENTRAL_REGION_PARAMETER] = cdk.Aws.REGION
        synthesized = synthesize_stack(member_role)
        self.stack_set = ServiceManagedStackSet(
            self,
            "MemberRole",
            template=StackSetTemplate.of(
                self, "MemberRoleTemplate", synthesized.template, synthesized.path
            ),
            regions=[self.region],
            settings=settings,
            description="Lambda Guardrails: the member role of the organization Config rules",
            parameters=parameters,
            # The organization rules skip these accounts: they need no role either.
            excluded_accounts=settings.excluded_accounts,
        )
        self.aggregator = OrganizationAggregator(
            self,
            "Aggregator",
            name=aggregator_name(settings.rule_name_prefix),
            regions=settings.target_regions or [self.region],
        )
        if settings.security_hub_aggregation_regions is not None:
            FindingAggregator(
                self, "FindingAggregator", regions=settings.security_hub_aggregation_regions
            )

    def _rule(self, rule_id: str, options: RuleFunctionOptions) -> None:
        settings = self.settings
        rule = RULES_BY_ID[rule_id]
        name = organization_rule_name(settings, rule_id)
        role_arn = ASSUME_EXECUTION_ROLE.resource.format(
            partition=cdk.Aws.PARTITION, execution_role_name=settings.execution_role_name
        )
        deployed = ConfigLambdaRule(
            self,
            construct_id(rule_id),
            rule=rule,
            name=name,
            options=options,
            grants=(),
            extra_statements=[
                iam.PolicyStatement(
                    actions=list(ASSUME_EXECUTION_ROLE.actions),
                    resources=[role_arn],
                    conditions={"StringEquals": {"aws:ResourceOrgID": settings.organization_id}},
                )
            ],
            config_rule=False,
            role_name=central_role_name(settings.rule_name_prefix, rule_id, self.region),
        )
        acknowledge(
            deployed.policy,
            "IAM5",
            "Resource::"
            + nag_resource(
                ASSUME_EXECUTION_ROLE.resource.replace(
                    "{execution_role_name}", settings.execution_role_name
                )
            ),
            f"{ASSUME_EXECUTION_ROLE.why}; any member account's role of that name, and only in "
            "the organization (aws:ResourceOrgID)",
        )
        permissions = self._invoke_permissions(deployed)
        frequency = settings.periodic_frequency_of(rule_id)
        changes = CHANGE_TRIGGERS if RULES_BY_ID[rule_id].change_triggered else ()
        triggers = [*changes] + (["ScheduledNotification"] if frequency else [])
        organization_rule = config.CfnOrganizationConfigRule(
            self,
            f"{construct_id(rule_id)}OrganizationRule",
            organization_config_rule_name=name,
            organization_custom_rule_metadata=(
                config.CfnOrganizationConfigRule.OrganizationCustomRuleMetadataProperty(
                    lambda_function_arn=deployed.function.function_arn,
                    organization_config_rule_trigger_types=triggers,
                    description=rule.description[:DESCRIPTION_MAX],
                    input_parameters=organization_input_parameters(settings, rule_id),
                    maximum_execution_frequency=frequency,
                    resource_types_scope=[RESOURCE_TYPE],
                )
            ),
            excluded_accounts=list(settings.excluded_accounts) or None,
        )
        # Config checks it may invoke the function when it creates the rule in each account.
        for permission in permissions:
            organization_rule.add_resource_dependency(permission)
        self.rules[rule_id] = deployed
        self.organization_rules[rule_id] = organization_rule

    def _invoke_permissions(self, deployed: ConfigLambdaRule) -> list[lambda_.CfnPermission]:
        """Config in the member accounts invokes the function with the member account as
        source. Lambda permissions take no aws:SourceOrgID, PrincipalOrgID does not apply to a
        service principal and a SourceArn cannot leave its account open: per-account
        SourceAccount statements when ``memberAccountIds`` lists the accounts, else one
        statement for AWS Config in any account (our public-access rule flags it; the README
        says why it is accepted)."""
        function_arn = deployed.function.function_arn
        if not self.settings.member_account_ids:
            return [
                lambda_.CfnPermission(
                    deployed,
                    "OrganizationConfigInvoke",
                    action="lambda:InvokeFunction",
                    function_name=function_arn,
                    principal=CONFIG_PRINCIPAL,
                )
            ]
        accounts = [cdk.Aws.ACCOUNT_ID, *self.settings.member_account_ids]
        return [
            lambda_.CfnPermission(
                deployed,
                "ConfigInvoke" if index == 0 else f"ConfigInvoke{account}",
                action="lambda:InvokeFunction",
                function_name=function_arn,
                principal=CONFIG_PRINCIPAL,
                source_account=account,
            )
            for index, account in enumerate(accounts)
        ]


def build_organization(app: cdk.App, settings: Settings) -> list[cdk.Stack]:
    """One ``OrganizationStack`` per target region (region-only environments: the account is
    the one you deploy with); without ``targetRegions`` one stack in the CLI's region. The
    first one also deploys the member role StackSet into that region."""
    regions: Sequence[str | None] = settings.target_regions or (None,)
    stage = cdk.Stage(app, MEMBER_ROLE_STAGE)
    member_role = MemberRoleStack(
        stage, MEMBER_ROLE_STACK, settings=settings, regions=settings.target_regions
    )
    code_stacks, member_remediation = _member_remediation(app, settings, regions)
    stacks: list[cdk.Stack] = [*code_stacks]
    for index, region in enumerate(regions):
        stacks.append(
            OrganizationStack(
                app,
                f"{ORGANIZATION_STACK}-{region}" if region else ORGANIZATION_STACK,
                stack_name=ORGANIZATION_STACK,
                settings=settings,
                member_role=member_role if index == 0 else None,
                member_remediation=member_remediation if index == 0 else None,
                code_stacks=code_stacks if index == 0 else (),
                env=cdk.Environment(region=region) if region else None,
                description="Lambda Guardrails: organization AWS Config rules for Lambda "
                "functions (delegated administrator)",
            )
        )
    return stacks


def _member_remediation(
    app: cdk.App, settings: Settings, regions: Sequence[str | None]
) -> tuple[list[CodeBucketStack], MemberRemediationStack | None]:
    """The code stacks holding the runbooks' attachment, one per region of the rules, and the
    member accounts' remediation stack (in its own stage); none without a runbook to deploy."""
    refuse_unsupported_remediation(settings)
    if not remediated_rule_ids(settings):
        return [], None
    check_bucket_names(ORGANIZATION_STACK, [r for r in regions if r is not None])
    code_stacks = [
        CodeBucketStack(
            app,
            f"{ORGANIZATION_STACK}-Code-{region}" if region else f"{ORGANIZATION_STACK}-Code",
            instance=ORGANIZATION_STACK,
            settings=settings,
            rule_code=False,  # the rule functions run in this account; only runbooks go out
            env=cdk.Environment(region=region) if region else None,
            description=f"Lambda Guardrails: the remediation runbooks' attachment for "
            f"{region or 'this region'}, readable by the organization",
        )
        for region in regions
    ]
    member = MemberRemediationStack(
        cdk.Stage(app, MEMBER_REMEDIATION_STAGE),
        MEMBER_REMEDIATION_STACK,
        settings=settings,
        attachment_key=same_in_every_region(code_stacks, "attachment_key"),
        attachment_sha256=same_in_every_region(code_stacks, "attachment_sha256"),
    )
    return code_stacks, member
