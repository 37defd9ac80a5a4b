"""The remediation runbooks, described once: one ``Runbook`` per core rule.

The CDK side derives each SSM Automation document from this registry: its parameters, its one
``aws:executeScript`` step (``RUNTIME``, ``HANDLER``, the module's source text as ``Script``, byte
for byte: ``Runbook.script()``), its outputs (``OUTPUTS``) and its automation role
(``Runbook.grants``: exactly what the script calls, plus what AWS calls with the caller's
permissions on its behalf, ``Runbook.indirect_actions``).

How the script gets the engine (decision)
-----------------------------------------
Each script imports the engine (``rules.engine``, ``rules.checks``, ``rules.aws``) to re-read the
function and re-run the rule's own check after a fix. The ``rules`` package is not installed in
SSM's script runtime; it reaches the script as a **document attachment**:

- AWS's ``aws:executeScript`` reference: ``Attachment`` is "the name of a standalone script file
  or .zip file that can be invoked by the action. Specify the same value as the ``Name`` of the
  document attachment file you specify in the ``Attachments`` request parameter"; the runbook
  must then also have a top-level ``files`` section (schema 0.3) naming that file and its
  ``checksums.sha256``. And: "When including Python libraries in your attachment, we recommend
  adding an empty ``__init__.py`` file in each module directory. This allows you to import the
  modules from the library in your attachment within your script content. For example:
  ``from library import module``." So an inline ``Script`` plus an ``Attachment`` zip holding the
  ``rules`` package at its root (every directory has its ``__init__.py``) is the documented way.
- The zip is the rule functions' code asset itself (``infra.code.rule_code``: the repository
  filtered down to ``rules/``), so the engine the runbook re-runs is the engine the Config rules
  run, never a copy. ``AWS::SSM::Document.Attachments`` takes it as
  ``{Key: S3FileUrl, Values: [s3://bucket/key.zip], Name: ATTACHMENT_NAME}`` (name pattern
  ``^[a-zA-Z0-9_\\-.]{3,128}$``); SSM copies the file when the document is created, so the
  automation role needs no S3 access (CloudFormation's caller does, at deploy time).
- The script runs on ``python3.11`` (AWS's newest Python runtime for ``aws:executeScript``; 3.6 to
  3.8 are retired); ``rules`` is kept 3.11-compatible (pyproject ``requires-python``, ruff
  target). The script and what it imports use the standard library, boto3/botocore (present in
  the runtime) and ``rules``: never Powertools (not in SSM's runtime; tests check this).
- ``aws:executeScript`` does not retry throttled calls for the script: the scripts' clients use
  botocore's standard retry mode (``rules.aws.clients``).
- Outputs: the handler's return value is the step's ``Payload`` (at most 100 KB); each output
  is selected with ``Selector: $.Payload.<name>`` (``OUTPUTS``). A failed check-after-fix raises,
  which fails the step; the error text carries the before/after configuration and the verdict.

Parameters
----------
Every runbook takes ``COMMON_PARAMETERS`` plus its own. ``RuleParameters`` is the Config rule's
own ``InputParameters`` JSON (the same text), so the check run after the fix is the rule's check
with the rule's parameters. ``InputPayload`` passes each parameter under its own name
(``FunctionName: '{{FunctionName}}'``); the scripts accept Booleans, Integers and StringLists in
their native form or as text.

Exemption
---------
A function whose ``ExemptionTagKey`` tag exempts it from the runbook's rule today (the rules' own
grammar and decision, ``rules.exemptions.exemption_for``) is never changed by any run of a
runbook, automatic or manual, and nothing of it is read after its tags: the script cannot tell
how it was started (Config's automatic remediation, the EventBridge rule and a person all call
StartAutomationExecution with the same parameters), so an override parameter would be an
override for automatic runs too. To remediate an exempt function, remove the tag (a deliberate,
audited TagResource/UntagResource), then run the runbook.
"""

from __future__ import annotations

