"""Remediation runbooks and what starts them: ``GuardrailsRemediation``.

Per runbook of the registry (``rules.remediation.runbooks``), for a deployed rule:

- ``AWS::SSM::Document``: an Automation runbook, schema 0.3, YAML text. Its one step is
  ``aws:executeScript`` (``python3.11``) whose ``Script`` is the runbook module's source, read
  byte for byte at synth time (no copy is kept by hand); its parameters are the registry's, plus
  ``AutomationAssumeRole`` (default: the runbook's own automation role) and ``DryRun`` (default
  ``true``, so a manual run only reports). Named ``<ruleNamePrefix><rule id>-remediation``:
  documents are regional and two instances in one account and region never share a prefix
  (their Config rules would collide first). ``UpdateMethod: NewVersion``: a named document's
  new content is a new default version, not a replacement (which CloudFormation refuses for a
  custom name).
- An automation role trusted by ``ssm.amazonaws.com`` for automations of this account and
  region only (``aws:SourceAccount``, ``aws:SourceArn`` ``automation-execution/*``), allowed
  exactly the runbook's grants: the actions its script calls.
- ``AWS::Config::RemediationConfiguration`` linking the rule (by the Config rule's name) to
  the document: ``FunctionName`` from the resource id (a Lambda function's Config resource id
  is its name), the role and ``DryRun=false`` as static values (a remediation started from
  Config is a decision to fix). Manual unless the rule is in ``autoRemediate`` with the
  ``config`` trigger: then automatic, with ``MaximumAutomaticAttempts`` and
  ``RetryAttemptSeconds``.
- With ``autoRemediateTrigger=findings`` instead, the automatic path is an EventBridge rule on
  ``Security Hub Findings - Imported`` matching this deployment's FAILED, ACTIVE, unsuppressed
  findings of the rule; Config's remediation stays manual, so a FAILED function never starts
  two runs.
- A rule is given as a ``RemediatedRule``: its Config rule when the template holds it (account
  and stacksets modes), and the finding fields that make its findings this deployment's. The
  organization mode's member accounts hold no Config rule a template can name (AWS names the
  copies ``OrgConfigRule-<name>-<suffix>``): their rules come without one, so no remediation
  configuration, and only the ``findings`` trigger can make a runbook automatic.
- The Security Hub custom action (one per deployment) and, per runbook that needs no parameter
  a click cannot give, an EventBridge rule on ``Security Hub Findings - Custom Action`` for
  that action and that rule's findings. Security Hub sends each selected finding as its own
  event, so one rule per runbook (matching ``GeneratorId``) starts the right runbook for every
  finding of a multi-finding selection.
- EventBridge starts a runbook through a role per runbook allowed only
  ``ssm:StartAutomationExecution`` on that document's automation definition and
  ``iam:PassRole`` of its automation role, to SSM only.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_config as config
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.code import ROOT, CodeSource, asset_code
from infra.nag import acknowledge
from infra.rule_construct import RESOURCE_TYPE, grant_statement, nag_resource, resource_arn
from infra.settings import Settings, SettingsError
from rules.aws.findings import STATUS, product_arn
from rules.model import Compliance
from rules.remediation.runbooks import (
    ATTACHMENT_NAME,
    HANDLER,
    OUTPUTS,
    QUEUE_PREFIX,
    RUNBOOKS,
    RUNTIME,
    Runbook,
    RunbookParameter,
    dead_letter_queue_prefix,
)

SCHEMA_VERSION = "0.3"
STEP_NAME = "Remediate"
STEP_TIMEOUT_SECONDS = 600  # aws:executeScript's maximum
FUNCTION_PARAMETER = "FunctionName"
ASSUME_ROLE_PARAMETER = "AutomationAssumeRole"
DRY_RUN_PARAMETER = "DryRun"
EXEMPTION_TAG_PARAMETER = "ExemptionTagKey"
RULE_PARAMETERS_PARAMETER = "RuleParameters"
DOCUMENT_SUFFIX = "-remediation"
# SSM document names: 3-128 of these characters, and never a prefix AWS reserves.
DOCUMENT_NAME = re.compile(r"[a-zA-Z0-9_\-.]{3,128}")
RESERVED_DOCUMENT_PREFIXES = ("aws", "amazon", "amzn")  # AWSEC2, AWSConfigRemediation, ... too
DOCUMENT_CONTENT_MAX = 64 * 1024  # bytes, SSM's limit on a document's content
FINDINGS_IMPORTED = "Security Hub Findings - Imported"
FINDINGS_CUSTOM_ACTION = "Security Hub Findings - Custom Action"
SECURITY_HUB_SOURCE = "aws.securityhub"
# Security Hub custom actions: Name and Id at most 20 characters, Id alphanumeric. The title
# the issue asks for is longer than AWS allows for a name: it is the description's first words.
ACTION_TARGET_NAME = "Remediate Guardrails"
ACTION_TARGET_DESCRIPTION = "Remediate with Lambda Guardrails"
ACTION_TARGET_ID_STEM = "Guardrails"
ACTION_TARGET_LIMIT = 20
ACTION_TARGET_TYPE = "AWS::SecurityHub::ActionTarget"
CREATE_ACTION = "create"  # infra.settings.CREATE
UNKNOWN_TYPE_CHECK = "CloudFormation-Validate::F3006"  # CDK's own template validation
# Where EventBridge finds the function in one of our findings (build_finding always writes it).
FUNCTION_NAME_PATH = "$.detail.findings[0].Resources[0].Details.AwsLambdaFunction.FunctionName"
ACTIVE = "ACTIVE"
SUPPRESSED = "SUPPRESSED"
REMEDIATION_NOT_WIRED = "LambdaGuardrails:RemediationNotWired"
# The rules package as the runbooks' attachment: what infra.code's asset holds.
ZIP_EXCLUDED_DIRECTORIES = ("__pycache__",)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the same package always makes the same zip


@dataclass(frozen=True, slots=True)
class RemediationOptions:
    """What the construct needs from the deployment's settings (``remediation_options``)."""

    name_prefix: str
    automatic: tuple[str, ...] = ()
    trigger: str = "config"
    maximum_attempts: int = 5
    retry_seconds: int = 60
    exemption_tag_key: str = "guardrails:exempt"
    security_hub: bool = True
    custom_action: str | None = None  # None, "create" or an existing action's ARN
    # rule id -> the Config rule's InputParameters as JSON (the runbook's RuleParameters)
    rule_parameters: Mapping[str, str] = field(default_factory=dict)
    # What follows the rule id in a document's name: another suffix keeps a second kind of
    # deployment (the organization mode's) from meeting an account-mode instance's documents.
    document_suffix: str = DOCUMENT_SUFFIX


