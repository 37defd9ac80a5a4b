"""One Lambda-backed AWS Config custom rule: function, role, log group, invoke permission, rule.

Everything about the rule comes from its ``rules.rule.Rule`` and the IAM grants from
``rules.permissions.grants_for``: nothing here names a rule or an action the rule code calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_config as config
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import code
from infra.nag import acknowledge
from rules.exemptions import DEFAULT_TAG_KEY
from rules.permissions import (
    DECRYPT_ACTIONS,
    Grant,
    decrypt_conditions,
    grants_for,
    reads_values,
    rendered_conditions,
)
from rules.rule import Rule

RESOURCE_TYPE = "AWS::Lambda::Function"
CHANGE_TRIGGERS = (
    "ConfigurationItemChangeNotification",
    "OversizedConfigurationItemChangeNotification",
)
SECURITY_HUB_PREFIX = "securityhub:"
POWERTOOLS_METRICS_NAMESPACE = "LambdaGuardrails"
# The functions' POWERTOOLS_SERVICE_NAME, which Powertools puts in every metric as the `service`
# dimension: the deployed stack's name, unique per account and region, so two instances in one
# account (or a StackSet instance beside a local stack) never add up each other's metrics on
# their dashboards. Resolved by CloudFormation, so a StackSet's per-account copy gets its own.
DEPLOYMENT_SERVICE_NAME = cdk.Aws.STACK_NAME
MEMORY_MB = 256
TIMEOUT = cdk.Duration.minutes(5)  # periodic sweeps page through every function
# Actions the function's role holds for the platform rather than for the rule code (tests
# compare the role against grants_for(rule) plus exactly these).
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
DLQ_ACTIONS = ("sqs:SendMessage",)
KMS_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
# What Lambda needs to attach a function to a VPC (the AWSLambdaVPCAccessExecutionRole actions).
VPC_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
VPC_WHY = (
    "Lambda's VPC ENI management: EC2 Describe* has no resource-level permissions and the "
    "interfaces do not exist before Lambda creates them"
)
XRAY_WHY = "X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions"


@dataclass(frozen=True, slots=True)
class RuleFunctionOptions:
    """What every rule function of a stack shares."""

    code: lambda_.Code
    layer: lambda_.ILayerVersion
    key: kms.IKey
    dead_letter_queue: sqs.IQueue
    reserved_concurrency: int
    log_retention: logs.RetentionDays
    log_level: str
    security_hub_export: bool
    subnet_ids: Sequence[str] = ()
    security_group_ids: Sequence[str] = ()
    service_name: str = DEPLOYMENT_SERVICE_NAME
    exemption_tag_key: str = DEFAULT_TAG_KEY
    # Rule ids whose exemptions the functions refuse (context exemptionsDisabled).
    exemptions_disabled: frozenset[str] = frozenset()


def rule_grants(rule: Rule, *, security_hub_export: bool) -> tuple[Grant, ...]:
    """The grants the role holds for the rule code: ``grants_for(rule)``, without the Security
    Hub import when export is off."""
    grants = grants_for(rule)
    if security_hub_export:
        return grants
    return tuple(
        grant
        for grant in grants
        if not all(action.startswith(SECURITY_HUB_PREFIX) for action in grant.actions)
    )


def decrypt_statements(rule: Rule, key_arns: Sequence[str]) -> list[iam.PolicyStatement]:
    """kms:Decrypt on ``key_arns`` (context ``secretsRuleKmsKeyArns``) for the one rule that
    reads environment variable values, only through Lambda and for a Lambda environment; no
    statement for any other rule, nor without keys."""
    if not reads_values(rule) or not key_arns:
        return []
    return [
        iam.PolicyStatement(
            actions=list(DECRYPT_ACTIONS),
            resources=list(key_arns),
            conditions=decrypt_conditions(cdk.Aws.REGION),
        )
    ]


def resource_arn(template: str) -> str:
    return template.format(
        partition=cdk.Aws.PARTITION, region=cdk.Aws.REGION, account=cdk.Aws.ACCOUNT_ID
    )


def platform_statements(
    log_group: logs.LogGroup, options: RuleFunctionOptions
) -> list[iam.PolicyStatement]:
    """What every guardrails function (the rules' and the hook's) calls for itself: its log
    group, X-Ray, its dead-letter queue, and the key (environment variables, and the data key
    of the encrypted queue). Network interfaces in a VPC are added by the caller."""
    return [
        iam.PolicyStatement(actions=list(LOG_ACTIONS), resources=[log_group.log_group_arn]),
        iam.PolicyStatement(actions=list(XRAY_ACTIONS), resources=["*"]),
        iam.PolicyStatement(
            actions=list(DLQ_ACTIONS), resources=[options.dead_letter_queue.queue_arn]
        ),
        iam.PolicyStatement(actions=list(KMS_ACTIONS), resources=[options.key.key_arn]),
    ]


def grant_statement(
    grant: Grant,
    render: Callable[[str], Any] = resource_arn,
    resources: Sequence[str] | None = None,
) -> iam.PolicyStatement:
    """``grant`` as one IAM statement: its actions, its resource (``render``ed, or
    ``resources``) and its conditions (``render``ed the same way). Every role derived from
    grants is written with it, so no derivation drops a grant's conditions."""
    conditions = rendered_conditions(grant, render)
    return iam.PolicyStatement(
        actions=list(grant.actions),
        resources=list(resources) if resources is not None else [render(grant.resource)],
        conditions=conditions or None,
    )


