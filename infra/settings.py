"""The stack's context keys: documented once here, read from ``cdk.json`` and ``-c key=value``.

``cdk.json`` holds every key with its default (a test keeps the two equal), the README's Deploy
section lists them (a test checks each key is there). Values given with ``-c`` arrive as strings:
booleans are ``true``/``false``, lists are comma-separated or JSON arrays, objects are JSON.
Bad values fail the synth with the key's name, never silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from rules.errors import InvalidParameterError
from rules.exemptions import DEFAULT_TAG_KEY, tag_key_problem
from rules.naming import DEFAULT_RULE_NAME_PREFIX, config_rule_name
from rules.parameters import EXECUTION_ROLE_NAME, KMS_KEY_ARN, SUBNET_ID, parse_parameters
from rules.registry import DEFAULT_RULES, RULES, RULES_BY_ID


class SettingsError(ValueError):
    """A context value the stack cannot use; the message names the key."""


# AWS Config's MaximumExecutionFrequency values; "off" means no periodic trigger.
PERIODIC_FREQUENCIES = (
    "One_Hour",
    "Three_Hours",
    "Six_Hours",
    "Twelve_Hours",
    "TwentyFour_Hours",
)
# CloudWatch Logs' accepted retention periods (days).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
SECURITY_GROUP_ID = re.compile(r"sg-[0-9a-f]{8,17}")
VPC_ID = re.compile(r"vpc-[0-9a-f]{8,17}")
LAYER_ARN = re.compile(r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+")
TAG_KEY = re.compile(r"[\w.:/=+@ -]{1,128}")
INPUT_PARAMETERS_MAX = 1024  # AWS Config's limit on a rule's InputParameters string
CONFIG_RULE_NAME_MAX = 128  # AWS Config's limit on ConfigRuleName
RULE_NAME_PREFIX = re.compile(r"[A-Za-z0-9_-]+")
# A standard or FIFO topic: names are letters, digits, hyphens and underscores, 1-256 characters.
DEPLOYMENT_MODES = ("account", "stacksets", "organization")
ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}")
# A root (r-) or an organizational unit (ou-): the StackSet deployment targets.
ORGANIZATIONAL_UNIT_ID = re.compile(r"(?:r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})")
ACCOUNT_ID = re.compile(r"\d{12}")
REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d")
IAM_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
SNS_TOPIC_ARN = re.compile(
    r"arn:aws[a-z-]*:sns:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?"
)
OFF = ("", "off", "none")


@dataclass(frozen=True, slots=True)
class ContextKey:
    name: str
    default: Any
    description: str


CONTEXT_KEYS: tuple[ContextKey, ...] = (
    ContextKey(
        "enabledRules",
        "default",
        "Rules to deploy: `default` (every rule that is on by default), `all` (every rule, "
        "the off-by-default ones too) or a list of rule ids, which may hold `default` "
        '(`["default", "lambda-tagged"]`).',
    ),
    ContextKey(
        "disabledRules",
        [],
        "Rule ids not to deploy (applied after `enabledRules`): the way to turn one rule off.",
    ),
    ContextKey(
        "ruleParameters",
        {},
        "Per-rule parameters, `{rule id: {parameter: value}}`; validated at synth time, "
        "passed to the rule's `InputParameters`. Unset parameters mean no constraint.",
    ),
    ContextKey(
        "ruleNamePrefix",
        DEFAULT_RULE_NAME_PREFIX,
        "Prefix of every Config rule name (`guardrails-lambda-dlq-check`): without one, four "
        "names would be exactly AWS managed rules'. Letters, digits, `-` and `_`; not empty.",
    ),
    ContextKey(
        "periodicFrequency",
        "off",
        "Adds a periodic trigger (`One_Hour` ... `TwentyFour_Hours`) to every rule; `off` "
        "evaluates on configuration changes only. A rule with a default sweep of its own keeps "
        "the more frequent of the two (see `rulePeriodicFrequency`).",
    ),
    ContextKey(
        "rulePeriodicFrequency",
        {},
        'Per-rule periodic trigger, `{rule id: frequency or "off"}`, replacing '
        "`periodicFrequency` and the rule's default for that rule. "
        "`lambda-function-public-access-prohibited` sweeps `TwentyFour_Hours` by default: "
        "Config sends no change event when an alias's or a version's permission changes.",
    ),
    ContextKey(
        "securityHubExport",
        True,
        "Send each evaluation to Security Hub as a finding (`false` also drops the "
        "`securityhub:BatchImportFindings` grant).",
    ),
    ContextKey(
        "tags",
        {"Project": "lambda-guardrails"},
        "Tags applied to every resource of the stack.",
    ),
    ContextKey(
        "vpcId",
        "",
        "VPC of `subnetIds`; the stack creates the functions' security group in it (HTTPS "
        "egress only) unless `securityGroupIds` is set.",
    ),
    ContextKey(
        "subnetIds",
        [],
        "Private subnets for the rule functions (recommended). Empty: the functions run "
        "outside a VPC and the synth says so.",
    ),
    ContextKey(
        "securityGroupIds",
        [],
        "Existing security groups for the functions instead of the one the stack creates.",
    ),
    ContextKey(
        "createConfigRecorder",
        False,
        "Create an AWS Config recorder (recording `AWS::Lambda::Function`) and delivery channel "
        "with an encrypted S3 bucket, for accounts that have none.",
    ),
    ContextKey(
        "enableSecurityHub",
        False,
        "Enable Security Hub (no standards) for accounts where it is off.",
    ),
    ContextKey(
        "reservedConcurrency",
        5,
        "Reserved concurrency of each rule function (Config invokes asynchronously; throttled "
        "events are retried).",
    ),
    ContextKey(
        "logRetentionDays",
        365,
        "Retention of the functions' log groups (a CloudWatch Logs retention value).",
    ),
    ContextKey(
        "logLevel",
        "INFO",
        "Powertools log level of the functions.",
    ),
    ContextKey(
        "powertoolsLayerArn",
        "",
        "Powertools layer ARN to use instead of resolving the AWS-published one from the "
        "public SSM parameter at deploy time (e.g. in partitions without the parameter).",
    ),
    ContextKey(
        "alarmTopicArn",
        "",
        "SNS topic (in the stack's region) the CloudWatch alarms (rule function errors, "
        "messages in the dead-letter queue) notify, on alarm and on recovery. Empty: the alarms "
        "notify no one.",
    ),
    ContextKey(
        "deploymentMode",
        "account",
        "`account`: the rule stack in the account and region you deploy to. `stacksets`: a stack "
        "for the management or delegated-administrator account that deploys the rule stack into "
        "every account of `targetOuIds` in `targetRegions` (service-managed StackSet). "
        "`organization`: the rule functions once in the delegated-administrator account, one "
        "organization Config rule per rule, and a member role in every account.",
    ),
    ContextKey(
        "organizationId",
        "",
        "The organization's id (`o-...`); required by `stacksets` and `organization`, which "
        "limit what they share and trust to it.",
    ),
    ContextKey(
        "targetOuIds",
        [],
        "Organizational units (`ou-...`) or the root (`r-...`) whose accounts get the rule stack "
        "(`stacksets`) or the member role (`organization`); required by both.",
    ),
    ContextKey(
        "targetRegions",
        [],
        "Regions the rule stack is deployed to (`stacksets`, required) and that the "
        "organization's Config aggregator covers (both organization modes). `organization` "
        "deploys its rules in the regions listed here (default: the stack's own).",
    ),
    ContextKey(
        "delegatedAdmin",
        False,
        "Deploying from a delegated administrator, not the management account: the StackSets "
        "use `CallAs: DELEGATED_ADMIN`.",
    ),
    ContextKey(
        "failureTolerancePercentage",
        10,
        "StackSet operations: the percentage of accounts per region that may fail before "
        "CloudFormation stops the operation in that region (0-100).",
    ),
    ContextKey(
        "maxConcurrentPercentage",
        25,
        "StackSet operations: the percentage of accounts deployed at once per region (1-100).",
    ),
    ContextKey(
        "excludedAccounts",
        [],
        "`organization`: member accounts the organization Config rules skip (12-digit ids).",
    ),
    ContextKey(
        "memberAccountIds",
        [],
        "`organization`: the member accounts (12-digit ids) whose AWS Config may invoke the "
        "central functions, one `SourceAccount` statement each (about 60 fit Lambda's 20 KB "
        "policy; the synth checks). Empty: AWS Config of any account may invoke them (see "
        "Deployment modes).",
    ),
    ContextKey(
        "executionRoleName",
        "",
        "`organization`: the role the central rule functions assume in each member account "
        "(the rules' `ExecutionRoleName` parameter). Empty: `<ruleNamePrefix>member`.",
    ),
    # --- Seeing the organization (issue 9): Security Hub cross-region finding aggregation ---
    ContextKey(
        "securityHubAggregationRegions",
        "",
        "Create Security Hub's cross-region finding aggregator in the stack's region (the home "
        "region): `ALL` (every region, new ones too) or a list of the regions to link. Empty: "
        "none. An account has at most one finding aggregator: set this on one stack only.",
    ),
    # --- Shift left (issue 12): the CloudFormation deployment hook ---
    ContextKey(
        "deploymentHook",
        "off",
        "`warn` or `fail`: a CloudFormation Lambda hook that judges every "
        "`AWS::Lambda::Function`, `Permission` and `Url` before CloudFormation or Cloud Control "
        "creates or updates it, with the enabled rules and `ruleParameters` (FailureMode WARN or "
        "FAIL). `off`: none. Modes `account` and `stacksets` (one per account and region).",
    ),
    # --- Remediation runbooks (issue 10): one SSM Automation runbook per rule, its triggers ---
    ContextKey(
        "remediation",
        True,
        "Deploy the remediation runbooks (one SSM Automation document per rule with a runbook), "
        "their automation roles, Config remediation configurations and the Security Hub custom "
        "action. `false`: none of them.",
    ),
    ContextKey(
        "autoRemediate",
        {},
        "Rules whose runbook runs automatically on a FAILED evaluation, `{rule id: true}`; every "
        "other rule is remediated manually (a Config remediation, the custom action or "
        "`aws ssm start-automation-execution`). Refused for `lambda-inside-vpc` (it changes "
        "networking) and for runbooks that need a value an automatic run cannot be given "
        "(`lambda-env-vars-cmk-encrypted`: the key).",
    ),
    ContextKey(
        "autoRemediateTrigger",
        "config",
        "What starts an automatic runbook, never both: `config` (the Config remediation "
        "configuration is automatic, with `remediationMaximumAttempts` and "
        "`remediationRetrySeconds`) or `findings` (an EventBridge rule on our FAILED Security "
        "Hub findings; the Config remediation stays manual; needs `securityHubExport`).",
    ),
    ContextKey(
        "remediationMaximumAttempts",
        5,
        "Automatic Config remediation: failed attempts per resource (1-25) within "
        "`remediationRetrySeconds` before Config records a remediation exception.",
    ),
    ContextKey(
        "remediationRetrySeconds",
        60,
        "Automatic Config remediation: the window, in seconds (1-2678000), of "
        "`remediationMaximumAttempts`.",
    ),
    ContextKey(
        "remediationCustomAction",
        "off",
        "The Security Hub custom action for one-click runs from the console: `off`, `create` "
        "(the stack creates it: only in regions where CloudFormation offers "
        "`AWS::SecurityHub::ActionTarget`), or the ARN of one created with "
        "`aws securityhub create-action-target` (any region).",
    ),
    # --- Exemptions (issue 11): a function's own waiver of named rules, in one tag ---
    ContextKey(
        "exemptionTagKey",
        DEFAULT_TAG_KEY,
        "The tag a function names its exemptions in (`rules=<id>+<id> reason=<text> "
        "[until=YYYY-MM-DD]`, see docs/rules.md); the remediation runbooks never change an "
        "exempted function. A Lambda tag key: 1-128 characters, not `aws:`.",
    ),
    ContextKey(
        "exemptionsDisabled",
        [],
        "Rule ids whose exemptions are never honoured (e.g. "
        "`lambda-function-public-access-prohibited` when policy forbids public access): the "
        "rule judges an exempted function anyway and its annotation says the exemption is not "
        "honoured by policy.",
    ),
    # --- The secrets rule (issue 11): the keys its function may decrypt variables with ---
    ContextKey(
        "secretsRuleKmsKeyArns",
        [],
        "KMS key ARNs the `lambda-no-secrets-in-env-vars` function may decrypt with (its role "
        "alone gets `kms:Decrypt` on them, only via Lambda and for Lambda environments), so it "
        "can scan variables encrypted with those customer-managed keys. A function whose key "
        "is not listed gets no verdict (an error), never COMPLIANT.",
    ),
)
CONTEXT_DEFAULTS: Mapping[str, Any] = {key.name: key.default for key in CONTEXT_KEYS}


@dataclass(frozen=True, slots=True)
class Settings:
    rule_ids: tuple[str, ...]
    rule_parameters: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    rule_name_prefix: str = DEFAULT_RULE_NAME_PREFIX
    periodic_frequency: str | None = None
    # Per-rule overrides; None turns the rule's periodic trigger off.
    rule_periodic_frequency: Mapping[str, str | None] = field(default_factory=dict)
    security_hub_export: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)
    vpc_id: str | None = None
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    create_config_recorder: bool = False
    enable_security_hub: bool = False
    reserved_concurrency: int = 5
    log_retention_days: int = 365
    log_level: str = "INFO"
    powertools_layer_arn: str | None = None
    alarm_topic_arn: str | None = None
    deployment_mode: str = "account"
    organization_id: str | None = None
    target_ou_ids: tuple[str, ...] = ()
    target_regions: tuple[str, ...] = ()
    delegated_admin: bool = False
    failure_tolerance_percentage: int = 10
    max_concurrent_percentage: int = 25
    excluded_accounts: tuple[str, ...] = ()
    member_account_ids: tuple[str, ...] = ()
    execution_role_name_setting: str | None = None
    # None: no finding aggregator; "ALL", or the regions to link.
    security_hub_aggregation_regions: Literal["ALL"] | tuple[str, ...] | None = None
    # "off", "warn" or "fail" (issue 12: the deployment hook and its FailureMode).
    deployment_hook: str = "off"
    remediation: bool = True
    auto_remediate: tuple[str, ...] = ()  # deployed rule ids remediated automatically
    auto_remediate_trigger: str = "config"
    remediation_maximum_attempts: int = 5
    remediation_retry_seconds: int = 60
    # None: no custom action; "create", or the ARN of an existing one.
    remediation_custom_action: str | None = None
    exemption_tag_key: str = DEFAULT_TAG_KEY
    exemptions_disabled: frozenset[str] = frozenset()
    # Keys the secrets rule's role may decrypt variables with (issue 11).
    secrets_rule_kms_key_arns: tuple[str, ...] = ()

    @property
    def execution_role_name(self) -> str:
        """The member accounts' role in ``organization`` mode."""
        return self.execution_role_name_setting or f"{self.rule_name_prefix}member"

    @property
    def in_vpc(self) -> bool:
        return bool(self.subnet_ids)

    def config_rule_name(self, rule_id: str) -> str:
        return config_rule_name(rule_id, self.rule_name_prefix)

    def periodic_frequency_of(self, rule_id: str) -> str | None:
        """The rule's periodic trigger: its ``rulePeriodicFrequency`` entry, else the more
        frequent of ``periodicFrequency`` and the rule's own default."""
        if rule_id in self.rule_periodic_frequency:
            return self.rule_periodic_frequency[rule_id]
        candidates = [
            f
            for f in (self.periodic_frequency, RULES_BY_ID[rule_id].default_periodic_frequency)
            if f is not None
        ]
        return min(candidates, key=PERIODIC_FREQUENCIES.index, default=None)


