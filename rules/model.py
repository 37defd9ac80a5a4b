"""The typed, frozen model that every check reads.

Adapters (``rules.adapters``) build it from AWS Config configuration items and from Lambda API
responses; a check never sees the raw shapes, so a new source needs a new adapter and nothing else.
Environment variable *values* are never held here: only their names, so nothing secret can leak
into an annotation or a log line.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, NamedTuple

LAMBDA_FUNCTION = "AWS::Lambda::Function"

EMPTY_TAGS: Mapping[str, str] = MappingProxyType({})


class Compliance(enum.StrEnum):
    COMPLIANT = "COMPLIANT"
    NON_COMPLIANT = "NON_COMPLIANT"
    NOT_APPLICABLE = "NOT_APPLICABLE"


# Policy parts are NamedTuples: immutable and typed like the dataclasses, but several times cheaper
# to build, and a fleet sweep builds a few per function (see benchmarks/bench_engine.py).
class Condition(NamedTuple):
    """One ``operator -> key -> values`` triple of a policy statement's Condition block."""

    operator: str
    key: str
    values: tuple[str, ...]


class Principal(NamedTuple):
    """One principal entry: ``kind`` is ``*`` for a bare ``"Principal": "*"``, else the map key
    (``AWS``, ``Service``, ``Federated``, ``CanonicalUser``)."""

    kind: str
    value: str


class PolicyStatement(NamedTuple):
    position: int
    sid: str | None
    effect: str
    principals: tuple[Principal, ...]
    uses_not_principal: bool
    actions: tuple[str, ...]
    conditions: tuple[Condition, ...]

    @property
    def label(self) -> str:
        """How annotations name the statement: its Sid, else its position."""
        return f"statement '{self.sid}'" if self.sid else f"statement #{self.position + 1}"


@dataclass(frozen=True, slots=True)
class ResourcePolicy:
    statements: tuple[PolicyStatement, ...]


@dataclass(frozen=True, slots=True)
class UnreadablePolicy:
    """The source had a policy that could not be parsed. Checks that need the policy must refuse
    to give a verdict rather than treat it as "no policy"."""

    reason: str


class KeyManager(enum.StrEnum):
    """Who manages a KMS key (``kms:DescribeKey``'s ``KeyMetadata.KeyManager``)."""

    AWS = "AWS"
    CUSTOMER = "CUSTOMER"
    # The caller cannot ask KMS (the offline ``evaluate`` CLI): the key ARN decides, and the
    # annotation says the manager was not verified.
    UNVERIFIED = "UNVERIFIED"


class QualifierKind(enum.StrEnum):
    ALIAS = "alias"
    VERSION = "version"


@dataclass(frozen=True, slots=True)
class QualifiedPolicy:
    """The resource policy of one alias or published version (``GetPolicy(Qualifier=...)``):
    permissions added with a qualifier live only there."""

    kind: QualifierKind
    qualifier: str
    policy: ResourcePolicy | UnreadablePolicy | None

    @property
    def label(self) -> str:
        return f"{self.kind.value} '{self.qualifier}'"


# --- issue 11 (rules-b): function URLs, code signing, secrets in variables, shared roles ---
class FunctionUrl(NamedTuple):
    """One function URL: ``qualifier`` None for the function's own ($LATEST), else its alias."""

    qualifier: str | None
    auth_type: str

    @property
    def label(self) -> str:
        return f"alias '{self.qualifier}'" if self.qualifier else "the function"


@dataclass(frozen=True, slots=True)
class CodeSigning:
    """What a source says about the function's code signing configuration.

    ``config_arn`` None: none is attached. ``policy`` None with an ARN: the configuration's
    content is unknown (a template naming a configuration it does not hold)."""

    config_arn: str | None
    policy: CodeSigningPolicy | None = None


@dataclass(frozen=True, slots=True)
class CodeSigningPolicy:
    """``GetCodeSigningConfig``'s ``CodeSigningPolicies`` and ``AllowedPublishers``."""

    untrusted_artifact_on_deployment: str
    signing_profile_version_arns: tuple[str, ...]


class SecretFinding(NamedTuple):
    """An environment variable whose value looks like a secret: its name and the kind of
    secret, never the value (the detector at the edge that read the value drops it)."""

    name: str
    kind: str
    # Bits per character, for high-entropy findings only: the rule's threshold decides.
    entropy: float | None = None


@dataclass(frozen=True, slots=True)
class RolePeers:
    """The other functions of the account and Region that use the same execution role.

    ``scope`` names what the index covers ("the account and Region", "the template");
    ``whole_account`` says whether that is every function the role could be shared with (a
    template is not); ``unread`` counts functions of the scope that could not be read (one of
    them may share the role)."""

    names: tuple[str, ...]
    scope: str
    whole_account: bool
    unread: int = 0