import enum
import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from rules.checks import concurrency, dlq, env_vars_cmk, inside_vpc, public_access
from rules.naming import DEFAULT_RULE_NAME_PREFIX
from rules.permissions import KMS_DESCRIBE_KEY, LAMBDA_CONFIGURATION, LAMBDA_QUALIFIERS, Grant
from rules.permissions import LAMBDA_READ_GRANTS as RULE_LAMBDA_READS
from rules.rule import Field, Rule

RUNTIME = "python3.11"
HANDLER = "script_handler"
# The name under which documents attach the rules package zip (``Attachment`` / ``files``).
ATTACHMENT_NAME = "lambda-guardrails-rules.zip"
DEFAULT_EXEMPTION_TAG_KEY = "guardrails:exempt"
# Placeholder, in grants and parameter defaults, for the deployment's dead-letter queue name
# prefix (``dead_letter_queue_prefix``); the CDK side fills it with the other placeholders.
QUEUE_PREFIX = "{queue_prefix}"
QUEUE_PREFIX_MAX = 40  # leaves room in SQS's 80 characters for the function's name and a hash
QUEUE_PREFIX_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"
# The tag the DLQ runbook sets on each queue it creates (CreateQueue ``tags``): the function's
# ARN. A queue without it was not created by the runbook for that function.
DEAD_LETTER_TAG_KEY = "guardrails:dead-letter-for"


def dead_letter_queue_prefix(rule_name_prefix: str) -> str:
    """What every queue the DLQ runbook of the deployment with ``rule_name_prefix`` creates is
    named with (its grants are limited to it, so two instances never share queues):
    ``<ruleNamePrefix>dlq-``, or for a long prefix its start and a hash of it (at most
    ``QUEUE_PREFIX_MAX`` characters). ``ruleNamePrefix`` holds only SQS name characters."""
    prefix = f"{rule_name_prefix}dlq-"
    if len(prefix) <= QUEUE_PREFIX_MAX:
        return prefix
    digest = hashlib.sha256(rule_name_prefix.encode()).hexdigest()[:8]
    return f"{rule_name_prefix[: QUEUE_PREFIX_MAX - len(digest) - 5]}{digest}-dlq-"


DEFAULT_QUEUE_NAME_PREFIX = dead_letter_queue_prefix(DEFAULT_RULE_NAME_PREFIX)


class ParameterType(enum.StrEnum):
    """SSM Automation parameter types used here."""

    STRING = "String"
    BOOLEAN = "Boolean"
    INTEGER = "Integer"
    STRING_LIST = "StringList"


class OutputType(enum.StrEnum):
    STRING = "String"
    STRING_LIST = "StringList"
    STRING_MAP = "StringMap"


@dataclass(frozen=True, slots=True)
class RunbookParameter:
    name: str
    type: ParameterType
    description: str
    # None: required. Otherwise the document's default (a Boolean for Boolean, "" for "unset").
    default: str | bool | int | tuple[str, ...] | None = None
    allowed_pattern: str | None = None

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True, slots=True)
class RunbookOutput:
    name: str
    type: OutputType
    description: str

    @property
    def selector(self) -> str:
        return f"$.Payload.{self.name}"


class Status(enum.StrEnum):
    """The ``status`` output."""

    DRY_RUN = "DRY_RUN"  # nothing changed; ``changes`` says what a real run would change
    CHANGED = "CHANGED"  # changed, re-read, and the rule's check now says COMPLIANT
    ALREADY_COMPLIANT = "ALREADY_COMPLIANT"  # nothing to do, nothing changed
    # Exempt: nothing read after the function's configuration and tags, nothing changed.
    SKIPPED_EXEMPT = "SKIPPED_EXEMPT"


OUTPUTS: tuple[RunbookOutput, ...] = (
    RunbookOutput("status", OutputType.STRING, "One of " + ", ".join(Status) + "."),
    RunbookOutput("function", OutputType.STRING, "The function's ARN."),
    RunbookOutput(
        "changes",
        OutputType.STRING_LIST,
        "What was changed (or, in a dry run, would be); empty when nothing is.",
    ),
    RunbookOutput(
        "before",
        OutputType.STRING_MAP,
        "The remediated settings before the run (names only, never environment values).",
    ),
    RunbookOutput("after", OutputType.STRING_MAP, "The same settings re-read after the change."),
    RunbookOutput("verdict", OutputType.STRING, "The rule's verdict on the function at the end."),
    RunbookOutput("annotation", OutputType.STRING, "The check's annotation for that verdict."),
    RunbookOutput("message", OutputType.STRING, "One sentence saying what happened."),
)

