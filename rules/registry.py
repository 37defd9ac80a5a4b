"""Every rule, described once. Add a rule by adding its module here."""

from __future__ import annotations

from typing import Mapping

from rules.checks import (
    code_signing,
    concurrency,
    dlq,
    env_vars_cmk,
    function_url_auth,
    inside_vpc,
    no_secrets,
    public_access,
    runtime_supported,
    tagged,
    unique_role,
    vpc_multi_az,
    xray_tracing,
)
from rules.rule import Rule

# The five core rules: the product's first set, which the remediation runbooks cover and the
# benchmarks compare with peers on.
CORE_RULES: tuple[Rule, ...] = (
    public_access.RULE,
    inside_vpc.RULE,
    env_vars_cmk.RULE,
    dlq.RULE,
    concurrency.RULE,
)
RULES: tuple[Rule, ...] = (
    *CORE_RULES,
    # issue 11: the rest of AWS's Lambda guidance
    function_url_auth.RULE,
    runtime_supported.RULE,
    xray_tracing.RULE,
    code_signing.RULE,
    no_secrets.RULE,
    unique_role.RULE,
    vpc_multi_az.RULE,
    tagged.RULE,
)
RULES_BY_ID: Mapping[str, Rule] = {rule.id: rule for rule in RULES}
# What "default" selects (the stack's enabledRules default, the CLIs without --rule).
DEFAULT_RULES: tuple[Rule, ...] = tuple(rule for rule in RULES if rule.enabled_by_default)


def get_rule(rule_id: str) -> Rule:
    try:
        return RULES_BY_ID[rule_id]
    except KeyError:
        known = ", ".join(RULES_BY_ID)
        raise KeyError(f"unknown rule {rule_id!r} (known: {known})") from None
