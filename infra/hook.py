"""The deployment hook: a CloudFormation Lambda hook that runs the rules before every Lambda
function, permission and function URL CloudFormation or Cloud Control creates or updates.

One construct: the hook's function (the ``rules`` package's ``rules.hook.lambda_handler``, with
the rule functions' code, layer, key, dead-letter queue, concurrency and subnets, so it passes
the rules it runs), its role (logs, X-Ray, the queue and the key, and the reads of
``rules.permissions.hook_grants`` for the rules it runs: ``kms:DescribeKey`` on the account's
keys for the CMK rule, ``ec2:DescribeSubnets`` for the multi-AZ rule), the execution role
CloudFormation hooks assume to invoke it, and the ``AWS::CloudFormation::LambdaHook``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudformation as cloudformation
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.nag import NIST, acknowledge
from infra.rule_construct import (
    VPC_ACTIONS,
    VPC_WHY,
    XRAY_WHY,
    RuleFunctionOptions,
    grant_statement,
    guardrails_function,
    nag_resource,
    platform_statements,
)
from rules.hook import MODE_VARIABLE, PARAMETERS_VARIABLE, RULES_VARIABLE
from rules.permissions import hook_grants
from rules.registry import RULES_BY_ID

HANDLER = "rules.hook.lambda_handler"
HOOK_SERVICE = "hooks.cloudformation.amazonaws.com"
TARGET_NAMES = ("AWS::Lambda::Function", "AWS::Lambda::Permission", "AWS::Lambda::Url")
# CloudFormation stacks and Cloud Control API calls: a function created outside a stack through
# Cloud Control is gated too. (STACK and CHANGE_SET hooks get the whole template instead.)
TARGET_OPERATIONS = ("RESOURCE", "CLOUD_CONTROL")
ACTIONS = ("CREATE", "UPDATE")
INVOCATION_POINTS = ("PRE_PROVISION",)
FAILURE_MODES = {"warn": "WARN", "fail": "FAIL"}
# CloudFormation waits 30 seconds for the function's answer: it must answer before that.
TIMEOUT = cdk.Duration.seconds(25)
ENVIRONMENT_LIMIT = 4096  # bytes: Lambda's limit on all of a function's variables together
# The hook's alias is "<organization>::<service>::<name>", letters and digits only, 2-64 each,
# unique per account and region, never starting with "AWS". The name holds the stack id's UUID
# (without its hyphens): unique per stack, so two instances or a second deployment never collide,
# and stable across the stack's updates (the alias can only be set on creation).
ALIAS_PREFIX = ("LambdaGuardrails", "DeploymentHook")
ALIAS_NAME_PREFIX = "Stack"


def stack_uuid() -> str:
    """The stack id's UUID without hyphens (32 hexadecimal digits), resolved by CloudFormation."""
    stack_part = cdk.Fn.select(2, cdk.Fn.split("/", cdk.Aws.STACK_ID))
    joined: str = cdk.Fn.join("", cdk.Fn.split("-", stack_part))
    return joined


def hook_alias() -> str:
    alias: str = cdk.Fn.join("::", [*ALIAS_PREFIX, ALIAS_NAME_PREFIX + stack_uuid()])
    return alias


def hook_environment(
    rule_ids: Sequence[str], rule_parameters: Mapping[str, Mapping[str, str]], mode: str
) -> dict[str, str]:
    """What ``rules.hook`` reads: the enabled rules, their parameters (the same context keys as
    the Config rules'), the mode. Raises ValueError beyond Lambda's 4 KB."""
    variables = {
        RULES_VARIABLE: ",".join(rule_ids),
        PARAMETERS_VARIABLE: json.dumps(
            {
                rule_id: dict(rule_parameters[rule_id])
                for rule_id in rule_ids
                if rule_id in rule_parameters
            },
            separators=(",", ":"),
            sort_keys=True,
        ),
        MODE_VARIABLE: mode,
    }
    size = sum(len(k.encode()) + len(v.encode()) for k, v in variables.items())
    if size > ENVIRONMENT_LIMIT // 2:  # room for the Powertools variables beside them
        raise ValueError(
            f"deploymentHook: ruleParameters make the hook function's environment {size} bytes; "
            f"Lambda allows {ENVIRONMENT_LIMIT} for all its variables"
        )
    return variables


