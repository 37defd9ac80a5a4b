"""The stack: one ``ConfigLambdaRule`` per enabled registry rule, and what they share."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_config as config
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_securityhub as securityhub
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import code
from infra.alarms import GuardrailsAlarms
from infra.dashboard import GuardrailsDashboard
from infra.hook import DeploymentHook
from infra.nag import NIST, acknowledge
from infra.remediation import AttachmentSource, add_remediation
from infra.rule_construct import (
    RESOURCE_TYPE,
    ConfigLambdaRule,
    RuleFunctionOptions,
    decrypt_statements,
)
from infra.security_hub import FindingAggregator, GuardrailsInsights
from infra.settings import LOG_RETENTION_DAYS, Settings
from rules.checks.env_vars_cmk import AWS_MANAGED_ALIAS_PREFIX
from rules.registry import RULES_BY_ID

NOT_IN_VPC_WARNING = "LambdaGuardrails:NotInVpc"
NO_SWEEP_WARNING = "LambdaGuardrails:NoPeriodicSweep"
ACCESS_LOG_PREFIX = "config-bucket/"
# KMS alias names: letters, digits, '/', '_' and '-' after "alias/", at most 256 characters.
KMS_ALIAS = re.compile(r"alias/[A-Za-z0-9/_-]{1,250}")
CONFIG_SERVICE_LINKED_ROLE = (
    "arn:{partition}:iam::{account}:role/aws-service-role/config.amazonaws.com/"
    "AWSServiceRoleForConfig"
)


def retention_days(days: int) -> logs.RetentionDays:
    """CDK's enum member for ``days`` (its members list the same periods in the same order; the
    template test checks RetentionInDays)."""
    return dict(zip(LOG_RETENTION_DAYS, logs.RetentionDays, strict=False))[days]


def construct_id(rule_id: str) -> str:
    """``lambda-dlq-check`` -> ``LambdaDlqCheck``."""
    return "".join(part.capitalize() for part in rule_id.split("-"))


def key_alias(stack_name: str) -> str:
    """The stack key's alias: one per stack name, so two instances (stack names are unique per
    account and region) never collide, and never in AWS's reserved ``alias/aws/``."""
    alias = f"alias/{stack_name}"
    if not KMS_ALIAS.fullmatch(alias) or alias.lower().startswith(AWS_MANAGED_ALIAS_PREFIX):
        raise ValueError(f"stack name {stack_name!r} makes {alias!r}, not a valid KMS alias")
    return alias


def rule_function_key(stack: cdk.Stack, alias: str | None = None) -> kms.Key:
    """The key of the rule functions' environment, log groups and dead-letter queue; CloudWatch
    Logs may use it for this account's log groups only. ``alias`` defaults to
    ``key_alias(stack.stack_name)``."""
    key = kms.Key(
        stack,
        "Key",
        alias=alias or key_alias(stack.stack_name),
        description="Lambda Guardrails: the rule functions' environment, logs, DLQ",
        enable_key_rotation=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{cdk.Aws.REGION}.amazonaws.com")],
            actions=[
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:{cdk.Aws.PARTITION}:logs:{cdk.Aws.REGION}:"
                        f"{cdk.Aws.ACCOUNT_ID}:log-group:*"
                    )
                }
            },
        )
    )
    return key


def rule_function_options(
    stack: cdk.Stack,
    settings: Settings,
    *,
    function_code: lambda_.Code,
    key: kms.IKey,
    dead_letter_queue: sqs.IQueue,
    security_group_ids: Sequence[str],
) -> RuleFunctionOptions:
    """What every rule function of ``stack`` shares, from the settings; the Powertools layer is
    AWS's (or ``powertoolsLayerArn``)."""
    return RuleFunctionOptions(
        code=function_code,
        layer=lambda_.LayerVersion.from_layer_version_arn(
            stack, "Powertools", code.powertools_layer_arn(settings.powertools_layer_arn)
        ),
        key=key,
        dead_letter_queue=dead_letter_queue,
        reserved_concurrency=settings.reserved_concurrency,
        log_retention=retention_days(settings.log_retention_days),
        log_level=settings.log_level,
        security_hub_export=settings.security_hub_export,
        exemption_tag_key=settings.exemption_tag_key,
        exemptions_disabled=settings.exemptions_disabled,
        subnet_ids=settings.subnet_ids,
        security_group_ids=security_group_ids,
    )


