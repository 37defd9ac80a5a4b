"""``deploymentMode=stacksets``: from the management or delegated-administrator account, the rule
stack in every account of ``targetOuIds`` and every region of ``targetRegions``.

- ``<name>-Code-<region>``, one per target region, in the administrator account: an S3 bucket the
  organization may read, holding the ``rules`` package as ``<asset hash>.zip`` (Lambda reads a
  function's code only from a bucket in the function's region), and the remediation runbooks'
  attachment (``infra.remediation.rules_zip``, byte for byte) as ``<its asset hash>.zip``.
  CloudFormation creating an ``AWS::SSM::Document`` reads its ``S3FileUrl`` attachment with
  the caller's credentials (the resource type's create and update handlers need
  ``s3:GetObject``): in a member account, the StackSets execution role, a principal of the
  organization, which the bucket policy lets read ``*.zip``.
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
from infra.remediation import AttachmentSource, RunbookAttachment, rules_zip
from infra.security_hub import FindingAggregator, GuardrailsInsights
from infra.settings import Settings, SettingsError
from infra.stack import GuardrailsStack, access_log_bucket, log_access, retention_days
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
    if settings.remediation and settings.remediation_custom_action not in (None, "create"):
        raise SettingsError(
            "remediationCustomAction: an ARN names one account's custom action, and the "
            "StackSet deploys the same template to every target account: use create (each "
            "account gets its own) or off"
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


def code_account(scope: Construct) -> str:
    """The template's ``CodeBucketAccount`` parameter (created on first use): the administrator
    account, whose code buckets hold the code and the runbooks' attachment."""
    stack = cdk.Stack.of(scope)
    parameter = stack.node.try_find_child(CODE_ACCOUNT_PARAMETER)
    if parameter is None:
        parameter = cdk.CfnParameter(
            stack,
            CODE_ACCOUNT_PARAMETER,
            type="String",
            allowed_pattern=r"\d{12}",
            description="The administrator account, whose code buckets hold the code and the "
            "runbooks' attachment",
        )
        parameter.override_logical_id(CODE_ACCOUNT_PARAMETER)
    assert isinstance(parameter, cdk.CfnParameter)
    account: str = parameter.value_as_string
    return account


def shared_bucket_name(scope: Construct, instance: str) -> str:
    """The code bucket of the deploying region in the ``CodeBucketAccount`` account."""
    name: str = cdk.Fn.sub(
        code_bucket_name(instance, "${Account}", "${AWS::Region}"),
        {"Account": code_account(scope)},
    )
    return name


def shared_bucket_attachment(instance: str, key: str, sha256: str) -> AttachmentSource:
    """The runbooks' attachment as ``key`` in the code bucket of the deploying region."""

    def bind(stack: Construct) -> RunbookAttachment:
        return RunbookAttachment(f"s3://{shared_bucket_name(stack, instance)}/{key}", sha256)

    return bind


def shared_bucket_code(instance: str, key: str) -> code.CodeSource:
    """The rule code as ``key`` in the code bucket of the deploying region, in the account
    given by the template's ``CodeBucketAccount`` parameter."""

    def bind(stack: Construct) -> lambda_.Code:
        name = shared_bucket_name(stack, instance)
        bucket = s3.Bucket.from_bucket_name(stack, "CodeBucket", name)
        cdk.Annotations.of(bucket).acknowledge_warning(
            "@aws-cdk/aws-lambda:codeFromBucketObjectVersionNotSpecified",
            "The key is the code's content hash: new code is a new key, so a new template",
        )
        return lambda_.Code.from_bucket(bucket, key)

    return bind


class CodeBucketStack(cdk.Stack):
    """One target region's code bucket in the administrator account, and its upload: the rule
    code (``rule_code``) and, with ``remediation`` on, the runbooks' attachment. A stack without
    an explicit region makes the bucket of the region it is deployed to (the bucket name holds
    ``AWS::Region``, at most 16 characters: within S3's 63)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        instance: str,
        settings: Settings,
        rule_code: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        if settings.organization_id is None:
            raise SettingsError(
                f"deploymentMode {settings.deployment_mode} needs organizationId (o-...)"
            )
        access_logs = access_log_bucket(self, "AccessLogs")
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

        assets: list[s3_assets.Asset] = []
        self.code_key: str | None = None
        if rule_code:
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
            assets.append(asset)
        self.attachment_key: str | None = None
        self.attachment_sha256: str | None = None
        if settings.remediation:
            path, self.attachment_sha256 = rules_zip()
            attachment = s3_assets.Asset(self, "RunbookAttachment", path=str(path))
            # Content-addressed as the code: a new package is a new key and a new SHA-256 in
            # the member template's documents (SSM checks the copy against it).
            self.attachment_key = Path(attachment.s3_object_key).name
            assets.append(attachment)
        if not assets:
            raise ValueError(f"{construct_id}: a code bucket stack with nothing to upload")
        self._deploy(assets, settings)

    def _deploy(self, assets: Sequence[s3_assets.Asset], settings: Settings) -> None:
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
            description="Copies the rule code and runbook attachment assets into the "
            "organization's code bucket",
            statements=[
                iam.PolicyStatement(
                    actions=["s3:GetObject"],
                    resources=[a.bucket.arn_for_objects(a.s3_object_key) for a in assets],
                ),
                iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn]),
                iam.PolicyStatement(
                    actions=["s3:PutObject"],
                    resources=[
                        self.bucket.arn_for_objects(Path(a.s3_object_key).name) for a in assets
                    ],
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
            sources=[s3_deployment.Source.bucket(a.bucket, a.s3_object_key) for a in assets],
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


def same_in_every_region(code_stacks: Sequence[CodeBucketStack], attribute: str) -> str:
    """An upload's key (or SHA-256), which every region's code stack must agree on: the member
    template is one for all regions."""
    values = {getattr(stack, attribute) for stack in code_stacks}
    if len(values) != 1 or None in values:
        raise ValueError(f"the code stacks disagree on {attribute}: {sorted(map(str, values))}")
    (value,) = values
    return str(value)


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
    key = same_in_every_region(code_stacks, "code_key")
    runbook_attachment: AttachmentSource | None = None
    if settings.remediation:
        runbook_attachment = shared_bucket_attachment(
            name,
            same_in_every_region(code_stacks, "attachment_key"),
            same_in_every_region(code_stacks, "attachment_sha256"),
        )
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
        # The runbooks attach the rules zip from the same buckets.
        runbook_attachment=runbook_attachment,
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