class DeploymentHook(Construct):
    """The hook function, its roles and the ``AWS::CloudFormation::LambdaHook``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        options: RuleFunctionOptions,
        mode: str,
        rule_ids: Sequence[str],
        rule_parameters: Mapping[str, Mapping[str, str]],
    ) -> None:
        super().__init__(scope, construct_id)
        if mode not in FAILURE_MODES:
            raise ValueError(f"deployment hook mode {mode!r} is not one of {list(FAILURE_MODES)}")
        in_vpc = bool(options.subnet_ids)
        self.reads = hook_grants([RULES_BY_ID[rule_id] for rule_id in rule_ids])
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=options.log_retention,
            encryption_key=options.key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # What the hook asks AWS for the rules it runs (rules.permissions.hook_grants).
        statements = [
            *platform_statements(self.log_group, options),
            *(grant_statement(grant) for grant in self.reads),
        ]
        if in_vpc:
            statements.append(iam.PolicyStatement(actions=list(VPC_ACTIONS), resources=["*"]))
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="What the deployment hook's function calls (its reads: "
            + (", ".join(a for grant in self.reads for a in grant.actions) or "none")
            + ")",
            statements=statements,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Runs the Lambda Guardrails deployment hook's function",
            managed_policies=[self.policy],
        )
        self.function = guardrails_function(
            self,
            options,
            role=self.role,
            log_group=self.log_group,
            description="Lambda Guardrails deployment hook: the rules before CloudFormation",
            handler=HANDLER,
            timeout=TIMEOUT,
            environment=hook_environment(rule_ids, rule_parameters, mode),
        )
        # The hook is active once created: its role (which references its invoke policy, so is
        # created after it) must already be allowed to invoke; the hook references the role.
        self.execution_role = self._execution_role()
        self.hook = cloudformation.CfnLambdaHook(
            self,
            "Hook",
            alias=hook_alias(),
            execution_role=self.execution_role.role_arn,
            failure_mode=FAILURE_MODES[mode],
            hook_status="ENABLED",
            lambda_function=self.function.function_arn,
            target_operations=list(TARGET_OPERATIONS),
            # Each (type, action) spelled out: CDK's TargetFilters takes the Targets form.
            target_filters=cloudformation.CfnLambdaHook.TargetFiltersProperty(
                targets=[
                    cloudformation.CfnLambdaHook.HookTargetProperty(
                        target_name=name, action=action, invocation_point=point
                    )
                    for name in TARGET_NAMES
                    for action in ACTIONS
                    for point in INVOCATION_POINTS
                ]
            ),
        )
        self._acknowledge(in_vpc)

    def _execution_role(self) -> iam.Role:
        """Trusts only CloudFormation hooks of this account; may invoke the hook's function and
        nothing else.

        The trust is what AWS documents, nothing guessed: a wrong condition would stop
        CloudFormation assuming the role, and with ``fail`` block every Lambda deployment of
        the account. The Lambda Hook guide ("Prepare to create a Lambda Hook", execution role
        trust policy) and the ``AWS::CloudFormation::LambdaHook`` template example trust
        ``hooks.cloudformation.amazonaws.com`` with no condition; the hooks user guide's
        execution role for hooks (custom hooks, the same service principal) adds
        ``aws:SourceAccount`` = the account, which this role keeps ("the account as source").
        Its ``aws:SourceArn`` (``type/hook/<type name>/*``) is documented for registered hook
        types only, not for a Lambda hook's alias: left out."""
        invoke = iam.ManagedPolicy(
            self,
            "InvokePolicy",
            description="CloudFormation hooks invoke the deployment hook's function",
            statements=[
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunction"], resources=[self.function.function_arn]
                )
            ],
        )
        return iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal(HOOK_SERVICE).with_conditions(
                {"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}}
            ),
            description="CloudFormation hooks assume it to invoke the deployment hook's function",
            managed_policies=[invoke],
        )

    def _acknowledge(self, in_vpc: bool) -> None:
        anywhere = [grant.why for grant in self.reads if grant.resource == "*"]
        why = "; ".join(filter(None, (XRAY_WHY, VPC_WHY if in_vpc else None, *anywhere)))
        acknowledge(self.policy, "IAM5", "Resource::*", why)
        for grant in self.reads:
            if grant.resource != "*" and "*" in grant.resource:
                acknowledge(
                    self.policy,
                    "IAM5",
                    f"Resource::{nag_resource(grant.resource)}",
                    "The hook judges resources it cannot know in advance: " + grant.why,
                )
        if not in_vpc:
            acknowledge(
                self.function,
                "LambdaInsideVPC",
                None,
                "Outside a VPC by configuration (no subnetIds), like the rule functions; the "
                "synth warns and the README recommends subnets",
                pack=NIST,
            )
