"""``deploymentMode=stacksets``: from the management or delegated-administrator account, the rule
stack in every account of ``targetOuIds`` and every region of ``targetRegions``.

- ``<name>-Code-<region>``, one per target region, in the administrator account: an S3 bucket the
  organization may read, holding the ``rules`` package as ``<asset hash>.zip`` (Lambda reads a
  function's code only from a bucket in the function's region).
- ``<name>``: the StackSet, deploying the member template, after every code stack.
- The member template is ``GuardrailsStack`` itself, synthesized once in its own stage
  (``<name>Member``) with no bootstrap dependency: its code comes from the code buckets, its
  Powertools layer from AWS's public SSM parameter, and it has no asset parameter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from infra import code
from infra.aggregator import OrganizationAggregator, aggregator_name
from infra.nag import AWS_SOLUTIONS, NIST, acknowledge
from infra.security_hub import FindingAggregator, GuardrailsInsights
from infra.settings import Settings, SettingsError
from infra.stack import GuardrailsStack, log_access, retention_days
from infra.stackset import ServiceManagedStackSet, StackSetTemplate, synthesize_stack

CODE_BUCKET_STEM = "lambda-guardrails-code"
BUCKET_NAME_MAX = 63  # S3 bucket names: 3-63 lowercase letters, digits, dots and hyphens
ACCOUNT_PLACEHOLDER = "000000000000"  # an account id's length, for the name length check
# The member template's one parameter: the administrator account, whose code buckets it reads.
CODE_ACCOUNT_PARAMETER = "CodeBucketAccount"
ACCESS_LOG_PREFIX = "code-bucket/"
DEPLOY_ACTIONS_WHY = (
    "the code deployment reads one asset object and writes one code object; "
    "`aws s3 sync` also lists the destination bucket"
)


def instance_suffix(instance: str) -> str:
    """Eight hex digits unique to the deployment ``instance`` (its administrator stack name):
    two instances in one account never share a bucket name."""
    return hashlib.sha256(instance.encode()).hexdigest()[:8]


def code_bucket_name(instance: str, account: str, region: str) -> str:
    """``lambda-guardrails-code-<account>-<region>-<instance hash>``: S3 names are global, so
    the name holds the account, the region and the instance. ``account`` and ``region`` may be
    CloudFormation tokens or ``${...}`` placeholders for ``Fn::Sub``."""
    return f"{CODE_BUCKET_STEM}-{account}-{region}-{instance_suffix(instance)}"


def check_bucket_names(instance: str, regions: Sequence[str]) -> None:
    for region in regions:
        name = code_bucket_name(instance, ACCOUNT_PLACEHOLDER, region)
        if len(name) > BUCKET_NAME_MAX:
            raise SettingsError(
                f"targetRegions: {region} makes the code bucket name {name!r} "
                f"{len(name)} characters long, S3 allows {BUCKET_NAME_MAX}"
            )


def refuse_account_specific(settings: Settings) -> None:
    """Context values that name one account's or one region's resources cannot be deployed to
    every account and region."""
    if settings.subnet_ids or settings.vpc_id or settings.security_group_ids:
        raise SettingsError(
            "deploymentMode stacksets: subnetIds / vpcId / securityGroupIds name one account's "
            "VPC, and the StackSet deploys the same template to every target account"
        )
    topic = settings.alarm_topic_arn
    if topic is not None:
        topic_region = topic.split(":")[3]
        others = [r for r in settings.target_regions if r != topic_region]
        if others:
            raise SettingsError(
                f"alarmTopicArn: the topic is in {topic_region}, and CloudWatch alarms notify "
                f"only a topic in their own region (targetRegions has {', '.join(others)})"
            )


def shared_bucket_code(instance: str, key: str) -> code.CodeSource:
    """The rule code as ``key`` in the code bucket of the deploying region, in the account
    given by the template's ``CodeBucketAccount`` parameter."""

    def bind(stack: Construct) -> lambda_.Code:
        account = cdk.CfnParameter(
            stack,
            CODE_ACCOUNT_PARAMETER,
            type="String",
            allowed_pattern=r"\d{12}",
            description="The StackSet administrator account, whose code buckets hold the code",
        )
        account.override_logical_id(CODE_ACCOUNT_PARAMETER)
        name = cdk.Fn.sub(
            code_bucket_name(instance, "${Account}", "${AWS::Region}"),
            {"Account": account.value_as_string},
        )
        bucket = s3.Bucket.from_bucket_name(stack, "CodeBucket", name)
        cdk.Annotations.of(bucket).acknowledge_warning(
            "@aws-cdk/aws-lambda:codeFromBucketObjectVersionNotSpecified",
            "The key is the code's content hash: new code is a new key, so a new template",
        )
        return lambda_.Code.from_bucket(bucket, key)

    return bind


