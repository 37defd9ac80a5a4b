"""The AWS actions a rule's function calls: the one list the CDK roles are derived from.

Every API call in ``rules.aws`` / ``rules.handler`` must be covered here (a test records the
calls the handler makes and compares), and nothing here may be unused (the CDK test compares the
roles against this list). Resources use ``{partition}``, ``{region}``, ``{account}`` placeholders.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rules.rule import Field, Rule

# IAM condition operator -> condition key -> value (or values); values may hold the same
# placeholders as resources.
Conditions = Mapping[str, Mapping[str, str | tuple[str, ...]]]


@dataclass(frozen=True, slots=True)
class Grant:
    actions: tuple[str, ...]
    resource: str
    why: str
    # Read-only by convention; left out of the hash (a mapping is not hashable), kept in ==.
    conditions: Conditions = field(default_factory=dict, hash=False)


def rendered_conditions(grant: Grant, render: Callable[[str], Any]) -> dict[str, dict[str, Any]]:
    """``grant.conditions`` as an IAM ``Condition`` block, each value through ``render`` (which
    fills the placeholders); empty when the grant has none. Every role derivation (the rule
    functions', the member role, the runbooks') writes a grant's statement with it."""
    return {
        operator: {
            key: render(value) if isinstance(value, str) else [render(v) for v in value]
            for key, value in keys.items()
        }
        for operator, keys in grant.conditions.items()
    }


# Wildcard resources are named with the reason the API allows nothing narrower.
CONFIG_EVALUATIONS = Grant(
    ("config:PutEvaluations",),
    "*",
    "PutEvaluations has no resource-level permissions",
)
CONFIG_READS = Grant(
    (
        "config:GetResourceConfigHistory",
        "config:ListDiscoveredResources",
        "config:BatchGetResourceConfig",
        "config:DescribeConfigurationRecorders",
        "config:DescribeConfigurationRecorderStatus",
    ),
    "*",
    "oversized items and periodic sweeps (DescribeConfigurationRecorders and "
    "DescribeConfigurationRecorderStatus tell whether Config records Lambda continuously and "
    "healthily or the sweep must read the Lambda API); Config read APIs have no "
    "resource-level permissions",
)
# A periodic-only rule never gets an oversized change notification: no history read.
CONFIG_SWEEP_READS = Grant(
    tuple(action for action in CONFIG_READS.actions if action != "config:GetResourceConfigHistory"),
    "*",
    "periodic sweeps (DescribeConfigurationRecorders and DescribeConfigurationRecorderStatus "
    "tell whether Config records Lambda continuously and healthily or the sweep must read the "
    "Lambda API); Config read APIs have no resource-level permissions",
)
CONFIG_COMPLIANCE = Grant(
    ("config:GetComplianceDetailsByConfigRule",),
    "arn:{partition}:config:{region}:{account}:config-rule/*",
    "periodic sweeps: functions the rule evaluated before that no longer exist get "
    "NOT_APPLICABLE (and their findings archived)",
)
LAMBDA_LIST = Grant(
    ("lambda:ListFunctions",),
    "*",
    "periodic sweep fallback when the recorder does not record Lambda; ListFunctions has no "
    "resource-level permissions",
)
LAMBDA_CONFIGURATION = Grant(
    ("lambda:GetFunctionConfiguration",),
    "arn:{partition}:lambda:{region}:{account}:function:*",
    "environment variables (Config does not record them) and the Lambda API fallback",
)
LAMBDA_POLICY = Grant(
    ("lambda:GetPolicy",),
    "arn:{partition}:lambda:{region}:{account}:function:*",
    "resource policy in the Lambda API fallback",
)
LAMBDA_CONCURRENCY = Grant(
    ("lambda:GetFunctionConcurrency",),
    "arn:{partition}:lambda:{region}:{account}:function:*",
    "reserved concurrency in the Lambda API fallback",
)
LAMBDA_QUALIFIERS = Grant(
    ("lambda:ListAliases", "lambda:ListVersionsByFunction"),
    "arn:{partition}:lambda:{region}:{account}:function:*",
    "periodic evaluations read each alias's (and, with checkVersions, each version's) policy: "
    "permissions added with a qualifier live only there (GetPolicy with Qualifier, covered by "
    "function:*)",
)
LAMBDA_TAGS = Grant(
    ("lambda:ListTags",),
    "arn:{partition}:lambda:{region}:{account}:function:*",
    "tags in the Lambda API fallback (ListFunctions and GetFunctionConfiguration carry none): "
    "the exemption tag of an exemptible rule, and lambda-tagged's tags",
)
KMS_DESCRIBE_KEY = Grant(
    ("kms:DescribeKey",),
    "arn:{partition}:kms:{region}:{account}:key/*",
    "who manages the key encrypting environment variables (KeyMetadata.KeyManager: an AWS "
    "managed key given by its key ARN is not customer-managed); asked once per key per "
    "process. Never kms:Decrypt: the rule needs variable names, not values",
)
# --- issue 11 (rules-a) ---
LAMBDA_EVENT_INVOKE_CONFIG = Grant(
    ("lambda:GetFunctionEventInvokeConfig",),
    "arn:{partition}:lambda:{region}:{account}:function:*",
    "the OnFailure destination of asynchronous invocations (acceptOnFailureDestination): AWS "
    "Config does not record the asynchronous invocation configuration",
)
EC2_DESCRIBE_SUBNETS = Grant(
    ("ec2:DescribeSubnets",),
    "*",
    "the availability zone of each subnet a function uses (neither Config nor Lambda records "
    "it); EC2 Describe* actions have no resource-level permissions",
)
SECURITY_HUB_IMPORT = Grant(
    ("securityhub:BatchImportFindings",),
    "arn:{partition}:securityhub:{region}:{account}:product/{account}/default",
    "findings go to the account's default product",
)