COMMON_PARAMETERS: tuple[RunbookParameter, ...] = (
    RunbookParameter(
        "FunctionName",
        ParameterType.STRING,
        "The function to remediate: its name or ARN (Config passes RESOURCE_ID, the name).",
        allowed_pattern=r"^[A-Za-z0-9:_\-]{1,170}$",
    ),
    RunbookParameter(
        "DryRun",
        ParameterType.BOOLEAN,
        "true: only report what would change. Automatic remediation passes false.",
        default=True,
    ),
    RunbookParameter(
        "ExemptionTagKey",
        ParameterType.STRING,
        "A function whose tag of this key exempts it from the rule today is never changed.",
        default=DEFAULT_EXEMPTION_TAG_KEY,
        allowed_pattern=r"^[\w.:/=+\-@ ]{1,128}$",
    ),
    RunbookParameter(
        "RuleParameters",
        ParameterType.STRING,
        "The Config rule's input parameters as a JSON object (the same text the rule gets); "
        "the check run after the fix uses them.",
        default="{}",
    ),
)

_FUNCTIONS = "arn:{partition}:lambda:{region}:{account}:function:*"
_KEYS = "arn:{partition}:kms:{region}:{account}:key/*"
_ROLES = "arn:{partition}:iam::{account}:role/*"
_QUEUES = f"arn:{{partition}}:sqs:{{region}}:{{account}}:{QUEUE_PREFIX}*"
# Lambda's calls to KMS on the caller's behalf (kms:ViaService): only those are granted.
_VIA_LAMBDA = {"kms:ViaService": "lambda.{region}.amazonaws.com"}

READ_TAGS = Grant(
    ("lambda:ListTags",),
    _FUNCTIONS,
    "the exemption tag is read before anything else",
)
WAIT_FOR_UPDATE = LAMBDA_CONFIGURATION  # the function_updated waiter polls it, too


def read_grants(rule: Rule) -> tuple[Grant, ...]:
    """What re-reading the function and re-running ``rule``'s check calls: the rule's own Lambda
    reads (``rules.permissions``), the aliases' (and versions') policies the periodic check
    reads, DescribeKey for the key manager, and the tags."""
    grants = [LAMBDA_CONFIGURATION, READ_TAGS]
    grants += [RULE_LAMBDA_READS[read] for read in rule.lambda_api_reads]
    if Field.QUALIFIED_POLICIES in rule.periodic_reads:
        grants += [RULE_LAMBDA_READS["GetPolicy"], LAMBDA_QUALIFIERS]
    if Field.KEY_MANAGER in rule.may_need:
        grants.append(KMS_DESCRIBE_KEY)
    return tuple(dict.fromkeys(grants))


UPDATE_CONFIGURATION = Grant(
    ("lambda:UpdateFunctionConfiguration",),
    _FUNCTIONS,
    "the one setting the runbook fixes (no other field is sent)",
)


@dataclass(frozen=True, slots=True)
class FunctionRolePolicy:
    """A customer-managed policy the stack creates once for a runbook, which the runbook
    attaches to a function's execution role (``iam:AttachRolePolicy`` allowed for that one
    policy ARN only), so the automation role never writes a policy of its own into a role.
    ``name`` and the grants use the placeholders; the document gets the ARN as the default of
    ``parameter``."""

    name: str
    parameter: str
    grants: tuple[Grant, ...]

    @property
    def arn(self) -> str:
        return "arn:{partition}:iam::{account}:policy/" + self.name