class CodeBucketStack(cdk.Stack):
    """One target region's code bucket in the administrator account, and its upload."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        instance: str,
        settings: Settings,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        if cdk.Token.is_unresolved(self.region):
            raise ValueError(f"{construct_id}: a code bucket stack needs an explicit region")
        if settings.organization_id is None:
            raise SettingsError("deploymentMode stacksets needs organizationId (o-...)")
        access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            access_logs,
            "S3DefaultEncryptionKMS",
            None,
            "S3 server access logging delivers only to SSE-S3 buckets, not SSE-KMS",
            pack=NIST,
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=code_bucket_name(instance, cdk.Aws.ACCOUNT_ID, self.region),
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.bucket,
            "S3DefaultEncryptionKMS",
            None,
            "Member accounts read the code cross-account: with SSE-KMS every account's "
            "deployment role would also need the key, and the AWS managed aws/s3 key cannot "
            "be shared at all; the objects are code, not data",
            pack=NIST,
        )
        for bucket in (self.bucket, access_logs):
            acknowledge(
                bucket,
                "S3BucketReplicationEnabled",
                None,
                "The code is rebuilt from the repository by cdk deploy; each target region has "
                "its own bucket already",
                pack=NIST,
            )
        log_access(self.bucket, access_logs, ACCESS_LOG_PREFIX)
        # Who reads: CloudFormation creating the function in a member account, as the
        # StackSets execution role of that account; only principals of the organization.
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OrganizationReadsCode",
                principals=[iam.AnyPrincipal()],
                actions=["s3:GetObject"],
                resources=[self.bucket.arn_for_objects("*.zip")],
                conditions={"StringEquals": {"aws:PrincipalOrgID": settings.organization_id}},
            )
        )

        asset = s3_assets.Asset(
            self,
            "Code",
            path=str(code.ROOT),
            exclude=list(code.ASSET_EXCLUDE),
            ignore_mode=cdk.IgnoreMode.GLOB,
        )
        # Content-addressed: a code change is a new key, so a new member template, so a
        # StackSet update; the old keys stay for stacks that roll back.
        self.code_key = Path(asset.s3_object_key).name
        self._deploy(asset, settings)

    def _deploy(self, asset: s3_assets.Asset, settings: Settings) -> None:
        log_group = logs.LogGroup(
            self,
            "DeployLogs",
            retention=retention_days(settings.log_retention_days),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            log_group,
            "CloudWatchLogGroupEncrypted",
            None,
            "Holds only the code upload's progress lines (bucket and key names), no data",
            pack=NIST,
        )
        # The exact permissions of the upload; the role is passed immutable so that the
        # construct's own broad grants (read-write on both buckets) are not added.
        policy = iam.ManagedPolicy(
            self,
            "DeployPolicy",
            description="Copies the rule code asset into the organization's code bucket",
            statements=[
                iam.PolicyStatement(
                    actions=["s3:GetObject"],
                    resources=[asset.bucket.arn_for_objects(asset.s3_object_key)],
                ),
                iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn]),
                iam.PolicyStatement(
                    actions=["s3:PutObject"],
                    resources=[self.bucket.arn_for_objects(self.code_key)],
                ),
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[log_group.log_group_arn],
                ),
            ],
        )
        role = iam.Role(
            self,
            "DeployRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Uploads the Lambda Guardrails rule code to the code bucket",
            managed_policies=[policy],
        )
        self.deployment = s3_deployment.BucketDeployment(
            self,
            "Deploy",
            sources=[s3_deployment.Source.bucket(asset.bucket, asset.s3_object_key)],
            destination_bucket=self.bucket,
            extract=False,
            prune=False,
            retain_on_delete=True,
            role=role.without_policy_updates(),
            log_group=log_group,
        )
        handler = next(
            child
            for child in self.node.children
            if child.node.id.startswith("Custom::CDKBucketDeployment")
        )
        for rule, pack, why in (
            (
                "L1",
                AWS_SOLUTIONS,
                "aws-cdk-lib's BucketDeployment handler runs on the runtime aws-cdk-lib ships and "
                "tests it with; it moves with aws-cdk-lib upgrades",
            ),
            (
                "LambdaConcurrency",
                NIST,
                "Invoked only by CloudFormation, once per deployment of this stack",
            ),
            (
                "LambdaDLQ",
                NIST,
                "A CloudFormation custom resource: a failed copy fails the deployment, which "
                "is the signal; there is no event to keep",
            ),
            (
                "LambdaInsideVPC",
                NIST,
                "Copies one object between two S3 buckets of this account through S3's "
                "endpoint; it reaches nothing else",
            ),
        ):
            acknowledge(handler, rule, None, why, pack=pack)


class StackSetsAdminStack(cdk.Stack):
    """The StackSet of the member rule stack, for the management or delegated-admin account."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        member: GuardrailsStack,
        code_stacks: Sequence[CodeBucketStack],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        for code_stack in code_stacks:
            self.add_stack_dependency(
                code_stack, "the StackSet deploys only after the code buckets hold the code"
            )
        synthesized = synthesize_stack(member)
        self.member_template = synthesized.template
        template = StackSetTemplate.of(
            self, "MemberTemplate", synthesized.template, synthesized.path
        )
        self.stack_set = ServiceManagedStackSet(
            self,
            "Rules",
            template=template,
            regions=settings.target_regions,
            settings=settings,
            description="Lambda Guardrails: AWS Config custom rules for Lambda functions",
            parameters={CODE_ACCOUNT_PARAMETER: cdk.Aws.ACCOUNT_ID},
        )
        # What the organization needs once, from the administrator's account and region.
        self.aggregator = OrganizationAggregator(
            self,
            "Aggregator",
            name=aggregator_name(settings.rule_name_prefix),
            regions=settings.target_regions,
        )
        if settings.security_hub_export:
            # With this account as Security Hub's delegated administrator, every member
            # account's findings are visible here too.
            self.insights = GuardrailsInsights(
                self,
                "Insights",
                config_rule_names={
                    rule_id: settings.config_rule_name(rule_id) for rule_id in settings.rule_ids
                },
            )
        if settings.security_hub_aggregation_regions is not None:
            FindingAggregator(
                self, "FindingAggregator", regions=settings.security_hub_aggregation_regions
            )