def load_settings(get: Callable[[str], Any]) -> Settings:
    """Build ``Settings`` from a context getter (``node.try_get_context``); missing keys take
    their documented default."""

    def value(name: str) -> Any:
        found = get(name)
        return CONTEXT_DEFAULTS[name] if found is None else found

    rule_ids = _rule_ids(value("enabledRules"), value("disabledRules"))
    subnet_ids = _ids("subnetIds", value("subnetIds"), SUBNET_ID.pattern)
    security_group_ids = _ids("securityGroupIds", value("securityGroupIds"), SECURITY_GROUP_ID)
    vpc_id = _text("vpcId", value("vpcId")) or None
    if vpc_id is not None and not VPC_ID.fullmatch(vpc_id):
        raise SettingsError(f"vpcId: {vpc_id!r} is not a VPC id like vpc-0a1b2c3d")
    if subnet_ids and not security_group_ids and vpc_id is None:
        raise SettingsError(
            "subnetIds is set: also set vpcId (the stack creates a security group in it) "
            "or securityGroupIds"
        )
    if (security_group_ids or vpc_id) and not subnet_ids:
        raise SettingsError("vpcId / securityGroupIds are set but subnetIds is empty")
    periodic = _frequency("periodicFrequency", value("periodicFrequency"))
    retention = _integer("logRetentionDays", value("logRetentionDays"))
    if retention not in LOG_RETENTION_DAYS:
        raise SettingsError(
            f"logRetentionDays: {retention} is not a CloudWatch Logs retention period "
            f"({', '.join(map(str, LOG_RETENTION_DAYS))})"
        )
    concurrency = _integer("reservedConcurrency", value("reservedConcurrency"))
    if concurrency < 1:
        raise SettingsError(f"reservedConcurrency: {concurrency} must be at least 1")
    log_level = _text("logLevel", value("logLevel")).upper()
    if log_level not in LOG_LEVELS:
        raise SettingsError(f"logLevel: {log_level!r} is not one of {', '.join(LOG_LEVELS)}")
    layer_arn = _text("powertoolsLayerArn", value("powertoolsLayerArn")) or None
    if layer_arn is not None and not LAYER_ARN.fullmatch(layer_arn):
        raise SettingsError(f"powertoolsLayerArn: {layer_arn!r} is not a layer version ARN")
    return Settings(
        rule_ids=rule_ids,
        rule_parameters=_rule_parameters(value("ruleParameters"), rule_ids),
        rule_name_prefix=_rule_name_prefix(value("ruleNamePrefix")),
        periodic_frequency=periodic,
        rule_periodic_frequency=_rule_periodic_frequency(value("rulePeriodicFrequency"), rule_ids),
        security_hub_export=_boolean("securityHubExport", value("securityHubExport")),
        tags=_tags(value("tags")),
        vpc_id=vpc_id,
        subnet_ids=subnet_ids,
        security_group_ids=security_group_ids,
        create_config_recorder=_boolean("createConfigRecorder", value("createConfigRecorder")),
        enable_security_hub=_boolean("enableSecurityHub", value("enableSecurityHub")),
        reserved_concurrency=concurrency,
        log_retention_days=retention,
        log_level=log_level,
        powertools_layer_arn=layer_arn,
        alarm_topic_arn=_alarm_topic_arn(value("alarmTopicArn")),
        **_deployment(value),
        security_hub_aggregation_regions=_aggregation_regions(
            value("securityHubAggregationRegions")
        ),
        deployment_hook=_deployment_hook(value("deploymentHook"), value("deploymentMode")),
        **_remediation(value, rule_ids),
        exemption_tag_key=_exemption_tag_key(value("exemptionTagKey")),
        exemptions_disabled=_exemptions_disabled(value("exemptionsDisabled")),
        secrets_rule_kms_key_arns=_ids(
            "secretsRuleKmsKeyArns", value("secretsRuleKmsKeyArns"), KMS_KEY_ARN.pattern
        ),
    )


