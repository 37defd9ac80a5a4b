from __future__ import annotations

import re

from rules.errors import InvalidInputError, InvalidParameterError, UnknownFieldError
from rules.model import Compliance, LambdaFunction, SecretFinding, Verdict
from rules.parameters import ParameterKind, Parameters, ParameterSpec, ValueFormat
from rules.rule import Field, Rule, Severity

ENTROPY_THRESHOLD = ParameterSpec(
    "entropyThreshold",
    ParameterKind.STRING,
    "Shannon entropy (bits per character, 3.0 to 6.0) at or above which a value of 20 or more "
    "characters without spaces counts as a secret.",
    ValueFormat(re.compile(r"[0-9]+(?:\.[0-9]+)?"), "a number of bits per character like 4.5"),
    default="4.5",
)
IGNORED_VARIABLES = ParameterSpec(
    "ignoredVariableNames",
    ParameterKind.CSV,
    "Comma-separated variable names never reported (known false positives).",
    ValueFormat(re.compile(r"[a-zA-Z][a-zA-Z0-9_]*"), "an environment variable name"),
)
DEFAULT_THRESHOLD = 4.5
# The detector at the edge reports nothing below 3.0; above 6.0 almost nothing is ever flagged.
THRESHOLD_RANGE = (3.0, 6.0)
NAMED = 3  # variables named in full in the annotation; the rest are counted


def validate_threshold(rule_id: str, parameters: Parameters) -> None:
    text = parameters.text(ENTROPY_THRESHOLD.name)
    if text is not None and not THRESHOLD_RANGE[0] <= float(text) <= THRESHOLD_RANGE[1]:
        raise InvalidParameterError(
            rule_id, ENTROPY_THRESHOLD.name, text, "must lie between 3.0 and 6.0"
        )


def check_no_secrets(function: LambdaFunction, parameters: Parameters) -> Verdict:
    """NON_COMPLIANT when an environment variable's value looks like a secret (a credential
    format, a literal in a variable named like a secret, a high-entropy string at or above
    ``entropyThreshold``). The model holds only (name, kind) findings: the annotation names the
    variables and kinds, never a value. Variables that could not be read (their key cannot be
    used: ``Environment.Error``) give no verdict; unscanned ones raise ``UnknownFieldError``
    so the caller reads them (AWS Config never records variables)."""
    findings = function.environment_secrets
    if findings is None:
        if function.environment_error is not None:
            raise InvalidInputError(
                f"function {function.name}: its environment variables could not be read "
                f"({function.environment_error}), so they cannot be scanned for secrets"
            )
        raise UnknownFieldError(
            Field.ENVIRONMENT_SECRETS.value,
            f"function {function.name}: its environment variables have not been scanned "
            "(AWS Config never records them; GetFunctionConfiguration returns them)",
        )
    reported = _reported(findings, parameters)
    if not reported:
        return Verdict(Compliance.COMPLIANT, "no environment variable value looks like a secret")
    shown = "; ".join(f"{finding.name}: {finding.kind}" for finding in reported[:NAMED])
    more = f"; and {len(reported) - NAMED} more" if len(reported) > NAMED else ""
    return Verdict(
        Compliance.NON_COMPLIANT,
        f"{len(reported)} environment variable(s) look like secrets ({shown}{more})",
    )


def _reported(findings: tuple[SecretFinding, ...], parameters: Parameters) -> list[SecretFinding]:
    text = parameters.text(ENTROPY_THRESHOLD.name)
    threshold = float(text) if text is not None else DEFAULT_THRESHOLD
    ignored = set(parameters.csv(IGNORED_VARIABLES.name) or ())
    return [
        finding
        for finding in findings
        if finding.name not in ignored and (finding.entropy is None or finding.entropy >= threshold)
    ]


RULE = Rule(
    id="lambda-no-secrets-in-env-vars",
    title="Lambda environment variables hold no secrets",
    description=(
        "Checks that no environment variable value looks like a secret (AWS keys, private "
        "keys, tokens, credentials in URLs, high-entropy strings, literals in variables named "
        "like secrets); only variable names and kinds are reported."
    ),
    severity=Severity.HIGH,
    check=check_no_secrets,
    remediation=(
        "Move the secret to AWS Secrets Manager (or an SSM SecureString parameter), put its ARN "
        "in the variable, read it at run time (the Parameters and Secrets Lambda extension "
        "caches it), and rotate the exposed value."
    ),
    documentation_url="https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html",
    parameters=(ENTROPY_THRESHOLD, IGNORED_VARIABLES),
    validate_parameters=validate_threshold,
    may_need=frozenset({Field.ENVIRONMENT_SECRETS}),
)
