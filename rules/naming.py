"""Names the product gives AWS resources, shared by the CDK app and the code that refers to them.

Config rule names are the registry's rule ids behind a prefix (``ruleNamePrefix``, default
``guardrails-``): four of the bare ids are exactly the names of AWS managed rules, which a
deployment must never overwrite or delete. The ids users type (CLI, parameters, findings'
``GeneratorId``) stay bare.
"""

from __future__ import annotations

DEFAULT_RULE_NAME_PREFIX = "guardrails-"


def config_rule_name(rule_id: str, prefix: str = DEFAULT_RULE_NAME_PREFIX) -> str:
    return f"{prefix}{rule_id}"