def rule_dead_letter_queue(stack: cdk.Stack, key: kms.IKey) -> sqs.Queue:
    """Where Lambda puts a Config event the rule function failed on after its retries."""
    return sqs.Queue(
        stack,
        "DeadLetterQueue",
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        data_key_reuse=cdk.Duration.hours(1),
        enforce_ssl=True,
        retention_period=cdk.Duration.days(14),
    )


def acknowledge_outside_vpc(stack: cdk.Stack, rules: Iterable[ConfigLambdaRule]) -> None:
    """No subnetIds: the functions run outside a VPC, which the synth says and NIST's
    LambdaInsideVPC acknowledges with that reason."""
    cdk.Annotations.of(stack).add_warning_v2(
        NOT_IN_VPC_WARNING,
        "The rule functions run outside a VPC (context subnetIds is empty), so they are "
        "NON_COMPLIANT with lambda-inside-vpc. Set -c vpcId=... -c subnetIds=... (or, in the "
        "organization mode, -c subnetIds=... -c securityGroupIds=...) to run them in private "
        "subnets (recommended).",
    )
    for rule in rules:
        acknowledge(
            rule.function,
            "LambdaInsideVPC",
            None,
            "Outside a VPC by configuration (no subnetIds); the synth warns and the README "
            "recommends subnets",
            pack=NIST,
        )


def access_log_bucket(scope: Construct, construct_id: str) -> s3.Bucket:
    """A bucket S3 server access logs go to: SSE-S3 (log delivery cannot use SSE-KMS), private,
    TLS only, versioned, retained."""
    bucket = s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    acknowledge(
        bucket,
        "S3DefaultEncryptionKMS",
        None,
        "S3 server access logging delivers only to SSE-S3 buckets, not SSE-KMS",
        pack=NIST,
    )
    return bucket


def log_access(bucket: s3.Bucket, destination: s3.Bucket, prefix: str) -> None:
    """S3 server access logging of ``bucket`` into ``destination`` through the destination's
    bucket policy (the log-delivery ACL is impossible with BucketOwnerEnforced). Written out
    rather than left to ``server_access_logs_bucket``, whose permissions depend on the app's
    ``@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy`` flag (without it: an ACL, and a
    synth error)."""
    cfn_bucket = bucket.node.default_child
    assert isinstance(cfn_bucket, s3.CfnBucket)
    cfn_bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
        destination_bucket_name=destination.bucket_name, log_file_prefix=prefix
    )
    destination.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=[destination.arn_for_objects(f"{prefix}*")],
            conditions={
                "ArnLike": {"aws:SourceArn": bucket.bucket_arn},
                "StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID},
            },
        )
    )


class GuardrailsStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id_: str,
        *,
        settings: Settings,
        code_source: code.CodeSource = code.asset_code,
        key_alias_name: str | None = None,
        runbook_attachment: AttachmentSource | None = None,
        **kwargs: Any,
    ) -> None:
        """``key_alias_name``: the key's alias when the deployed stack's name is not this
        stack's (a StackSet names its stacks ``StackSet-<name>-<id>``); ``runbook_attachment``:
        where the runbooks attach the rules package from (default: a CDK asset, as the code)."""
        super().__init__(scope, construct_id_, **kwargs)
        self.settings = settings
        self.key = rule_function_key(self, key_alias_name)
        self.dead_letter_queue = rule_dead_letter_queue(self, self.key)

        depends_on: list[cdk.CfnResource] = []
        if settings.create_config_recorder:
            depends_on.extend(self._config_recorder())
        hub: list[cdk.CfnResource] = []
        if settings.enable_security_hub:
            hub.append(
                securityhub.CfnHub(
                    self, "SecurityHub", enable_default_standards=False, auto_enable_controls=True
                )
            )

        options = rule_function_options(
            self,
            settings,
            function_code=code_source(self),
            key=self.key,
            dead_letter_queue=self.dead_letter_queue,
            security_group_ids=self._security_group_ids(),
        )
        self.rules = {
            rule_id: ConfigLambdaRule(
                self,
                construct_id(rule_id),
                rule=RULES_BY_ID[rule_id],
                name=settings.config_rule_name(rule_id),
                options=options,
                periodic_frequency=settings.periodic_frequency_of(rule_id),
                input_parameters=settings.rule_parameters.get(rule_id),
                depends_on=depends_on,
                extra_statements=decrypt_statements(
                    RULES_BY_ID[rule_id], settings.secrets_rule_kms_key_arns
                ),
            )
            for rule_id in settings.rule_ids
        }
        # Issue 12: the CloudFormation deployment hook (context deploymentHook), same options.
        self.deployment_hook: DeploymentHook | None = None
        if settings.deployment_hook != "off":
            self.deployment_hook = DeploymentHook(
                self,
                "DeploymentHook",
                options=options,
                mode=settings.deployment_hook,
                rule_ids=settings.rule_ids,
                rule_parameters=settings.rule_parameters,
            )
        self.alarms = GuardrailsAlarms(
            self,
            "Alarms",
            rules=list(self.rules.values()),
            dead_letter_queue=self.dead_letter_queue,
            topic_arn=settings.alarm_topic_arn,
        )
        self.dashboard = GuardrailsDashboard(
            self,
            "Dashboard",
            rules=list(self.rules.values()),
            dead_letter_queue=self.dead_letter_queue,
            alarms=self.alarms.alarms,
        )
        if settings.security_hub_export:  # no findings, nothing for an insight to show
            self.insights = GuardrailsInsights(
                self,
                "Insights",
                config_rule_names={rule_id: rule.name for rule_id, rule in self.rules.items()},
                depends_on=hub,
            )
        if settings.remediation:
            self.remediation = add_remediation(
                self,
                settings,
                self.rules,
                hub,
                code_source,
                attachment_source=runbook_attachment,
            )
        if settings.security_hub_aggregation_regions is not None:
            FindingAggregator(
                self,
                "FindingAggregator",
                regions=settings.security_hub_aggregation_regions,
                depends_on=hub,
            )
        if not settings.in_vpc:
            acknowledge_outside_vpc(self, self.rules.values())
        for rule_id, deployed in self.rules.items():
            default = deployed.rule.default_periodic_frequency
            if default and settings.periodic_frequency_of(rule_id) is None:
                cdk.Annotations.of(deployed).add_warning_v2(
                    NO_SWEEP_WARNING,
                    f"{rule_id} sweeps {default} by default because Config sends no change "
                    "event for part of what it checks; with rulePeriodicFrequency off, that "
                    "part is evaluated only by `python -m rules scan`.",
                )
        for key, value in settings.tags.items():
            cdk.Tags.of(self).add(key, value)

    def _security_group_ids(self) -> list[str]:
        settings = self.settings
        if not settings.in_vpc:
            return []
        if settings.security_group_ids:
            return list(settings.security_group_ids)
        group = ec2.CfnSecurityGroup(
            self,
            "FunctionSecurityGroup",
            group_description="Lambda Guardrails rule functions: HTTPS to AWS APIs only",
            vpc_id=settings.vpc_id or "",
            security_group_egress=[
                ec2.CfnSecurityGroup.EgressProperty(
                    ip_protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_ip="0.0.0.0/0",
                    description="HTTPS to the AWS Config, Lambda and Security Hub APIs",
                )
            ],
        )
        return [group.attr_group_id]

    def _config_recorder(self) -> list[cdk.CfnResource]:
        """A recorder for Lambda functions and its delivery channel, for accounts with none."""
        access_logs = access_log_bucket(self, "ConfigAccessLogs")
        bucket = s3.Bucket(
            self,
            "ConfigBucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        log_access(bucket, access_logs, ACCESS_LOG_PREFIX)
        for scope in (bucket, access_logs):
            acknowledge(
                scope,
                "S3BucketReplicationEnabled",
                None,
                "Configuration history is rebuilt by the recorder; cross-region replication is "
                "the account owner's choice",
                pack=NIST,
            )
        config_principal = iam.ServicePrincipal("config.amazonaws.com")
        source_account = {"StringEquals": {"AWS:SourceAccount": cdk.Aws.ACCOUNT_ID}}
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[config_principal],
                actions=["s3:GetBucketAcl", "s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions=source_account,
            )
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[config_principal],
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"AWSLogs/{cdk.Aws.ACCOUNT_ID}/Config/*")],
                conditions=source_account,
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[config_principal],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions=source_account,
            )
        )
        recorder = config.CfnConfigurationRecorder(
            self,
            "ConfigRecorder",
            role_arn=CONFIG_SERVICE_LINKED_ROLE.format(
                partition=cdk.Aws.PARTITION, account=cdk.Aws.ACCOUNT_ID
            ),
            recording_group=config.CfnConfigurationRecorder.RecordingGroupProperty(
                all_supported=False,
                include_global_resource_types=False,
                resource_types=[RESOURCE_TYPE],
            ),
        )
        channel = config.CfnDeliveryChannel(
            self,
            "ConfigDeliveryChannel",
            s3_bucket_name=bucket.bucket_name,
            s3_kms_key_arn=self.key.key_arn,
        )
        channel.add_resource_dependency(recorder)
        return [recorder, channel]
