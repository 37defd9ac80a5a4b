"""A service-managed CloudFormation StackSet: one template into every account of some
organizational units, in some regions, kept in step with the organization.

Service-managed: the StackSets service creates the execution role (``stacksets-exec-*``) in each
target account itself, so nothing has to be prepared there. Auto-deployment is on: an account
that joins a target OU gets the stack, one that leaves loses it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudformation as cloudformation
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from infra.settings import Settings

# CreateStackSet / UpdateStackSet: TemplateBody is 1 to 51,200 bytes; a bigger template must be
# given as TemplateURL (an S3 object).
TEMPLATE_BODY_LIMIT = 51_200
# CloudFormation resolves a dynamic reference wherever it appears in a template, inside a longer
# string too: one in an inline TemplateBody would be resolved in the administrator's stack, its
# value (a regional layer ARN, say) then deployed to every account and region.
DYNAMIC_REFERENCE = "{{resolve:"
# A StackSet name: letters, digits and hyphens, starting with a letter, at most 128 characters.
STACK_SET_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
REGION_CONCURRENCY_TYPES = ("PARALLEL", "SEQUENTIAL")
# Properties that give an IAM resource a fixed name: CAPABILITY_NAMED_IAM instead of
# CAPABILITY_IAM.
IAM_NAME_PROPERTIES = {
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
}


def minified(template: Mapping[str, Any]) -> str:
    """The template as CloudFormation receives it in TemplateBody: compact JSON."""
    return json.dumps(template, separators=(",", ":"))


def fits_inline(body: str, limit: int = TEMPLATE_BODY_LIMIT) -> bool:
    """Whether ``body`` can be a StackSet's TemplateBody: within ``limit`` (at most
    CloudFormation's 51,200 bytes) and free of dynamic references."""
    size = len(body.encode())
    return size <= min(limit, TEMPLATE_BODY_LIMIT) and DYNAMIC_REFERENCE not in body


def capabilities_for(template: Mapping[str, Any]) -> tuple[str, ...]:
    """The capabilities CloudFormation asks to be acknowledged for ``template``: IAM resources
    need CAPABILITY_IAM, named ones CAPABILITY_NAMED_IAM, a transform CAPABILITY_AUTO_EXPAND."""
    resources: Mapping[str, Any] = template.get("Resources", {})
    types = {resource["Type"] for resource in resources.values()}
    named = any(
        IAM_NAME_PROPERTIES.get(resource["Type"]) in resource.get("Properties", {})
        for resource in resources.values()
    )
    capabilities: list[str] = []
    if named:
        capabilities.append("CAPABILITY_NAMED_IAM")
    elif any(t.startswith("AWS::IAM::") for t in types):
        capabilities.append("CAPABILITY_IAM")
    if "Transform" in template:
        capabilities.append("CAPABILITY_AUTO_EXPAND")
    return tuple(capabilities)


@dataclass(frozen=True, slots=True)
class StackSetTemplate:
    """What the StackSet deploys: the template inline (``body``) or in S3 (``url``)."""

    capabilities: tuple[str, ...]
    body: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if (self.body is None) == (self.url is None):
            raise ValueError("a StackSet template is either a body or a URL")
        if self.body is not None and not fits_inline(self.body):
            raise ValueError(
                "this TemplateBody would break: over CloudFormation's "
                f"{TEMPLATE_BODY_LIMIT} bytes, or a dynamic reference the administrator's "
                "stack would resolve; give it as a URL"
            )

    @classmethod
    def of(
        cls,
        scope: Construct,
        construct_id: str,
        template: Mapping[str, Any],
        path: Path,
        *,
        limit: int = TEMPLATE_BODY_LIMIT,
    ) -> StackSetTemplate:
        """``template`` inline when its minified JSON fits (``fits_inline``), else the file
        ``path`` (the same template, as synthesized) as an S3 asset of ``scope``'s stack,
        uploaded by ``cdk deploy`` to the bootstrap bucket of the stack's account and region."""
        capabilities = capabilities_for(template)
        body = minified(template)
        if fits_inline(body, limit):
            return cls(capabilities=capabilities, body=body)
        asset = s3_assets.Asset(scope, construct_id, path=str(path))
        return cls(capabilities=capabilities, url=asset.http_url)


