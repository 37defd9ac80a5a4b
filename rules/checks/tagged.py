"""``lambda-tagged`` (off by default): the function carries the tags the organization requires.

Parameters (each a string in Config's InputParameters, which hold at most 1,024 characters):

- ``requiredTagKeys``: comma-separated tag keys the function must carry (``team,env``). Tag keys
  cannot hold a comma, so the list is unambiguous.
- ``allowedTagValues``: a JSON object from tag key to the values it may take
  (``{"env": ["prod", "dev"]}``). A key listed here and present on the function must hold one
  of its values; it is required only when ``requiredTagKeys`` names it too. JSON, because tag
  values may hold ``+ - = . _ : / @`` and spaces: no separator from that set is safe.

With neither, the function must carry at least one tag, as AWS's managed rule
``lambda-function-tagged`` checks. Tags whose key starts with ``aws:`` are AWS's own and never
count (AWS does not let them be required either). Keys and values compare case-sensitively, as
AWS's tags do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from rules.errors import InvalidParameterError
from rules.model import Compliance, LambdaFunction, Verdict
from rules.parameters import ParameterKind, Parameters, ParameterSpec, ValueFormat
from rules.rule import Rule, Severity

AWS_PREFIX = "aws:"
# What Lambda accepts in a tag key (1-128) and value (0-256): letters, digits, spaces, _.:/=+-@.
TAG_KEY = re.compile(r"[\w .:/=+\-@]{1,128}")
TAG_VALUE = re.compile(r"[\w .:/=+\-@]{0,256}")

REQUIRED_TAG_KEYS = ParameterSpec(
    "requiredTagKeys",
    ParameterKind.CSV,
    "Comma-separated tag keys the function must carry (case-sensitive; not aws:).",
    ValueFormat(TAG_KEY, "a tag key (letters, digits, spaces and _ . : / = + - @)"),
)
ALLOWED_TAG_VALUES = ParameterSpec(
    "allowedTagValues",
    ParameterKind.STRING,
    'JSON object from tag key to its allowed values, e.g. {"env": ["prod", "dev"]}: a listed '
    "key the function carries must hold one of them (required only if requiredTagKeys names it).",
)


def allowed_tag_values(text: str | None) -> Mapping[str, tuple[str, ...]]:
    """``allowedTagValues`` decoded; ``ValueError`` saying what is wrong."""
    if text is None:
        return {}
    try:
        decoded = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not a JSON object ({error.msg})") from None
    if not isinstance(decoded, dict) or not decoded:
        raise ValueError('expected a non-empty JSON object like {"env": ["prod", "dev"]}')
    result: dict[str, tuple[str, ...]] = {}
    for key, values in decoded.items():
        if not TAG_KEY.fullmatch(key) or key.lower().startswith(AWS_PREFIX):
            raise ValueError(f"{key!r} is not a tag key this rule can check")
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) and TAG_VALUE.fullmatch(v) for v in values)
        ):
            raise ValueError(f"{key!r}: expected a non-empty list of tag values")
        result[key] = tuple(values)
    return result


def validate_tag_parameters(rule_id: str, parameters: Parameters) -> None:
    for key in parameters.csv(REQUIRED_TAG_KEYS.name) or ():
        if key.lower().startswith(AWS_PREFIX):
            raise InvalidParameterError(
                rule_id, REQUIRED_TAG_KEYS.name, key, "aws: tag keys are AWS's own"
            )
    text = parameters.text(ALLOWED_TAG_VALUES.name)
    try:
        allowed_tag_values(text)
    except ValueError as error:
        raise InvalidParameterError(rule_id, ALLOWED_TAG_VALUES.name, text, str(error)) from None


def check_tagged(function: LambdaFunction, parameters: Parameters) -> Verdict:
    """NON_COMPLIANT when a key of ``requiredTagKeys`` is missing, a key of
    ``allowedTagValues`` holds another value, or (with neither set) the function has no tag."""
    tags = {k: v for k, v in function.tags.items() if not k.lower().startswith(AWS_PREFIX)}
    required = parameters.csv(REQUIRED_TAG_KEYS.name) or ()
    allowed = allowed_tag_values(parameters.text(ALLOWED_TAG_VALUES.name))
    if not required and not allowed:
        if not tags:
            return Verdict(Compliance.NON_COMPLIANT, "function has no tags")
        return Verdict(Compliance.COMPLIANT, f"function has {len(tags)} tag(s)")
    problems = []
    missing = [key for key in required if key not in tags]
    if missing:
        problems.append(f"missing required tag(s) {', '.join(missing)}")
    # Tag values are the function's own labels, not secrets: naming them tells what to fix.
    wrong = [
        f"{key}={tags[key]!r} (allowed: {', '.join(values)})"
        for key, values in allowed.items()
        if key in tags and tags[key] not in values
    ]
    if wrong:
        problems.append(f"tag value(s) not allowed: {'; '.join(wrong)}")
    if problems:
        return Verdict(Compliance.NON_COMPLIANT, "; ".join(problems))
    checked = sorted({*required, *(key for key in allowed if key in tags)})
    return Verdict(
        Compliance.COMPLIANT,
        f"required tag(s) present and values allowed ({', '.join(checked) or 'none present'})",
    )


RULE = Rule(
    id="lambda-tagged",
    title="Lambda functions carry the required tags",
    description=(
        "Checks that the function carries every tag key of requiredTagKeys and, for each key "
        "of allowedTagValues it carries, one of the allowed values; with neither set, that it "
        "has at least one tag. Tags starting with aws: are ignored. Off by default."
    ),
    severity=Severity.LOW,
    check=check_tagged,
    remediation=(
        "Tag the function (aws lambda tag-resource --resource <function ARN> --tags "
        "key=value) with the required keys and allowed values, ideally in its template."
    ),
    documentation_url="https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html",
    parameters=(REQUIRED_TAG_KEYS, ALLOWED_TAG_VALUES),
    validate_parameters=validate_tag_parameters,
    # ListFunctions and GetFunctionConfiguration carry no tags: the Lambda API fallback lists them.
    lambda_api_reads=("ListTags",),
    enabled_by_default=False,
)