def _exemption_tag_key(raw: Any) -> str:
    key = _text("exemptionTagKey", raw)
    if problem := tag_key_problem(key):
        raise SettingsError(f"exemptionTagKey: {key!r}: {problem}")
    return key


def _exemptions_disabled(raw: Any) -> frozenset[str]:
    ids = _list("exemptionsDisabled", raw)
    unknown = [rule_id for rule_id in ids if rule_id not in RULES_BY_ID]
    if unknown:
        raise SettingsError(
            f"exemptionsDisabled: unknown rule(s) {', '.join(unknown)} "
            f"(known: {', '.join(RULES_BY_ID)})"
        )
    return frozenset(ids)


def _deployment(value: Callable[[str], Any]) -> dict[str, Any]:
    """The deployment-mode keys, checked against the mode: a key another mode needs is a
    mistake only when its mode is chosen."""
    mode = _text("deploymentMode", value("deploymentMode"))
    if mode not in DEPLOYMENT_MODES:
        raise SettingsError(f"deploymentMode: {mode!r} is not one of {', '.join(DEPLOYMENT_MODES)}")
    organization_id = _text("organizationId", value("organizationId")) or None
    if organization_id is not None and not ORGANIZATION_ID.fullmatch(organization_id):
        raise SettingsError(f"organizationId: {organization_id!r} is not an id like o-a1b2c3d4e5")
    target_ou_ids = _ids("targetOuIds", value("targetOuIds"), ORGANIZATIONAL_UNIT_ID)
    target_regions = _ids("targetRegions", value("targetRegions"), REGION)
    if len(set(target_regions)) != len(target_regions):
        raise SettingsError("targetRegions: a region is listed twice")
    tolerance = _integer("failureTolerancePercentage", value("failureTolerancePercentage"))
    if not 0 <= tolerance <= 100:
        raise SettingsError(f"failureTolerancePercentage: {tolerance} is not within 0-100")
    concurrent = _integer("maxConcurrentPercentage", value("maxConcurrentPercentage"))
    if not 1 <= concurrent <= 100:
        raise SettingsError(f"maxConcurrentPercentage: {concurrent} is not within 1-100")
    role_name = _text("executionRoleName", value("executionRoleName")) or None
    if role_name is not None and not IAM_ROLE_NAME.fullmatch(role_name):
        raise SettingsError(f"executionRoleName: {role_name!r} is not a valid IAM role name")
    if mode != "account":
        if organization_id is None:
            raise SettingsError(f"deploymentMode {mode} needs organizationId (o-...)")
        if not target_ou_ids:
            raise SettingsError(f"deploymentMode {mode} needs targetOuIds (ou-... or r-...)")
    if mode == "stacksets" and not target_regions:
        raise SettingsError("deploymentMode stacksets needs targetRegions")
    return {
        "deployment_mode": mode,
        "organization_id": organization_id,
        "target_ou_ids": target_ou_ids,
        "target_regions": target_regions,
        "delegated_admin": _boolean("delegatedAdmin", value("delegatedAdmin")),
        "failure_tolerance_percentage": tolerance,
        "max_concurrent_percentage": concurrent,
        "excluded_accounts": _ids("excludedAccounts", value("excludedAccounts"), ACCOUNT_ID),
        "member_account_ids": _ids("memberAccountIds", value("memberAccountIds"), ACCOUNT_ID),
        "execution_role_name_setting": role_name,
    }