SECURITY_HUB_WORKFLOW = Grant(
    ("securityhub:GetFindings", "securityhub:BatchUpdateFindings"),
    "arn:{partition}:securityhub:{region}:{account}:hub/default",
    "exemptible rules: an exempted function's finding gets Workflow SUPPRESSED and a Note, and "
    "NEW again when the exemption ends; re-imports cannot change either (rules.aws.workflow "
    "reads the findings it suppressed, then updates them)",
)
SECURITY_HUB_GRANTS = (SECURITY_HUB_IMPORT, SECURITY_HUB_WORKFLOW)

# Organization mode only: the member-account role named by the ExecutionRoleName parameter.
ASSUME_EXECUTION_ROLE = Grant(
    ("sts:AssumeRole",),
    "arn:{partition}:iam::*:role/{execution_role_name}",
    "organization mode: reads, PutEvaluations and BatchImportFindings run as the member "
    "account's execution role (regional STS, 900 s session)",
)

LAMBDA_READ_GRANTS = {
    "GetPolicy": LAMBDA_POLICY,
    "GetFunctionConcurrency": LAMBDA_CONCURRENCY,
    "ListTags": LAMBDA_TAGS,
}
LAMBDA_URLS = Grant(
    ("lambda:ListFunctionUrlConfigs",),
    "arn:{partition}:lambda:{region}:{account}:function:*",
    "function URLs of the function and its aliases (AWS Config does not record them)",
)
LAMBDA_CODE_SIGNING = Grant(
    ("lambda:GetFunctionCodeSigningConfig",),
    "arn:{partition}:lambda:{region}:{account}:function:*",
    "which code signing configuration is attached (AWS Config does not record it)",
)
LAMBDA_CODE_SIGNING_CONFIG = Grant(
    ("lambda:GetCodeSigningConfig",),
    "arn:{partition}:lambda:{region}:{account}:code-signing-config:*",
    "the attached configuration's policy and allowed signing profiles",
)
# Fields a check may ask for and the handler then reads (``rules.aws.evaluate``).
FIELD_READ_GRANTS: dict[Field, tuple[Grant, ...]] = {
    Field.SUBNET_ZONES: (EC2_DESCRIBE_SUBNETS,),
    Field.EVENT_INVOKE_CONFIG: (LAMBDA_EVENT_INVOKE_CONFIG,),
    Field.FUNCTION_URLS: (LAMBDA_URLS,),
    Field.CODE_SIGNING: (LAMBDA_CODE_SIGNING, LAMBDA_CODE_SIGNING_CONFIG),
}
# The one rule role that may decrypt environment variables (the secrets rule reads values):
# kms:Decrypt on the keys the stack's context names, only through Lambda and only for a
# Lambda environment (Lambda encrypts variables with the LambdaFunctionName encryption context).
DECRYPT_ACTIONS = ("kms:Decrypt",)