@dataclass(frozen=True, slots=True)
class SynthesizedTemplate:
    template: Mapping[str, Any]
    path: Path  # the template file in the cloud assembly


def synthesize_stack(stack: cdk.Stack) -> SynthesizedTemplate:
    """Synthesize the stage holding ``stack`` (not the app: a StackSet's template lives in a
    stage of its own, which ``cdk deploy --all`` does not deploy) and return its template."""
    stage = cdk.Stage.of(stack)
    if stage is None or isinstance(stage, cdk.App):
        raise ValueError(f"{stack.node.path}: a StackSet template's stack must be in a Stage")
    artifact = stage.synth().get_stack_artifact(stack.artifact_id)
    return SynthesizedTemplate(artifact.template, Path(artifact.template_full_path))


class ServiceManagedStackSet(Construct):
    """``AWS::CloudFormation::StackSet`` (SERVICE_MANAGED) deploying ``template`` to every account
    of ``settings.target_ou_ids`` in ``regions``, with the settings' operation preferences and
    ``CallAs: DELEGATED_ADMIN`` when ``settings.delegated_admin``.

    The StackSet is named ``<stack name>-<construct id>``: CloudFormation keeps stack names unique
    per account and region, as StackSet names must be."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        template: StackSetTemplate,
        regions: Sequence[str],
        settings: Settings,
        description: str,
        parameters: Mapping[str, str] | None = None,
        region_concurrency_type: str = "PARALLEL",
        excluded_accounts: Sequence[str] = (),
    ) -> None:
        """``excluded_accounts``: accounts of the OUs that get no stack (``AccountFilterType:
        DIFFERENCE``)."""
        super().__init__(scope, construct_id)
        if not regions:
            raise ValueError("a StackSet needs at least one region")
        if not settings.target_ou_ids:
            raise ValueError("a StackSet needs targetOuIds")
        if region_concurrency_type not in REGION_CONCURRENCY_TYPES:
            raise ValueError(
                f"region_concurrency_type {region_concurrency_type!r} is not one of "
                f"{', '.join(REGION_CONCURRENCY_TYPES)}"
            )
        name = f"{cdk.Stack.of(self).stack_name}-{construct_id}"
        if not STACK_SET_NAME.fullmatch(name):
            raise ValueError(f"StackSet name {name!r}: letters, digits, '-', at most 128")
        self.name = name
        self.stack_set = cloudformation.CfnStackSet(
            self,
            "Resource",
            stack_set_name=name,
            description=description,
            permission_model="SERVICE_MANAGED",
            call_as="DELEGATED_ADMIN" if settings.delegated_admin else "SELF",
            auto_deployment=cloudformation.CfnStackSet.AutoDeploymentProperty(
                enabled=True, retain_stacks_on_account_removal=False
            ),
            # One operation per StackSet at a time: CloudFormation queues the others instead
            # of failing them (an update while auto-deployment runs, for instance).
            managed_execution={"Active": True},
            capabilities=list(template.capabilities) or None,
            template_body=template.body,
            template_url=template.url,
            parameters=[
                cloudformation.CfnStackSet.ParameterProperty(parameter_key=k, parameter_value=v)
                for k, v in (parameters or {}).items()
            ]
            or None,
            operation_preferences=cloudformation.CfnStackSet.OperationPreferencesProperty(
                failure_tolerance_percentage=settings.failure_tolerance_percentage,
                max_concurrent_percentage=settings.max_concurrent_percentage,
                # Deploy at maxConcurrentPercentage as configured; the default
                # (STRICT_FAILURE_TOLERANCE) would cap it at failure tolerance + 1 accounts.
                concurrency_mode="SOFT_FAILURE_TOLERANCE",
                region_concurrency_type=region_concurrency_type,
            ),
            stack_instances_group=[
                cloudformation.CfnStackSet.StackInstancesProperty(
                    deployment_targets=cloudformation.CfnStackSet.DeploymentTargetsProperty(
                        organizational_unit_ids=list(settings.target_ou_ids),
                        accounts=list(excluded_accounts) or None,
                        account_filter_type="DIFFERENCE" if excluded_accounts else None,
                    ),
                    regions=list(regions),
                )
            ],
        )