def _frequency(key: str, raw: Any) -> str | None:
    """An AWS Config MaximumExecutionFrequency, or None for off."""
    frequency = _text(key, raw)
    if frequency.lower() in OFF:
        return None
    if frequency in PERIODIC_FREQUENCIES:
        return frequency
    raise SettingsError(
        f"{key}: {frequency!r} is not off or one of {', '.join(PERIODIC_FREQUENCIES)}"
    )


def _rule_periodic_frequency(raw: Any, rule_ids: tuple[str, ...]) -> Mapping[str, str | None]:
    data = _json("rulePeriodicFrequency", raw)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(
            'rulePeriodicFrequency: expected an object {rule id: frequency or "off"}'
        )
    result: dict[str, str | None] = {}
    for rule_id, frequency in data.items():
        if rule_id not in RULES_BY_ID:
            raise SettingsError(
                f"rulePeriodicFrequency: unknown rule id {rule_id!r} "
                f"(known: {', '.join(RULES_BY_ID)})"
            )
        parsed = _frequency(f"rulePeriodicFrequency.{rule_id}", frequency)
        if parsed is None and not RULES_BY_ID[rule_id].change_triggered:
            raise SettingsError(
                f"rulePeriodicFrequency.{rule_id}: the rule evaluates periodically only (it has "
                "no change trigger), so it cannot be off; disable it with disabledRules"
            )
        # Validated for every rule, kept for the deployed ones (as ruleParameters).
        if rule_id in rule_ids:
            result[rule_id] = parsed
    return result