@dataclass(frozen=True, slots=True)
class Runbook:
    rule_id: str
    module: str
    description: str
    parameters: tuple[RunbookParameter, ...]
    automatic_allowed: bool
    grants: tuple[Grant, ...]
    # Granted actions the script does not call itself: AWS calls them with the caller's
    # permissions while serving a call the script makes (e.g. ec2:DescribeSubnets during
    # UpdateFunctionConfiguration with VpcConfig).
    indirect_actions: frozenset[str] = frozenset()
    function_role_policy: FunctionRolePolicy | None = None
    # (parameter, template): the document's default for the parameter is the template with
    # the deployment's placeholders filled (``QUEUE_PREFIX``, ...).
    deployment_defaults: tuple[tuple[str, str], ...] = ()

    @property
    def all_parameters(self) -> tuple[RunbookParameter, ...]:
        return COMMON_PARAMETERS + self.parameters

    @property
    def needs_an_operator(self) -> tuple[str, ...]:
        """Required parameters besides the function: values neither an automatic run, Config's
        remediation nor a console click can give (the VPC runbook's subnets, the environment
        key's KMS key). The one place that decides who may start the runbook."""
        return tuple(
            parameter.name
            for parameter in self.all_parameters
            if parameter.required and parameter.name != "FunctionName"
        )

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(action for grant in self.grants for action in grant.actions)

    @property
    def source_path(self) -> Path:
        spec = importlib.util.find_spec(self.module)
        if spec is None or spec.origin is None:
            raise LookupError(f"runbook module {self.module} not found")
        return Path(spec.origin)

    def script(self) -> str:
        """The module's source text, exactly as in the repository: the step's ``Script``."""
        return self.source_path.read_bytes().decode("utf-8")


PUBLIC_ACCESS = Runbook(
    rule_id=public_access.RULE.id,
    module="rules.remediation.public_access",
    description=(
        "Removes exactly the resource-policy statements the rule flags as public, from the "
        "function's policy and its aliases' (and, with checkVersions, versions') policies, by "
        "Sid; every other statement stays. A function URL with auth type NONE is switched to "
        "AWS_IAM, and its public permission statements removed, only with FixFunctionUrl=true."
    ),
    parameters=(
        RunbookParameter(
            "FixFunctionUrl",
            ParameterType.BOOLEAN,
            "true: switch function URLs with auth type NONE to AWS_IAM (this breaks callers "
            "that do not sign their requests).",
            default=False,
        ),
    ),
    automatic_allowed=True,
    grants=(
        *read_grants(public_access.RULE),
        Grant(
            ("lambda:RemovePermission",),
            _FUNCTIONS,
            "removes the public statements by Sid (with Qualifier for an alias's or version's)",
        ),
        Grant(
            ("lambda:GetFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"),
            _FUNCTIONS,
            "reads a public URL's auth type and, with FixFunctionUrl=true, sets AWS_IAM",
        ),
    ),
)

DEAD_LETTER_SEND = FunctionRolePolicy(
    name=QUEUE_PREFIX + "send-{region}",
    parameter="DeadLetterPolicyArn",
    grants=(
        Grant(
            ("sqs:SendMessage",),
            _QUEUES,
            "Lambda sends failed asynchronous events to the function's dead-letter queue as the "
            "function's execution role; only the queues this deployment's runbook creates",
        ),
    ),
)
QUEUE_KEY_USE = ("kms:GenerateDataKey", "kms:Decrypt")  # what an SQS sender needs on a CMK

