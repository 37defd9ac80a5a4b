"""The one description of a rule. Everything else (CLI, CDK, docs, findings) reads these."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable

from rules.model import LambdaFunction, Verdict
from rules.parameters import Parameters, ParameterSpec

Check = Callable[[LambdaFunction, Parameters], Verdict]
ParametersValidator = Callable[[str, Parameters], None]


class Severity(enum.StrEnum):
    """Security Hub severity labels."""

    INFORMATIONAL = "INFORMATIONAL"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class Field(enum.StrEnum):
    """Model fields some sources do not record; a rule that needs one says so."""

    ENVIRONMENT = "environment variables"
    KEY_MANAGER = "KMS key manager"
    QUALIFIED_POLICIES = "alias and version resource policies"
    # issue 11 (rules-a)
    SUBNET_ZONES = "subnets' availability zones"
    EVENT_INVOKE_CONFIG = "asynchronous invocation configuration"
    # --- issue 11 (rules-b) ---
    FUNCTION_URLS = "function URLs"
    CODE_SIGNING = "code signing configuration"
    ENVIRONMENT_SECRETS = "environment variable values (scanned for secrets)"
    ROLE_PEERS = "other functions using the execution role"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    description: str
    severity: Severity
    check: Check
    remediation: str
    documentation_url: str
    parameters: tuple[ParameterSpec, ...] = ()
    validate_parameters: ParametersValidator | None = None
    # Fields the check may need that Config does not record (the handler reads them on demand).
    may_need: frozenset[Field] = frozenset()
    # Lambda API reads beyond GetFunctionConfiguration that the check's fields come from when
    # Config has not recorded the function (e.g. "GetPolicy"); IAM grants derive from this.
    lambda_api_reads: tuple[str, ...] = ()
    # Fields only periodic evaluations (the sweep, ``scan``) read: Config sends no change event
    # when they change, so change-triggered evaluations do without them and say so.
    periodic_reads: frozenset[Field] = frozenset()
    # A periodic trigger (an AWS Config MaximumExecutionFrequency, e.g. "TwentyFour_Hours") the
    # deployed rule gets even when the stack's periodicFrequency is off: for what Config sends
    # no change event about. None: change-triggered only, unless the stack adds one.
    default_periodic_frequency: str | None = None
    # Off-by-default rules (issue 11: lambda-tagged, lambda-code-signing-enforced) run only when
    # asked for by id: the stack's enabledRules "default", the pack, the hook and the CLIs'
    # "default" selection leave them out; "all" and an explicit id include them.
    enabled_by_default: bool = True
    # Whether a function's exemption tag (``rules.exemptions``) can waive this rule. A rule
    # whose verdict must never be waived, whatever a function's owner writes, sets False.
    exemptible: bool = True

    @property
    def api_reads(self) -> tuple[str, ...]:
        """The Lambda API reads the function needs when Config has not recorded it:
        ``lambda_api_reads``, plus ``ListTags`` for an exemptible rule (ListFunctions and
        GetFunctionConfiguration carry no tags, and the exemption tag is one)."""
        extra = ("ListTags",) if self.exemptible else ()
        return tuple(dict.fromkeys((*self.lambda_api_reads, *extra)))
    # False: periodic only (a cross-function view no change event gives); the deployed Config
    # rule has no change triggers and a change event that reaches it anyway is not evaluated.
    change_triggered: bool = True