def _rule_name_prefix(raw: Any) -> str:
    prefix = _text("ruleNamePrefix", raw)
    if not prefix:
        raise SettingsError(
            "ruleNamePrefix: must not be empty (unprefixed, four rule names are exactly AWS "
            "managed rules' and would overwrite or delete them)"
        )
    if not RULE_NAME_PREFIX.fullmatch(prefix):
        raise SettingsError(
            f"ruleNamePrefix: {prefix!r} may hold only letters, digits, '-' and '_'"
        )
    # Every registry rule, deployed or not: enabling one later must not break the name.
    longest = max((rule.id for rule in RULES), key=len)
    name = config_rule_name(longest, prefix)
    if len(name) > CONFIG_RULE_NAME_MAX:
        raise SettingsError(
            f"ruleNamePrefix: {prefix!r} makes {name!r} {len(name)} characters long, AWS Config "
            f"allows {CONFIG_RULE_NAME_MAX} (at most "
            f"{CONFIG_RULE_NAME_MAX - len(longest)} for the prefix)"
        )
    return prefix


def _alarm_topic_arn(raw: Any) -> str | None:
    arn = _text("alarmTopicArn", raw)
    if not arn:
        return None
    if not SNS_TOPIC_ARN.fullmatch(arn):
        raise SettingsError(
            f"alarmTopicArn: {arn!r} is not an SNS topic ARN like "
            "arn:aws:sns:eu-west-1:111122223333:alerts"
        )
    return arn