DEAD_LETTER_QUEUE = Runbook(
    rule_id=dlq.RULE.id,
    module="rules.remediation.dead_letter_queue",
    description=(
        "Sets the function's dead-letter target: the given SQS queue or SNS topic, or else a "
        "KMS-encrypted SQS queue it creates for the function (<QueueNamePrefix><name>-<hash>, "
        "tagged with the function's ARN), after attaching the stack's policy "
        "DeadLetterPolicyArn (sqs:SendMessage on those queues only) to the function's "
        "execution role."
    ),
    parameters=(
        RunbookParameter(
            "DeadLetterTargetArn",
            ParameterType.STRING,
            "An SQS queue or SNS topic ARN to attach; empty: create a queue for the function.",
            default="",
            allowed_pattern=r"^(|arn:aws[a-z\-]*:(sqs|sns):[a-z0-9\-]+:\d{12}:[A-Za-z0-9_.\-]+)$",
        ),
        RunbookParameter(
            "QueueKmsKeyId",
            ParameterType.STRING,
            "The KMS key a created queue is encrypted with: alias/aws/sqs (AWS managed; its key "
            "policy lets every principal of the account that may use SQS use it through SQS) or "
            "a customer-managed key ARN, which the function's execution role must already be "
            "allowed kms:GenerateDataKey and kms:Decrypt on (checked first; the run refuses "
            "otherwise).",
            default="alias/aws/sqs",
            allowed_pattern=r"^(alias/aws/sqs|arn:aws[a-z\-]*:kms:[a-z0-9\-]+:\d{12}:key/[A-Za-z0-9\-]+)$",
        ),
        RunbookParameter(
            "QueueNamePrefix",
            ParameterType.STRING,
            "What a created queue's name starts with: the deployment's (the automation role may "
            "create, and the attached policy send to, only such queues).",
            default=DEFAULT_QUEUE_NAME_PREFIX,
            allowed_pattern=QUEUE_PREFIX_PATTERN,
        ),
        RunbookParameter(
            DEAD_LETTER_SEND.parameter,
            ParameterType.STRING,
            "The stack's customer-managed policy allowing sqs:SendMessage on the created "
            "queues; the only policy the automation role may attach to a role.",
            default="",
            allowed_pattern=r"^(|arn:aws[a-z\-]*:iam::\d{12}:policy/[\w+=,.@/\-]{1,512})$",
        ),
    ),
    automatic_allowed=True,
    grants=(
        *read_grants(dlq.RULE),
        UPDATE_CONFIGURATION,
        Grant(
            ("sqs:CreateQueue", "sqs:GetQueueAttributes", "sqs:ListQueueTags", "sqs:TagQueue"),
            _QUEUES,
            "creates (or finds again, idempotently) the function's queue, tagged at creation "
            "(CreateQueue with tags needs sqs:TagQueue), and checks that it is the runbook's "
            "own (no queue policy, the runbook's tag); only this deployment's queues",
        ),
        Grant(
            ("iam:AttachRolePolicy",),
            _ROLES,
            "attaches the stack's dead-letter send policy, and no other policy "
            "(iam:PolicyARN), to the function's execution role, which can be any role of the "
            "account",
            conditions={"ArnEquals": {"iam:PolicyARN": DEAD_LETTER_SEND.arn}},
        ),
        Grant(
            ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListGrants"),
            _KEYS,
            "a customer-managed queue key: customer-managed, enabled, symmetric, and usable by "
            "the function's role (its key policy and grants)",
        ),
        Grant(
            ("iam:SimulatePrincipalPolicy",),
            _ROLES,
            "simulates kms:GenerateDataKey and kms:Decrypt on a customer-managed queue key for "
            "the function's execution role",
        ),
    ),
    indirect_actions=frozenset({"sqs:TagQueue"}),
    function_role_policy=DEAD_LETTER_SEND,
    deployment_defaults=(("QueueNamePrefix", QUEUE_PREFIX),),
)

RESERVED_CONCURRENCY = Runbook(
    rule_id=concurrency.RULE.id,
    module="rules.remediation.concurrency",
    description=(
        "Reserves concurrency for the function: the given value, else the rule's "
        "ConcurrencyLimitLow, else the default (10, lowered to ConcurrencyLimitHigh when that is "
        "lower); refuses a value that would leave the account's unreserved pool below 100."
    ),
    parameters=(
        RunbookParameter(
            "ReservedConcurrency",
            ParameterType.STRING,
            "The reserved concurrency to set (an integer >= 0); empty: the rule's "
            "ConcurrencyLimitLow, else 10 (at most ConcurrencyLimitHigh).",
            default="",
            allowed_pattern=r"^(|[0-9]{1,6})$",
        ),
    ),
    automatic_allowed=True,
    grants=(
        *read_grants(concurrency.RULE),
        Grant(
            ("lambda:GetAccountSettings",),
            "*",
            "the account's unreserved concurrency; GetAccountSettings has no resource-level "
            "permissions",
        ),
        Grant(("lambda:PutFunctionConcurrency",), _FUNCTIONS, "sets the reservation"),
    ),
)