def build_stacksets(app: cdk.App, name: str, settings: Settings) -> StackSetsAdminStack:
    """The stacks of the mode, named after the administrator stack ``name``."""
    refuse_account_specific(settings)
    check_bucket_names(name, settings.target_regions)
    code_stacks = [
        CodeBucketStack(
            app,
            f"{name}-Code-{region}",
            instance=name,
            settings=settings,
            env=cdk.Environment(region=region),
            description=f"Lambda Guardrails: the rule code for {region}, readable by the "
            "organization",
        )
        for region in settings.target_regions
    ]
    keys = {stack.code_key for stack in code_stacks}
    if len(keys) != 1:
        raise ValueError(f"the code stacks disagree on the code key: {sorted(keys)}")
    (key,) = keys
    member = GuardrailsStack(
        cdk.Stage(app, f"{name}Member"),
        name,
        stack_name=name,
        # One finding aggregator per account: the administrator's stack has it, not every
        # member region.
        settings=replace(settings, security_hub_aggregation_regions=None),
        # Every StackSet stack is named StackSet-<StackSet name>-<id>: the alias follows it, so
        # it never meets the account mode's alias/LambdaGuardrails in the same account.
        key_alias_name=f"alias/{cdk.Aws.STACK_NAME}",
        code_source=shared_bucket_code(name, key),
        # No bootstrap in the member accounts: no BootstrapVersion parameter or rule, and the
        # synthesizer refuses any asset.
        synthesizer=cdk.BootstraplessSynthesizer(),
        analytics_reporting=False,
        description="Lambda Guardrails: AWS Config custom rules for Lambda functions "
        "(deployed by a StackSet)",
    )
    return StackSetsAdminStack(
        app,
        name,
        settings=settings,
        member=member,
        code_stacks=code_stacks,
        description="Lambda Guardrails: the StackSet deploying the rules to the organization",
    )