# enabledRules keywords: every rule, or the rules that are on by default (Rule.enabled_by_default).
ALL_RULES_KEYWORD = "all"
DEFAULT_RULES_KEYWORD = "default"


def _rule_ids(enabled: Any, disabled: Any) -> tuple[str, ...]:
    if isinstance(enabled, str) and enabled.strip().lower() == ALL_RULES_KEYWORD:
        chosen = [rule.id for rule in RULES]
    else:
        chosen = []
        for item in _list("enabledRules", enabled):
            if item.lower() == DEFAULT_RULES_KEYWORD:
                chosen += [rule.id for rule in DEFAULT_RULES]
            elif item.lower() == ALL_RULES_KEYWORD:
                chosen += [rule.id for rule in RULES]
            else:
                chosen.append(item)
    off = set(_list("disabledRules", disabled))
    for key, ids in (("enabledRules", chosen), ("disabledRules", off)):
        unknown = sorted(set(ids) - set(RULES_BY_ID))
        if unknown:
            raise SettingsError(
                f"{key}: unknown rule id(s) {', '.join(unknown)} (known: {', '.join(RULES_BY_ID)})"
            )
    # Registry order, whatever order the context lists them in.
    rule_ids = tuple(rule.id for rule in RULES if rule.id in chosen and rule.id not in off)
    if not rule_ids:
        raise SettingsError("enabledRules / disabledRules leave no rule to deploy")
    return rule_ids