ENVIRONMENT_KEY = Runbook(
    rule_id=env_vars_cmk.RULE.id,
    module="rules.remediation.env_vars_key",
    description=(
        "Re-encrypts the function's environment variables with the given customer-managed KMS "
        "key (KMSKeyArn only: values are never read, logged or sent), after checking that the "
        "key is a customer-managed, enabled, symmetric key of this account and that the "
        "function's execution role may decrypt with it."
    ),
    parameters=(
        RunbookParameter(
            "KmsKeyArn",
            ParameterType.STRING,
            "The customer-managed KMS key (key ARN, not an alias) to encrypt the variables with.",
            allowed_pattern=(
                r"^arn:aws[a-z\-]*:kms:[a-z0-9\-]+:\d{12}:key/"
                r"([0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32})$"
            ),
        ),
    ),
    automatic_allowed=True,
    grants=(
        *read_grants(env_vars_cmk.RULE),
        UPDATE_CONFIGURATION,
        Grant(
            ("kms:GetKeyPolicy", "kms:ListGrants"),
            _KEYS,
            "whether the function's role may use the key: the key policy (simulated with the "
            "role's policies) and the key's grants",
        ),
        Grant(
            ("iam:SimulatePrincipalPolicy",),
            _ROLES,
            "simulates kms:Decrypt on the key for the function's execution role",
        ),
        Grant(
            ("kms:CreateGrant",),
            _KEYS,
            "Lambda creates the function's grant on the new key with the caller's permissions "
            "while serving UpdateFunctionConfiguration: only through Lambda, only a grant for "
            "an AWS resource",
            conditions={
                "StringEquals": _VIA_LAMBDA,
                "Bool": {"kms:GrantIsForAWSResource": "true"},
            },
        ),
        Grant(
            ("kms:Encrypt",),
            _KEYS,
            "Lambda encrypts the variables with the new key with the caller's permissions while "
            "serving UpdateFunctionConfiguration: only through Lambda",
            conditions={"StringEquals": _VIA_LAMBDA},
        ),
    ),
    indirect_actions=frozenset({"kms:CreateGrant", "kms:Encrypt"}),
)

VPC = Runbook(
    rule_id=inside_vpc.RULE.id,
    module="rules.remediation.vpc",
    description=(
        "Connects the function to the given subnets and security groups (VpcConfig). Manual "
        "only: it changes the function's networking (what it can reach, and how)."
    ),
    parameters=(
        RunbookParameter(
            "SubnetIds",
            ParameterType.STRING_LIST,
            "The subnets (of one VPC, ideally in two or more Availability Zones).",
        ),
        RunbookParameter(
            "SecurityGroupIds",
            ParameterType.STRING_LIST,
            "The security groups (of the same VPC).",
        ),
    ),
    automatic_allowed=False,
    grants=(
        *read_grants(inside_vpc.RULE),
        UPDATE_CONFIGURATION,
        Grant(
            ("ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"),
            "*",
            "Lambda validates the subnets and security groups with the caller's permissions "
            "while serving UpdateFunctionConfiguration; EC2 Describe calls have no "
            "resource-level permissions",
        ),
    ),
    indirect_actions=frozenset(
        {"ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"}
    ),
)

RUNBOOKS: tuple[Runbook, ...] = (
    PUBLIC_ACCESS,
    VPC,
    ENVIRONMENT_KEY,
    DEAD_LETTER_QUEUE,
    RESERVED_CONCURRENCY,
)
RUNBOOKS_BY_RULE: Mapping[str, Runbook] = {runbook.rule_id: runbook for runbook in RUNBOOKS}


def runbook_for(rule_id: str) -> Runbook:
    try:
        return RUNBOOKS_BY_RULE[rule_id]
    except KeyError:
        known = ", ".join(RUNBOOKS_BY_RULE)
        raise KeyError(f"no runbook for rule {rule_id!r} (runbooks: {known})") from None