def decrypt_conditions(region: str) -> dict[str, dict[str, str]]:
    return {
        "StringEquals": {"kms:ViaService": f"lambda.{region}.amazonaws.com"},
        "Null": {"kms:EncryptionContext:LambdaFunctionName": "false"},
    }


def reads_values(rule: Rule) -> bool:
    """Whether ``rule`` needs environment variable values (never only names)."""
    return Field.ENVIRONMENT_SECRETS in rule.may_need


def grants_for(rule: Rule, *, organization: bool = False) -> tuple[Grant, ...]:
    """What ``rule``'s function needs in its own account; with ``organization`` also
    ``sts:AssumeRole`` on the member accounts' execution role (``ASSUME_EXECUTION_ROLE``, whose
    resource has an ``{execution_role_name}`` placeholder). In organization mode the member
    role needs the other grants.

    GetFunctionConfiguration is always needed: it is the Lambda API fallback's base read and the
    source of environment variables, which Config does not record."""
    # A periodic-only rule reads its functions from Config or ListFunctions, never one by one,
    # unless it needs their environment.
    configuration = (
        (LAMBDA_CONFIGURATION,)
        if rule.change_triggered or rule.may_need & {Field.ENVIRONMENT, Field.ENVIRONMENT_SECRETS}
        else ()
    )
    base = (
        CONFIG_EVALUATIONS,
        CONFIG_READS if rule.change_triggered else CONFIG_SWEEP_READS,
        CONFIG_COMPLIANCE,
        LAMBDA_LIST,
        *configuration,
        SECURITY_HUB_IMPORT,
    )
    reads = [LAMBDA_READ_GRANTS[read] for read in rule.api_reads]
    if Field.QUALIFIED_POLICIES in rule.periodic_reads:
        reads += [LAMBDA_POLICY, LAMBDA_QUALIFIERS]
    # Only a rule whose check may ask who manages a key may call DescribeKey.
    if Field.KEY_MANAGER in rule.may_need:
        reads.append(KMS_DESCRIBE_KEY)
    reads += [
        grant
        for field, grants in FIELD_READ_GRANTS.items()
        if field in rule.may_need
        for grant in grants
    ]
    if rule.exemptible:
        reads.append(SECURITY_HUB_WORKFLOW)
    unique = tuple(dict.fromkeys(reads))  # Grant is frozen, so hashable: each grant once
    return base + unique + ((ASSUME_EXECUTION_ROLE,) if organization else ())


# What the deployment hook (``rules.hook``) may ask AWS, by the field a rule's check needs:
# the request holds the resolved properties but neither a key's manager, a subnet's zone nor
# the policy of a code signing configuration given by ARN.
HOOK_READ_GRANTS = {
    Field.KEY_MANAGER: KMS_DESCRIBE_KEY,
    Field.SUBNET_ZONES: EC2_DESCRIBE_SUBNETS,
    Field.CODE_SIGNING: LAMBDA_CODE_SIGNING_CONFIG,
}


def hook_grants(rules: Sequence[Rule]) -> tuple[Grant, ...]:
    """The reads the deployment hook's role holds for the ``rules`` it runs, once each."""
    return tuple(
        dict.fromkeys(
            grant
            for rule in rules
            for field, grant in HOOK_READ_GRANTS.items()
            if field in rule.may_need
        )
    )


def actions_for(rule: Rule, *, organization: bool = False) -> frozenset[str]:
    return frozenset(
        action for grant in grants_for(rule, organization=organization) for action in grant.actions
    )


def member_role_grants(rules: Sequence[Rule], *, security_hub_export: bool) -> tuple[Grant, ...]:
    """What the organization mode's member role (``ExecutionRoleName``) holds: every grant the
    ``rules`` need in the evaluated account (``grants_for``), once each, without the central
    ``sts:AssumeRole`` and, when export is off, without the Security Hub grants."""
    grants = (
        grant
        for rule in rules
        for grant in grants_for(rule)
        if security_hub_export or grant not in SECURITY_HUB_GRANTS
    )
    return tuple(dict.fromkeys(grants))