def _rule_parameters(raw: Any, rule_ids: tuple[str, ...]) -> Mapping[str, Mapping[str, str]]:
    data = _json("ruleParameters", raw)
    if not isinstance(data, dict):
        raise SettingsError("ruleParameters: expected an object {rule id: {parameter: value}}")
    result: dict[str, dict[str, str]] = {}
    for rule_id, parameters in data.items():
        if rule_id not in RULES_BY_ID:
            raise SettingsError(
                f"ruleParameters: unknown rule id {rule_id!r} (known: {', '.join(RULES_BY_ID)})"
            )
        if not isinstance(parameters, dict):
            raise SettingsError(f"ruleParameters.{rule_id}: expected an object of parameters")
        # Config passes every value as a string; drop empty ones (an unset parameter).
        strings = {
            name: (str(v).lower() if isinstance(v, bool) else str(v)).strip()
            for name, v in parameters.items()
            if v is not None
        }
        strings = {name: v for name, v in strings.items() if v}
        if EXECUTION_ROLE_NAME.name in strings:
            raise SettingsError(
                f"ruleParameters.{rule_id}: {EXECUTION_ROLE_NAME.name} is for organization "
                "rules, which this stack does not deploy (its roles grant no sts:AssumeRole)"
            )
        try:
            parse_parameters(RULES_BY_ID[rule_id], strings)
        except InvalidParameterError as error:
            raise SettingsError(f"ruleParameters.{rule_id}: {error}") from None
        if rule_id in rule_ids and strings:
            encoded = json.dumps(strings, separators=(",", ":"))
            if len(encoded) > INPUT_PARAMETERS_MAX:
                raise SettingsError(
                    f"ruleParameters.{rule_id}: {len(encoded)} characters as JSON, AWS Config "
                    f"allows {INPUT_PARAMETERS_MAX}"
                )
            result[rule_id] = strings
    return result


def _json(key: str, raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw) if raw.strip() else None
        except json.JSONDecodeError as error:
            raise SettingsError(f"{key}: not valid JSON ({error})") from None
    return raw


