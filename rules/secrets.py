"""Does an environment variable's value look like a secret? The detector the edges run.

Values are read where they arrive (``rules.aws.inventory``, the adapters) and go no further:
``scan_variables`` returns ``SecretFinding(name, kind)`` for each suspicious variable, never the
value, and nothing here logs, stores or raises with a value in it.

Kinds: well-known credential formats (AWS access key ids and secret keys, PEM private keys,
GitHub, Slack, Stripe, Google tokens, JWTs, credentials in a URL), a literal value in a variable
whose name says it holds a secret (``*PASSWORD*``, ``*SECRET*``, ``*TOKEN*``, ...) rather than a
reference to one (a Secrets Manager or SSM Parameter Store ARN), a CloudFormation dynamic
reference to Secrets Manager (CloudFormation resolves it into the variable: the plaintext lands
in the function's configuration), and high-entropy strings. A high-entropy finding carries its
entropy so the check, not the edge, applies the rule's threshold.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from rules.model import SecretFinding

AWS_ACCESS_KEY_ID = "AWS access key id"
AWS_SECRET_ACCESS_KEY = "AWS secret access key"
PRIVATE_KEY = "private key (PEM)"
GITHUB_TOKEN = "GitHub token"
SLACK_TOKEN = "Slack token"
SLACK_WEBHOOK = "Slack webhook URL"
STRIPE_KEY = "Stripe key"
GOOGLE_API_KEY = "Google API key"
JWT = "JSON Web Token"
URL_CREDENTIALS = "credentials in a URL"
SECRET_NAME_LITERAL = "literal value in a variable named like a secret"
RESOLVED_SECRET = "Secrets Manager dynamic reference (resolved into plaintext at deploy time)"
HIGH_ENTROPY = "high-entropy string"

FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (PRIVATE_KEY, re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----")),
    (
        AWS_ACCESS_KEY_ID,
        re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])"),
    ),
    (GITHUB_TOKEN, re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})")),
    (SLACK_TOKEN, re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    (SLACK_WEBHOOK, re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+")),
    (STRIPE_KEY, re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}")),
    (GOOGLE_API_KEY, re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    (JWT, re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{8,}")),
    (URL_CREDENTIALS, re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:[^/\s@]+@")),
)
# 40 characters of base64 with upper, lower case and digits: the shape of a secret access key.
SECRET_ACCESS_KEY = re.compile(r"[A-Za-z0-9/+]{40}")
SECRET_NAME_PARTS = frozenset(
    {"PASSWORD", "PASSWD", "PWD", "SECRET", "TOKEN", "APIKEY", "CREDENTIAL", "CREDENTIALS"}
)
SECRET_NAME_PAIRS = (("API", "KEY"), ("PRIVATE", "KEY"), ("ACCESS", "KEY"), ("SECRET", "KEY"))
# A reference to where the secret lives, which the function resolves at run time.
REFERENCE = re.compile(
    r"arn:aws[a-z-]*:(?:secretsmanager:[a-z0-9-]+:\d{12}:secret:|ssm:[a-z0-9-]+:\d{12}:parameter/)"
    r"\S+|\{\{resolve:ssm:[^}]+\}\}"
)
RESOLVE_SECRET = re.compile(r"\{\{resolve:(?:secretsmanager|ssm-secure):[^}]+\}\}")
# Not a secret whatever the name: numbers, booleans, empty.
HARMLESS = re.compile(r"|[0-9.]+|true|false|yes|no|on|off|none|null", re.IGNORECASE)
# Candidates for the entropy test: long tokens without spaces; the threshold is the check's.
ENTROPY_CANDIDATE = re.compile(r"[A-Za-z0-9+/=_\-.~]{20,}")
ENTROPY_FLOOR = 3.0  # bits per character below which no threshold a user sets would flag
NAME_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])")


def scan_variables(variables: Mapping[str, Any]) -> tuple[SecretFinding, ...]:
    """A finding per variable whose value looks like a secret (the strongest kind), by name.
    Non-string values (a template's intrinsic function) are references, not literals."""
    findings = []
    for name in sorted(variables):
        value = variables[name]
        if isinstance(value, str):
            finding = _finding(name, value)
            if finding is not None:
                findings.append(finding)
    return tuple(findings)


def _finding(name: str, value: str) -> SecretFinding | None:
    if RESOLVE_SECRET.search(value):
        return SecretFinding(name, RESOLVED_SECRET)
    for kind, pattern in FORMATS:
        if pattern.search(value):
            return SecretFinding(name, kind)
    text = value.strip()
    if SECRET_ACCESS_KEY.fullmatch(text) and _mixed(text):
        return SecretFinding(name, AWS_SECRET_ACCESS_KEY)
    if is_secret_name(name) and not HARMLESS.fullmatch(text) and not REFERENCE.fullmatch(text):
        return SecretFinding(name, SECRET_NAME_LITERAL)
    if REFERENCE.fullmatch(text):
        return None
    entropy = max((shannon_entropy(m) for m in ENTROPY_CANDIDATE.findall(text)), default=0.0)
    if entropy >= ENTROPY_FLOOR:
        return SecretFinding(name, HIGH_ENTROPY, round(entropy, 2))
    return None


def is_secret_name(name: str) -> bool:
    """``DB_PASSWORD``, ``apiToken``, ``STRIPE_SECRET_KEY``: a part of the name says secret."""
    parts = [part.upper() for part in NAME_SPLIT.split(name) if part]
    if any(part in SECRET_NAME_PARTS for part in parts):
        return True
    return bool(set(itertools.pairwise(parts)) & set(SECRET_NAME_PAIRS))


def _mixed(text: str) -> bool:
    return (
        any(c.isupper() for c in text)
        and any(c.islower() for c in text)
        and any(c.isdigit() for c in text)
    )


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text``'s own character distribution."""
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def kinds(findings: Iterable[SecretFinding]) -> set[str]:
    return {finding.kind for finding in findings}