@dataclass(frozen=True, slots=True)
class EventInvokeConfig:
    """What a function's asynchronous invocation configuration says (issue 11): the ARN of its
    ``DestinationConfig.OnFailure.Destination``, None when it has none (or no configuration)."""

    on_failure_destination: str | None = None


NO_EVENT_INVOKE_CONFIG = EventInvokeConfig()


@dataclass(frozen=True, slots=True)
class LambdaFunction:
    name: str
    arn: str
    account_id: str
    region: str
    runtime: str | None = None
    role: str | None = None
    package_type: str | None = None
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    dead_letter_target_arn: str | None = None
    kms_key_arn: str | None = None
    # None means not asked yet: only kms:DescribeKey knows who manages a key.
    kms_key_manager: KeyManager | None = None
    # None means *unknown*: AWS Config does not record environment variables.
    environment_variable_names: tuple[str, ...] | None = None
    # The error code a source gave instead of the variables (Lambda's Environment.Error, e.g.
    # KMSAccessDeniedException): variables exist, their names are unreadable.
    environment_error: str | None = None
    reserved_concurrency: int | None = None
    policy: ResourcePolicy | UnreadablePolicy | None = None
    # None means not read: Config's items and GetPolicy without Qualifier never carry them.
    qualified_policies: tuple[QualifiedPolicy, ...] | None = None
    # None means unknown: Config does not record function URLs.
    function_url_auth_type: str | None = None
    tags: Mapping[str, str] = field(default_factory=lambda: EMPTY_TAGS)
    # --- issue 11: tracing, availability zones, asynchronous invocation (rules-a) ---
    # TracingConfig.Mode (``Active`` or ``PassThrough``); None when the source gives none.
    tracing_mode: str | None = None
    # Subnet id -> its availability zone (ec2:DescribeSubnets). None: not read (neither Config's
    # item nor the Lambda API carries zones). A subnet missing from the map has an unknown zone.
    subnet_zones: Mapping[str, str] | None = None
    # The function's ($LATEST) asynchronous invocation configuration. None: not read (Config
    # does not record it: GetFunctionEventInvokeConfig).
    event_invoke_config: EventInvokeConfig | None = None
    # --- issue 11 (rules-b); None means unknown / not read for each ---
    # Every URL of the function and its aliases (Config records none: ListFunctionUrlConfigs).
    function_urls: tuple[FunctionUrl, ...] | None = None
    # GetFunctionCodeSigningConfig + GetCodeSigningConfig (Config does not record them).
    code_signing: CodeSigning | None = None
    # (name, kind) of each variable whose value looks like a secret; values are never kept.
    environment_secrets: tuple[SecretFinding, ...] | None = None
    # Only an inventory-wide read (the periodic sweep, a whole template) knows them.
    role_peers: RolePeers | None = None

    @property
    def partition(self) -> str:
        parts = self.arn.split(":", 2)
        return parts[1] if len(parts) > 2 and parts[1] else "aws"


@dataclass(frozen=True, slots=True)
class ConfigurationItem:
    """What the scope rules need from a configuration item, plus the function when there is one.

    ``function`` is None exactly when the item is not an ``AWS::Lambda::Function`` or describes a
    deleted / not-recorded resource (no configuration to read)."""

    resource_type: str
    resource_id: str
    status: str
    capture_time: str | None
    account_id: str | None
    region: str | None
    arn: str | None
    function: LambdaFunction | None


@dataclass(frozen=True, slots=True)
class Verdict:
    compliance: Compliance
    annotation: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    rule_id: str
    resource_id: str
    resource_type: str
    compliance: Compliance
    annotation: str
    # Synth time only: the unresolved CloudFormation values (``Ref MyParam`` ...) that decided a
    # NON_COMPLIANT verdict: resolved favourably, the verdict would differ. Empty when the
    # verdict holds whatever they resolve to (``rules.adapters.cloudformation_unknowns``).
    unresolved: tuple[str, ...] = ()
    # The honoured exemption's reason and expiry (``rules.exemptions``) when the function's
    # exemption tag waived the rule: the verdict is NOT_APPLICABLE and the finding suppressed.
    exempted_because: str | None = None

    @property
    def decided_by_unresolved(self) -> bool:
        """NON_COMPLIANT only because values known at deploy time were taken at their worst."""
        return bool(self.unresolved)

    def as_json(self) -> dict[str, str]:
        return {
            "rule": self.rule_id,
            "resource_id": self.resource_id,
            "resource_type": self.resource_type,
            "compliance": self.compliance.value,
            "annotation": self.annotation,
        }