def _list(key: str, raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            raw = _json(key, text)
        else:
            return tuple(item.strip() for item in text.split(",") if item.strip())
    if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
        return tuple(item.strip() for item in raw if item.strip())
    raise SettingsError(f"{key}: expected a list of strings or a comma-separated string")


def _ids(key: str, raw: Any, pattern: re.Pattern[str]) -> tuple[str, ...]:
    ids = _list(key, raw)
    for item in ids:
        if not pattern.fullmatch(item):
            raise SettingsError(f"{key}: {item!r} is not a valid id")
    return ids


def _text(key: str, raw: Any) -> str:
    if not isinstance(raw, str):
        raise SettingsError(f"{key}: expected a string, got {raw!r}")
    return raw.strip()


def _boolean(key: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise SettingsError(f"{key}: expected true or false, got {raw!r}")


def _integer(key: str, raw: Any) -> int:
    if isinstance(raw, bool):
        raise SettingsError(f"{key}: expected an integer, got {raw!r}")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"\d+", raw.strip()):
        return int(raw.strip())
    raise SettingsError(f"{key}: expected an integer, got {raw!r}")


def _tags(raw: Any) -> Mapping[str, str]:
    data = _json("tags", raw)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError("tags: expected an object {key: value}")
    tags: dict[str, str] = {}
    for key, tag_value in data.items():
        if not TAG_KEY.fullmatch(key) or key.lower().startswith("aws:"):
            raise SettingsError(f"tags: {key!r} is not a valid tag key")
        tags[key] = str(tag_value)
    return tags


# --- Seeing the organization (issue 9) ---
ALL_REGIONS: Literal["ALL"] = "ALL"
REGION_NAME = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d")
SINGLETON_AGGREGATOR = (
    "AWS allows one Security Hub finding aggregator per account (in its home region): set "
    "securityHubAggregationRegions on one stack of the account only, and not where one exists"
)


def _aggregation_regions(raw: Any) -> Literal["ALL"] | tuple[str, ...] | None:
    key = "securityHubAggregationRegions"
    if isinstance(raw, str) and raw.strip().lower() in OFF:
        return None
    if isinstance(raw, str) and raw.strip().upper() == ALL_REGIONS:
        return ALL_REGIONS
    regions = _list(key, raw)
    if not regions:
        return None
    for region in regions:
        if not REGION_NAME.fullmatch(region):
            raise SettingsError(f"{key}: {region!r} is not a region name like eu-west-1")
    if len(set(regions)) != len(regions):
        raise SettingsError(f"{key}: a region is listed twice ({', '.join(regions)})")
    return regions


# --- Shift left (issue 12): the CloudFormation deployment hook ---
DEPLOYMENT_HOOK_MODES = ("off", "warn", "fail")


def _deployment_hook(raw: Any, mode: Any) -> str:
    hook = _text("deploymentHook", raw).lower() or "off"
    if hook not in DEPLOYMENT_HOOK_MODES:
        raise SettingsError(
            f"deploymentHook: {hook!r} is not one of {', '.join(DEPLOYMENT_HOOK_MODES)}"
        )
    if hook != "off" and mode == "organization":
        # A hook gates the account it is deployed in; the organization mode deploys no rule
        # stack (only the member role and the runbooks) into the member accounts.
        raise SettingsError(
            "deploymentHook: the organization mode deploys no rule stack into the member "
            "accounts; use deploymentMode account or stacksets for a hook in every account"
        )
    return hook


# --- Remediation runbooks (issue 10) ---
REMEDIATION_TRIGGERS = ("config", "findings")
MAXIMUM_ATTEMPTS = (1, 25)  # AWS Config's MaximumAutomaticAttempts
RETRY_SECONDS = (1, 2_678_000)  # AWS Config's RetryAttemptSeconds
CREATE = "create"
ACTION_TARGET_ARN = re.compile(
    r"arn:aws[a-z-]*:securityhub:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:action/custom/[A-Za-z0-9]{1,20}"
)


def _custom_action(raw: Any) -> str | None:
    text = _text("remediationCustomAction", raw)
    if text.lower() in OFF:
        return None
    if text.lower() == CREATE or ACTION_TARGET_ARN.fullmatch(text):
        return text.lower() if text.lower() == CREATE else text
    raise SettingsError(
        f"remediationCustomAction: {text!r} is not off, create or a custom action ARN like "
        "arn:aws:securityhub:eu-west-1:111122223333:action/custom/Remediate"
    )


def _remediation(value: Callable[[str], Any], rule_ids: tuple[str, ...]) -> dict[str, Any]:
    enabled = _boolean("remediation", value("remediation"))
    trigger = _text("autoRemediateTrigger", value("autoRemediateTrigger"))
    if trigger not in REMEDIATION_TRIGGERS:
        raise SettingsError(
            f"autoRemediateTrigger: {trigger!r} is not one of {', '.join(REMEDIATION_TRIGGERS)}"
        )
    attempts = _integer("remediationMaximumAttempts", value("remediationMaximumAttempts"))
    if not MAXIMUM_ATTEMPTS[0] <= attempts <= MAXIMUM_ATTEMPTS[1]:
        raise SettingsError(
            f"remediationMaximumAttempts: {attempts} is not within {MAXIMUM_ATTEMPTS[0]}-"
            f"{MAXIMUM_ATTEMPTS[1]} (AWS Config's limits)"
        )
    retry = _integer("remediationRetrySeconds", value("remediationRetrySeconds"))
    if not RETRY_SECONDS[0] <= retry <= RETRY_SECONDS[1]:
        raise SettingsError(
            f"remediationRetrySeconds: {retry} is not within {RETRY_SECONDS[0]}-"
            f"{RETRY_SECONDS[1]} (AWS Config's limits)"
        )
    automatic = _auto_remediate(value("autoRemediate"), rule_ids)
    if automatic and not enabled:
        raise SettingsError("autoRemediate lists rules but remediation is false")
    if (
        automatic
        and trigger == "findings"
        and not _boolean("securityHubExport", value("securityHubExport"))
    ):
        raise SettingsError(
            "autoRemediateTrigger findings needs securityHubExport (no findings, no trigger)"
        )
    return {
        "remediation": enabled,
        # Registry order, as rule_ids.
        "auto_remediate": automatic,
        "auto_remediate_trigger": trigger,
        "remediation_maximum_attempts": attempts,
        "remediation_retry_seconds": retry,
        "remediation_custom_action": _custom_action(value("remediationCustomAction")),
    }


def _auto_remediate(raw: Any, rule_ids: tuple[str, ...]) -> tuple[str, ...]:
    """The deployed rules switched to automatic (registry order); every listed rule is checked,
    deployed or not, as ``ruleParameters``."""
    from rules.remediation.runbooks import RUNBOOKS_BY_RULE as runbooks

    data = _json("autoRemediate", raw)
    if data is None:
        return ()
    if not isinstance(data, dict):
        raise SettingsError("autoRemediate: expected an object {rule id: true}")
    automatic: set[str] = set()
    for rule_id, on in data.items():
        if rule_id not in RULES_BY_ID:
            raise SettingsError(
                f"autoRemediate: unknown rule id {rule_id!r} (known: {', '.join(RULES_BY_ID)})"
            )
        if not _boolean(f"autoRemediate.{rule_id}", on):
            continue
        runbook = runbooks.get(rule_id)
        if runbook is None:
            raise SettingsError(f"autoRemediate: {rule_id} has no remediation runbook")
        if not runbook.automatic_allowed:
            raise SettingsError(
                f"autoRemediate: {rule_id}'s runbook is manual only, never automatic "
                f"({runbook.description})"
            )
        needed = runbook.needs_an_operator
        if needed:
            raise SettingsError(
                f"autoRemediate: {rule_id}'s runbook needs {', '.join(needed)}, which an "
                "automatic run cannot be given (run it with start-automation-execution)"
            )
        automatic.add(rule_id)
    return tuple(rule_id for rule_id in rule_ids if rule_id in automatic)
