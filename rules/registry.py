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
    unique_role,
)
from rules.rule import Rule

RULES: tuple[Rule, ...] = (
    public_access.RULE,
    inside_vpc.RULE,
    env_vars_cmk.RULE,
    dlq.RULE,
    concurrency.RULE,
    # issue 11 (rules-b)
    function_url_auth.RULE,
    code_signing.RULE,
    no_secrets.RULE,
    unique_role.RULE,
)
ENABLED_BY_DEFAULT: tuple[Rule, ...] = tuple(rule for rule in RULES if rule.enabled_by_default)
RULES_BY_ID: Mapping[str, Rule] = {rule.id: rule for rule in RULES}


def get_rule(rule_id: str) -> Rule:
    try:
        return RULES_BY_ID[rule_id]
    except KeyError:
        known = ", ".join(RULES_BY_ID)
        raise KeyError(f"unknown rule {rule_id!r} (known: {known})") from None