def remediation_options(settings: Settings) -> RemediationOptions:
    return RemediationOptions(
        name_prefix=settings.rule_name_prefix,
        automatic=settings.auto_remediate,
        trigger=settings.auto_remediate_trigger,
        maximum_attempts=settings.remediation_maximum_attempts,
        retry_seconds=settings.remediation_retry_seconds,
        exemption_tag_key=settings.exemption_tag_key,
        security_hub=settings.security_hub_export,
        custom_action=settings.remediation_custom_action,
        rule_parameters={
            rule_id: json.dumps(dict(settings.rule_parameters.get(rule_id, {})), sort_keys=True)
            for rule_id in settings.rule_ids
        },
    )


def document_name(prefix: str, rule_id: str, suffix: str = DOCUMENT_SUFFIX) -> str:
    name = f"{prefix}{rule_id}{suffix}"
    if not DOCUMENT_NAME.fullmatch(name):
        raise SettingsError(
            f"ruleNamePrefix: {prefix!r} makes the runbook name {name!r}, which SSM refuses "
            "(3-128 letters, digits, '_', '-', '.')"
        )
    if name.lower().startswith(RESERVED_DOCUMENT_PREFIXES):
        raise SettingsError(
            f"ruleNamePrefix: {prefix!r} makes the runbook name {name!r}, and SSM reserves "
            f"document names starting with {', '.join(RESERVED_DOCUMENT_PREFIXES)}"
        )
    return name


def action_target_id(prefix: str, document_suffix: str = DOCUMENT_SUFFIX) -> str:
    """Unique per deployment in an account and region: two instances there never share a
    ``ruleNamePrefix`` (their Config rules would collide first), and a deployment whose
    documents have another suffix (the organization mode's) has another id."""
    scope = prefix if document_suffix == DOCUMENT_SUFFIX else prefix + document_suffix
    digest = hashlib.sha256(scope.encode()).hexdigest()
    return (ACTION_TARGET_ID_STEM + digest)[:ACTION_TARGET_LIMIT]