def nag_resource(template: str) -> str:
    """How cdk-nag spells a resource in a finding id (``<AWS::Partition>`` for the pseudo
    parameter tokens)."""
    return template.format(
        partition="<AWS::Partition>", region="<AWS::Region>", account="<AWS::AccountId>"
    )


class ConfigLambdaRule(Construct):
    """A CUSTOM_LAMBDA Config rule over ``AWS::Lambda::Function`` and the function behind it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rule: Rule,
        name: str,
        options: RuleFunctionOptions,
        periodic_frequency: str | None = None,
        input_parameters: Mapping[str, str] | None = None,
        depends_on: Sequence[cdk.CfnResource] = (),
        grants: Sequence[Grant] | None = None,
        extra_statements: Sequence[iam.PolicyStatement] = (),
        config_rule: bool = True,
        role_name: str | None = None,
    ) -> None:
        """``grants`` replaces the rule's own (``rule_grants``) and ``extra_statements`` adds
        statements the grants cannot express (conditions); ``config_rule=False`` builds the
        function part only, for a rule deployed elsewhere (organization mode: an organization
        rule, with its own invoke permissions); ``role_name`` names the role (others trust it
        by name), CloudFormation names it otherwise."""
        super().__init__(scope, construct_id)
        self.rule = rule
        self.name = name  # the Config rule's name; rule.id stays what users type
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=options.log_retention,
            encryption_key=options.key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        if grants is None:
            grants = rule_grants(rule, security_hub_export=options.security_hub_export)
        statements = [grant_statement(grant) for grant in grants]
        statements += [*platform_statements(self.log_group, options), *extra_statements]
        in_vpc = bool(options.subnet_ids)
        if in_vpc:
            statements.append(iam.PolicyStatement(actions=list(VPC_ACTIONS), resources=["*"]))
        # A customer-managed policy (not inline, NIST IAMNoInlinePolicy) that the role references,
        # so the role, and with it the function, is created after its permissions exist.
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description=f"What AWS Config rule {name}'s function calls",
            statements=statements,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            role_name=role_name,
            description=f"Runs AWS Config rule {name}",
            managed_policies=[self.policy],
        )

        self.function = guardrails_function(
            self,
            options,
            role=self.role,
            log_group=self.log_group,
            description=f"AWS Config rule {name}: {rule.title}",
            handler=code.HANDLER,
            timeout=TIMEOUT,
            environment={
                "RULE_ID": rule.id,
                "SECURITY_HUB_EXPORT": "true" if options.security_hub_export else "false",
                "EXEMPTION_TAG_KEY": options.exemption_tag_key,
                "EXEMPTIONS_DISABLED": "true"
                if rule.id in options.exemptions_disabled
                else "false",
            },
        )

        self.permission: lambda_.CfnPermission | None = None
        self.config_rule: config.CfnConfigRule | None = None
        if config_rule:
            self._config_rule(periodic_frequency, input_parameters, depends_on)
        self._acknowledge(grants, in_vpc=in_vpc)

    def _config_rule(
        self,
        periodic_frequency: str | None,
        input_parameters: Mapping[str, str] | None,
        depends_on: Sequence[cdk.CfnResource],
    ) -> None:
        rule, name = self.rule, self.name
        # Only AWS Config in this account may invoke the function. SourceArn is not set: Config
        # checks it may invoke the function when the rule is created, so the permission must
        # exist first and cannot reference the rule's ARN (which holds a service-generated id,
        # config-rule-xxxxxx, unknown before creation).
        self.permission = permission = lambda_.CfnPermission(
            self,
            "ConfigInvoke",
            action="lambda:InvokeFunction",
            function_name=self.function.function_arn,
            principal="config.amazonaws.com",
            source_account=cdk.Aws.ACCOUNT_ID,
        )

        # A periodic-only rule (a cross-function view) gets no change trigger.
        source_details = [
            config.CfnConfigRule.SourceDetailProperty(
                event_source="aws.config", message_type=message_type
            )
            for message_type in (CHANGE_TRIGGERS if rule.change_triggered else ())
        ]
        if periodic_frequency:
            source_details.append(
                config.CfnConfigRule.SourceDetailProperty(
                    event_source="aws.config",
                    message_type="ScheduledNotification",
                    maximum_execution_frequency=periodic_frequency,
                )
            )
        self.config_rule = config_rule = config.CfnConfigRule(
            self,
            "Rule",
            config_rule_name=name,
            description=rule.description,
            scope=config.CfnConfigRule.ScopeProperty(compliance_resource_types=[RESOURCE_TYPE]),
            source=config.CfnConfigRule.SourceProperty(
                owner="CUSTOM_LAMBDA",
                source_identifier=self.function.function_arn,
                source_details=source_details,
            ),
            # An object in the template; Config stores it as the rule's JSON parameter string.
            input_parameters=dict(input_parameters) if input_parameters else None,
        )
        config_rule.add_resource_dependency(permission)
        for resource in depends_on:
            config_rule.add_resource_dependency(resource)

    def _acknowledge(self, grants: Sequence[Grant], *, in_vpc: bool) -> None:
        wildcards: dict[str, str] = {}
        for grant in grants:
            if "*" in grant.resource:
                resource = nag_resource(grant.resource)
                wildcards[resource] = "; ".join(filter(None, (wildcards.get(resource), grant.why)))
        wildcards["*"] = "; ".join(
            filter(None, (wildcards.get("*"), XRAY_WHY, VPC_WHY if in_vpc else None))
        )
        for resource, why in wildcards.items():
            acknowledge(self.policy, "IAM5", f"Resource::{resource}", why)


def guardrails_function(
    scope: Construct,
    options: RuleFunctionOptions,
    *,
    role: iam.Role,
    log_group: logs.ILogGroup,
    description: str,
    handler: str,
    timeout: cdk.Duration,
    environment: Mapping[str, str],
) -> lambda_.Function:
    """A function of ours (a rule's, the hook's): the shared code, layer, key, dead-letter queue,
    concurrency, tracing, Powertools settings and, with subnets, VpcConfig."""
    function = lambda_.Function(
        scope,
        "Function",
        description=description,
        runtime=code.RUNTIME,
        architecture=code.ARCHITECTURE,
        handler=handler,
        code=options.code,
        layers=[options.layer],
        # Immutable: the construct's own additions (X-Ray, DLQ) are already in the policy.
        role=role.without_policy_updates(),
        memory_size=MEMORY_MB,
        timeout=timeout,
        tracing=lambda_.Tracing.ACTIVE,
        log_group=log_group,
        reserved_concurrent_executions=options.reserved_concurrency,
        dead_letter_queue=options.dead_letter_queue,
        environment_encryption=options.key,
        environment={
            **environment,
            "POWERTOOLS_SERVICE_NAME": options.service_name,
            "POWERTOOLS_METRICS_NAMESPACE": POWERTOOLS_METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": options.log_level,
        },
    )
    if options.subnet_ids:
        # VpcConfig directly: subnets are given by id and no VPC lookup (account access) is
        # needed at synth time.
        cfn_function = function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.vpc_config = lambda_.CfnFunction.VpcConfigProperty(
            subnet_ids=list(options.subnet_ids),
            security_group_ids=list(options.security_group_ids),
        )
    return function