def extra_required(runbook: Runbook) -> tuple[str, ...]:
    """Required parameters besides the function (``Runbook.needs_an_operator``)."""
    return runbook.needs_an_operator


def _default(parameter: RunbookParameter) -> Any:
    default = parameter.default
    return list(default) if isinstance(default, tuple) else default


def document_parameters(
    runbook: Runbook,
    *,
    role_arn: str,
    exemption_tag_key: str,
    rule_parameters: str,
    deployment_defaults: Mapping[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """The registry's parameters (``DryRun`` defaults to true), the deployment's exemption tag
    key, the Config rule's parameters and the runbook's ``deployment_defaults`` (filled in) as
    defaults, and the automation role (default: the runbook's own role)."""
    overrides = {
        EXEMPTION_TAG_PARAMETER: exemption_tag_key,
        RULE_PARAMETERS_PARAMETER: rule_parameters,
        **(deployment_defaults or {}),
    }
    parameters: dict[str, dict[str, Any]] = {}
    for parameter in runbook.all_parameters:
        entry: dict[str, Any] = {"type": str(parameter.type), "description": parameter.description}
        default = overrides.get(parameter.name, _default(parameter))
        if default is not None:
            entry["default"] = default
        if parameter.allowed_pattern is not None:
            entry["allowedPattern"] = parameter.allowed_pattern
        parameters[parameter.name] = entry
    for name in (FUNCTION_PARAMETER, DRY_RUN_PARAMETER, *overrides):
        if name not in parameters:
            raise ValueError(f"{runbook.rule_id}: the runbook has no {name} parameter")
    if parameters[DRY_RUN_PARAMETER].get("default") is not True:
        raise ValueError(f"{runbook.rule_id}: DryRun must default to true (manual runs report)")
    parameters[ASSUME_ROLE_PARAMETER] = {
        "type": "String",
        "description": "The role the automation runs as (default: this runbook's own role).",
        "default": role_arn,
    }
    return parameters


@dataclass(frozen=True, slots=True)
class RunbookAttachment:
    """The rules package zip every runbook attaches (``ATTACHMENT_NAME``): where SSM copies it
    from when the document is created, and its SHA-256 (the document's ``files`` section)."""

    s3_url: str
    sha256: str


# Where a stack's runbooks get the attachment from, given the stack: a CDK asset by default;
# the stacksets and organization modes pass an object of their code buckets.
AttachmentSource = Callable[[Construct], RunbookAttachment]


def automation_content(
    runbook: Runbook,
    *,
    role_arn: str,
    exemption_tag_key: str,
    rule_parameters: str,
    attachment_sha256: str,
    deployment_defaults: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    parameters = document_parameters(
        runbook,
        role_arn=role_arn,
        exemption_tag_key=exemption_tag_key,
        rule_parameters=rule_parameters,
        deployment_defaults=deployment_defaults,
    )
    payload = {name: f"{{{{ {name} }}}}" for name in parameters if name != ASSUME_ROLE_PARAMETER}
    return {
        "schemaVersion": SCHEMA_VERSION,
        "description": f"Lambda Guardrails, {runbook.rule_id}: {runbook.description}",
        "assumeRole": f"{{{{ {ASSUME_ROLE_PARAMETER} }}}}",
        "parameters": parameters,
        "files": {ATTACHMENT_NAME: {"checksums": {"sha256": attachment_sha256}}},
        "mainSteps": [
            {
                "name": STEP_NAME,
                "action": "aws:executeScript",
                "timeoutSeconds": STEP_TIMEOUT_SECONDS,
                "isEnd": True,
                "inputs": {
                    "Runtime": RUNTIME,
                    "Handler": HANDLER,
                    "Script": runbook.script(),
                    "Attachment": ATTACHMENT_NAME,
                    "InputPayload": payload,
                },
                "outputs": [
                    {"Name": output.name, "Selector": output.selector, "Type": str(output.type)}
                    for output in OUTPUTS
                ],
            }
        ],
        "outputs": [f"{STEP_NAME}.{output.name}" for output in OUTPUTS],
    }


def rules_zip(root: Path = ROOT) -> tuple[Path, str]:
    """The ``rules`` package as a zip with the package at its root (what ``infra.code``'s asset
    holds: no caches, no dotfiles), byte-identical for the same sources; and its SHA-256."""
    package = root / "rules"
    files = sorted(
        path
        for path in package.rglob("*")
        if path.is_file()
        and path.suffix != ".pyc"
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
        and not any(part in ZIP_EXCLUDED_DIRECTORIES for part in path.parts)
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    target = Path(tempfile.gettempdir()) / "lambda-guardrails-runbooks" / f"rules-{digest}.zip"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_suffix(f".{os.getpid()}.tmp")
        staging.write_bytes(data)
        staging.replace(target)  # atomic: parallel synths never read half a file
    return target, digest


def asset_attachment(scope: Construct) -> RunbookAttachment:
    """The rules zip as a CDK file asset (needs a bootstrapped account, as the rule code)."""
    path, digest = rules_zip()
    asset = s3_assets.Asset(scope, "RulesAttachment", path=str(path))
    return RunbookAttachment(asset.s3_object_url, digest)


# --- A small YAML writer (no YAML library is a runtime dependency) ---
PLAIN_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# Characters a YAML literal block may hold as they are (printable, tab, no CR or BOM).
BLOCK_SAFE = re.compile(r"[\t\n\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd]*")


def to_yaml(value: Any, indent: int = 0) -> str:
    """YAML text for mappings, lists, strings, booleans and integers. Multi-line strings are
    literal blocks with an explicit indentation indicator and chomping, so they parse back
    byte for byte; every other string is a JSON (YAML double-quoted) scalar."""
    return "".join(_lines(value, indent))


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    raise TypeError(f"no YAML for {type(value).__name__}")


def _key(key: str) -> str:
    return (
        key
        if PLAIN_KEY.fullmatch(key) and key not in ("true", "false", "null")
        else json.dumps(key)
    )


def _block(text: str, indent: int) -> str | None:
    """A literal block for ``text`` at ``indent``, or None when it must be quoted."""
    if "\n" not in text or not BLOCK_SAFE.fullmatch(text):
        return None
    body = text.rstrip("\n")
    trailing = len(text) - len(body)
    chomping = "-" if trailing == 0 else ("" if trailing == 1 else "+")
    pad = " " * (indent + 2)
    lines = [pad + line if line else "" for line in body.split("\n")]
    lines += [""] * (trailing - 1) if trailing > 1 else []
    return f"|2{chomping}\n" + "\n".join(lines) + "\n"


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, Mapping):
        if not value:
            return [pad + "{}\n"]
        for key, item in value.items():
            out.extend(_entry(f"{pad}{_key(key)}:", item, indent))
        return out
    if isinstance(value, Sequence) and not isinstance(value, str):
        if not value:
            return [pad + "[]\n"]
        for item in value:
            if isinstance(item, Mapping) and item:
                # "- key: value" with the mapping's other keys under the first one.
                first, *rest = _lines(item, indent + 2)
                out.extend([f"{pad}- {first[indent + 2 :]}", *rest])
            else:
                out.extend(_entry(f"{pad}-", item, indent))
        return out
    return [pad + _scalar(value) + "\n"]


def _entry(head: str, item: Any, indent: int) -> list[str]:
    if isinstance(item, Mapping | list | tuple) and item:
        return [head + "\n", *_lines(item, indent + 2)]
    if isinstance(item, str):
        block = _block(item, indent)
        if block is not None:
            return [f"{head} {block}"]
    if isinstance(item, Mapping | list | tuple):
        return [f"{head} {'{}' if isinstance(item, Mapping) else '[]'}\n"]
    return [f"{head} {_scalar(item)}\n"]


# --- EventBridge patterns ---
@dataclass(frozen=True, slots=True)
class RemediatedRule:
    """A rule the runbooks serve: the fields of ``detail.findings`` that make a finding of the
    rule this deployment's (besides ``GeneratorId``), and its Config rule when the template
    holds it (then it gets a remediation configuration)."""

    findings: Mapping[str, Any]
    config_rule: config.CfnConfigRule | None = None


def account_rules(
    config_rules: Mapping[str, config.CfnConfigRule], stack: cdk.Stack
) -> dict[str, RemediatedRule]:
    """Rules deployed in ``stack`` (account and stacksets modes): each finding's ``Id`` starts
    with the rule's name and a function ARN of this account and region."""
    return {
        rule_id: RemediatedRule(
            findings={
                "Id": [
                    {
                        "prefix": finding_id_prefix_of_function(
                            str(rule.config_rule_name), stack.partition, stack.region, stack.account
                        )
                    }
                ],
                **_imported_here(stack),
            },
            config_rule=rule,
        )
        for rule_id, rule in config_rules.items()
    }


def _imported_here(stack: cdk.Stack) -> dict[str, Any]:
    """A finding this account imported into its own default product: anyone allowed
    BatchImportFindings could write an Id that looks like ours, but only into this account's
    product (Security Hub checks ProductArn against the caller)."""
    return {
        "ProductArn": [product_arn(stack.partition, stack.region, stack.account)],
        "AwsAccountId": [stack.account],
    }


def member_account_rules(
    id_prefixes: Mapping[str, str], stack: cdk.Stack
) -> dict[str, RemediatedRule]:
    """Rules evaluated here by copies AWS names (the organization mode's
    ``OrgConfigRule-<name>-<suffix>``): ``id_prefixes`` gives each rule's finding ``Id`` prefix,
    which cannot hold the account after the unknown suffix, so the finding's account and its
    resource (a function ARN of this account and region) say it is this account's."""
    function_prefix = f"arn:{stack.partition}:lambda:{stack.region}:{stack.account}:function:"
    return {
        rule_id: RemediatedRule(
            findings={
                "Id": [{"prefix": prefix}],
                **_imported_here(stack),
                "Resources": {"Id": [{"prefix": function_prefix}]},
            }
        )
        for rule_id, prefix in id_prefixes.items()
    }


def finding_id_prefix_of_function(
    config_rule_name: str, partition: str, region: str, account: str
) -> str:
    """The Id of every finding ``config_rule_name`` writes for a function of this account and
    region starts with this (``rules.aws.findings.finding_id``): another deployment's findings
    (another prefix) and findings Security Hub aggregates here from other accounts or regions
    never match it."""
    from rules.aws.findings import finding_id

    return finding_id(config_rule_name, f"arn:{partition}:lambda:{region}:{account}:function:")


def imported_pattern(rule_id: str, findings: Mapping[str, Any]) -> dict[str, Any]:
    """Our FAILED, ACTIVE, not suppressed findings of ``rule_id`` as Security Hub imports
    them (``findings``: ``RemediatedRule.findings``)."""
    return {
        "source": [SECURITY_HUB_SOURCE],
        "detail-type": [FINDINGS_IMPORTED],
        "detail": {
            "findings": {
                "GeneratorId": [rule_id],
                **findings,
                "Compliance": {"Status": [STATUS[Compliance.NON_COMPLIANT]]},
                "RecordState": [ACTIVE],
                "Workflow": {"Status": [{"anything-but": [SUPPRESSED]}]},
            }
        },
    }


def custom_action_pattern(
    rule_id: str, findings: Mapping[str, Any], action_target_arn: str
) -> dict[str, Any]:
    """Our findings of ``rule_id`` sent to the custom action: the person who clicked chose
    them, whatever their state (on a compliant function the runbook changes nothing)."""
    return {
        "source": [SECURITY_HUB_SOURCE],
        "detail-type": [FINDINGS_CUSTOM_ACTION],
        "resources": [action_target_arn],
        "detail": {"findings": {"GeneratorId": [rule_id], **findings}},
    }


def automation_definition_arn(name: str, version: str = "$DEFAULT") -> str:
    return resource_arn(
        "arn:{partition}:ssm:{region}:{account}:automation-definition/" + name + ":" + version
    )


def start_input(role_arn: str) -> events.CfnRule.InputTransformerProperty:
    """StartAutomationExecution's parameters (each a list of strings) from one finding: the
    function's name, the automation role, a real run."""
    parameters = {
        FUNCTION_PARAMETER: ["<function>"],  # a quoted placeholder: EventBridge fills the name
        ASSUME_ROLE_PARAMETER: [role_arn],
        DRY_RUN_PARAMETER: ["false"],
    }
    template = json.dumps(parameters, separators=(",", ":"))
    return events.CfnRule.InputTransformerProperty(
        input_paths_map={"function": FUNCTION_NAME_PATH}, input_template=template
    )


class RunbookResources(Construct):
    """One runbook: its document, automation role and (given a Config rule) remediation
    configuration; ``start_role`` and the EventBridge rules are added by the owner."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runbook: Runbook,
        options: RemediationOptions,
        config_rule: config.CfnConfigRule | None,
        attachment: RunbookAttachment,
    ) -> None:
        super().__init__(scope, construct_id)
        self.runbook = runbook
        self.rule_parameters = options.rule_parameters.get(runbook.rule_id, "{}")
        self.name = document_name(options.name_prefix, runbook.rule_id, options.document_suffix)
        queue_prefix = dead_letter_queue_prefix(options.name_prefix)

        def render(template: str) -> str:
            return resource_arn(template.replace(QUEUE_PREFIX, queue_prefix))

        self.function_role_policy: iam.ManagedPolicy | None = None
        if runbook.function_role_policy is not None:
            # One customer-managed policy the runbook attaches to functions' roles: named
            # from ruleNamePrefix and the region (IAM names are account-wide), so instances
            # and regions never share one.
            self.function_role_policy = iam.ManagedPolicy(
                self,
                "FunctionRolePolicy",
                managed_policy_name=render(runbook.function_role_policy.name),
                description=f"Attached by runbook {self.name} to functions' execution roles",
                statements=[
                    grant_statement(grant, render) for grant in runbook.function_role_policy.grants
                ],
            )
            for grant in runbook.function_role_policy.grants:
                acknowledge(
                    self.function_role_policy,
                    "IAM5",
                    "Resource::" + nag_resource(grant.resource.replace(QUEUE_PREFIX, queue_prefix)),
                    grant.why,
                )
        statements = [grant_statement(grant, render) for grant in runbook.grants]
        self.policy = iam.ManagedPolicy(
            self,
            "AutomationPolicy",
            description=f"What runbook {self.name}'s script calls",
            statements=statements,
        )
        self.role = iam.Role(
            self,
            "AutomationRole",
            assumed_by=iam.ServicePrincipal(
                "ssm.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID},
                    "ArnLike": {
                        "aws:SourceArn": resource_arn(
                            "arn:{partition}:ssm:{region}:{account}:automation-execution/*"
                        )
                    },
                },
            ),
            description=f"Runs runbook {self.name}",
            managed_policies=[self.policy],
        )
        # One acknowledgment per wildcard resource, with every grant's reason for it.
        wildcards: dict[str, list[str]] = {}
        for grant in runbook.grants:
            if "*" in grant.resource:
                resource = grant.resource.replace(QUEUE_PREFIX, queue_prefix)
                wildcards.setdefault(nag_resource(resource), []).append(
                    f"{', '.join(grant.actions)}: {grant.why}"
                )
        for resource, whys in wildcards.items():
            acknowledge(self.policy, "IAM5", f"Resource::{resource}", "; ".join(whys))
        content = to_yaml(
            automation_content(
                runbook,
                role_arn=self.role.role_arn,
                exemption_tag_key=options.exemption_tag_key,
                rule_parameters=self.rule_parameters,
                attachment_sha256=attachment.sha256,
                deployment_defaults=self._deployment_defaults(render),
            )
        )
        # The role ARN (a token) is ~100 bytes more once resolved.
        if len(content.encode()) + 200 > DOCUMENT_CONTENT_MAX:
            raise ValueError(
                f"runbook {self.name}: content over SSM's {DOCUMENT_CONTENT_MAX} bytes"
            )
        self.document = ssm.CfnDocument(
            self,
            "Document",
            name=self.name,
            document_type="Automation",
            document_format="YAML",
            content=content,
            update_method="NewVersion",
            attachments=[
                ssm.CfnDocument.AttachmentsSourceProperty(
                    key="S3FileUrl", values=[attachment.s3_url], name=ATTACHMENT_NAME
                )
            ],
        )
        self.remediation: config.CfnRemediationConfiguration | None = None
        # Config's remediation gives the function, the role and static values only: a runbook
        # that needs more (subnets, a key) runs from the CLI.
        if config_rule is not None and not extra_required(runbook):
            automatic = runbook.rule_id in options.automatic and options.trigger == "config"
            self.remediation = config.CfnRemediationConfiguration(
                self,
                "RemediationConfiguration",
                config_rule_name=config_rule.ref,  # the rule's name, and a dependency on it
                target_type="SSM_DOCUMENT",
                target_id=self.document.ref,  # the name, after the document exists
                resource_type=RESOURCE_TYPE,
                parameters={
                    FUNCTION_PARAMETER: {"ResourceValue": {"Value": "RESOURCE_ID"}},
                    ASSUME_ROLE_PARAMETER: {"StaticValue": {"Values": [self.role.role_arn]}},
                    DRY_RUN_PARAMETER: {"StaticValue": {"Values": ["false"]}},
                    EXEMPTION_TAG_PARAMETER: {
                        "StaticValue": {"Values": [options.exemption_tag_key]}
                    },
                    # RuleParameters is not passed: the document's default carries it, and a
                    # StaticValue holds at most 256 characters where InputParameters take 1,024.
                },
                automatic=automatic,
                maximum_automatic_attempts=options.maximum_attempts if automatic else None,
                retry_attempt_seconds=options.retry_seconds if automatic else None,
            )
        self._start_role: iam.Role | None = None

    def _deployment_defaults(self, render: Callable[[str], str]) -> dict[str, str]:
        """The runbook's deployment defaults, filled in; the function role policy's parameter
        gets that policy's ARN (a reference: the document follows the policy)."""
        defaults = {name: render(template) for name, template in self.runbook.deployment_defaults}
        if self.runbook.function_role_policy and self.function_role_policy:
            defaults[self.runbook.function_role_policy.parameter] = (
                self.function_role_policy.managed_policy_arn
            )
        return defaults

    def start_role(self) -> iam.Role:
        """The role EventBridge starts this runbook with (created on first use)."""
        if self._start_role is None:
            policy = iam.ManagedPolicy(
                self,
                "StartPolicy",
                description=f"Start runbook {self.name} only",
                statements=[
                    iam.PolicyStatement(
                        actions=["ssm:StartAutomationExecution"],
                        # Any version of this one document: EventBridge starts $DEFAULT.
                        resources=[automation_definition_arn(self.name, "*")],
                    ),
                    iam.PolicyStatement(
                        actions=["iam:PassRole"],
                        resources=[self.role.role_arn],
                        conditions={"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
                    ),
                ],
            )
            acknowledge(
                policy,
                "IAM5",
                "Resource::"
                + nag_resource(
                    "arn:{partition}:ssm:{region}:{account}:automation-definition/"
                    + self.name
                    + ":*"
                ),
                "the versions of this one runbook: EventBridge starts its $DEFAULT version",
            )
            self._start_role = iam.Role(
                self,
                "StartRole",
                assumed_by=iam.ServicePrincipal(
                    "events.amazonaws.com",
                    conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
                ),
                description=f"EventBridge starts runbook {self.name}",
                managed_policies=[policy],
            )
        return self._start_role

    def add_trigger(
        self, construct_id: str, description: str, pattern: dict[str, Any]
    ) -> events.CfnRule:
        role = self.start_role()
        return events.CfnRule(
            self,
            construct_id,
            description=description,
            event_pattern=pattern,
            state="ENABLED",
            targets=[
                events.CfnRule.TargetProperty(
                    id="Runbook",
                    arn=automation_definition_arn(self.name),
                    role_arn=role.role_arn,
                    input_transformer=start_input(self.role.role_arn),
                )
            ],
        )


class GuardrailsRemediation(Construct):
    """Every runbook of ``runbooks`` whose rule is in ``rules`` (rule id -> ``RemediatedRule``),
    with its triggers (see the module's docstring)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runbooks: Sequence[Runbook],
        rules: Mapping[str, RemediatedRule],
        options: RemediationOptions,
        attachment: RunbookAttachment,
        depends_on: Sequence[cdk.CfnResource] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.options = options
        self.rules = rules
        self.runbooks: dict[str, RunbookResources] = {}
        for runbook in runbooks:
            rule = rules.get(runbook.rule_id)
            if rule is None:
                continue
            automatic = runbook.rule_id in options.automatic
            if automatic and not runbook.automatic_allowed:
                raise SettingsError(f"autoRemediate: {runbook.rule_id}'s runbook is manual only")
            if automatic and options.trigger == "config" and rule.config_rule is None:
                raise SettingsError(
                    f"autoRemediate: {runbook.rule_id} has no Config rule this template can "
                    "name (AWS names an organization rule's copy in each member account), so "
                    "no automatic Config remediation: set autoRemediateTrigger=findings"
                )
            self.runbooks[runbook.rule_id] = RunbookResources(
                self,
                _construct_id(runbook.rule_id),
                runbook=runbook,
                options=options,
                config_rule=rule.config_rule,
                attachment=attachment,
            )
        self.action_target: cdk.CfnResource | None = None
        if not options.security_hub or not self.runbooks:
            return
        if options.trigger == "findings":
            for rule_id in options.automatic:
                if rule_id in self.runbooks:
                    self.runbooks[rule_id].add_trigger(
                        "OnFailedFinding",
                        f"Lambda Guardrails: run {self.runbooks[rule_id].name} on a FAILED "
                        "finding (autoRemediate)",
                        imported_pattern(rule_id, rules[rule_id].findings),
                    )
        if options.custom_action is None:
            return
        self.action_target_arn = (
            self._action_target(depends_on)
            if options.custom_action == CREATE_ACTION
            else options.custom_action
        )
        for rule_id, resources in self.runbooks.items():
            if not extra_required(resources.runbook):
                resources.add_trigger(
                    "OnCustomAction",
                    f"Lambda Guardrails: run {resources.name} for findings sent to the "
                    "custom action",
                    custom_action_pattern(rule_id, rules[rule_id].findings, self.action_target_arn),
                )

    def _action_target(self, depends_on: Sequence[cdk.CfnResource]) -> str:
        """The custom action, created by CloudFormation (regions offering the type only)."""
        options = self.options
        # aws-cdk-lib 2.275 has no L1 class for it: the resource as CloudFormation spells it.
        self.action_target = cdk.CfnResource(
            self,
            "CustomAction",
            type=ACTION_TARGET_TYPE,
            properties={
                "Id": action_target_id(options.name_prefix, options.document_suffix),
                "Name": ACTION_TARGET_NAME,
                "Description": f"{ACTION_TARGET_DESCRIPTION} ({options.name_prefix}): run the "
                "remediation runbook of each selected finding's rule",
            },
        )
        cdk.Validations.of(self.action_target).acknowledge(
            cdk.Acknowledgment(
                id=UNKNOWN_TYPE_CHECK,
                reason=f"{ACTION_TARGET_TYPE} is a CloudFormation resource type (cfn-lint's "
                "registry schemas validate it); aws-cdk-lib 2.275's resource list predates it",
            )
        )
        for resource in depends_on:
            self.action_target.add_resource_dependency(resource)
        arn: str = cdk.Token.as_string(self.action_target.get_att("ActionTargetArn"))
        return arn


def add_remediation(
    stack: cdk.Stack,
    settings: Settings,
    rules: Mapping[str, Any],
    hub: Sequence[cdk.CfnResource],
    code_source: CodeSource,
    *,
    attachment_source: AttachmentSource | None = None,
) -> GuardrailsRemediation | None:
    """``GuardrailsRemediation`` for ``GuardrailsStack`` (``rules``: rule id ->
    ``ConfigLambdaRule``). The runbooks attach the rules package from ``attachment_source``;
    without one, as a CDK asset when the rule code is one too. A stack whose code comes from
    elsewhere and that is given no attachment (a template that cannot hold assets) gets no
    runbooks, and the synth says so."""
    if attachment_source is None and code_source is asset_code:
        attachment_source = asset_attachment
    if attachment_source is None:
        cdk.Annotations.of(stack).add_warning_v2(
            REMEDIATION_NOT_WIRED,
            "Remediation runbooks are not deployed by this template: its rule code is not a "
            "CDK asset and it was given no runbook attachment (RunbookAttachment) to attach "
            "the rules package from. See the README's Remediation section.",
        )
        return None
    config_rules = {i: r.config_rule for i, r in rules.items() if r.config_rule is not None}
    return GuardrailsRemediation(
        stack,
        "Remediation",
        runbooks=RUNBOOKS,
        rules=account_rules(config_rules, stack),
        options=remediation_options(settings),
        attachment=attachment_source(stack),
        depends_on=hub,
    )


def _construct_id(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.split("-"))
