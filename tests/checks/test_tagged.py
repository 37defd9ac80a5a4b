"""lambda-tagged (off by default): required keys, allowed values, aws: tags ignored."""

from __future__ import annotations

import json

import pytest

from rules.checks.tagged import RULE, check_tagged
from rules.errors import InvalidParameterError
from rules.model import Compliance
from rules.parameters import parse_parameters
from tests.factories import function

ENV_PROD_DEV = json.dumps({"env": ["prod", "dev"]})


@pytest.mark.parametrize(
    ("tags", "raw", "expected", "fragment"),
    [
        # No parameters: at least one tag, as AWS's lambda-function-tagged.
        ({}, {}, Compliance.NON_COMPLIANT, "function has no tags"),
        ({"aws:cloudformation:stack-name": "s"}, {}, Compliance.NON_COMPLIANT, "no tags"),
        ({"team": "orders"}, {}, Compliance.COMPLIANT, "1 tag(s)"),
        # requiredTagKeys: every key, case-sensitive.
        (
            {"team": "orders", "env": "prod"},
            {"requiredTagKeys": "team,env"},
            Compliance.COMPLIANT,
            "team",
        ),
        (
            {"team": "orders"},
            {"requiredTagKeys": "team,env"},
            Compliance.NON_COMPLIANT,
            "missing required tag(s) env",
        ),
        (
            {"Team": "orders"},
            {"requiredTagKeys": "team"},
            Compliance.NON_COMPLIANT,
            "missing required tag(s) team",
        ),
        # allowedTagValues: a present key holds an allowed value; absent, it is not required.
        ({"env": "prod"}, {"allowedTagValues": ENV_PROD_DEV}, Compliance.COMPLIANT, "env"),
        (
            {"env": "test"},
            {"allowedTagValues": ENV_PROD_DEV},
            Compliance.NON_COMPLIANT,
            "env='test' (allowed: prod, dev)",
        ),
        (
            {"env": "Prod"},
            {"allowedTagValues": ENV_PROD_DEV},
            Compliance.NON_COMPLIANT,
            "not allowed",
        ),
        (
            {"team": "orders"},
            {"allowedTagValues": ENV_PROD_DEV},
            Compliance.COMPLIANT,
            "none present",
        ),
        # Both: required and allowed.
        (
            {"team": "x"},
            {"requiredTagKeys": "env", "allowedTagValues": ENV_PROD_DEV},
            Compliance.NON_COMPLIANT,
            "missing required tag(s) env",
        ),
        (
            {"env": "qa"},
            {"requiredTagKeys": "team,env", "allowedTagValues": ENV_PROD_DEV},
            Compliance.NON_COMPLIANT,
            "missing required tag(s) team; tag value(s) not allowed: env='qa'",
        ),
        # Values may hold + - = . _ : / @ and spaces.
        (
            {"owner": "a+b@example.com"},
            {"allowedTagValues": '{"owner": ["a+b@example.com"]}'},
            Compliance.COMPLIANT,
            "owner",
        ),
    ],
)
def test_verdicts(tags: dict, raw: dict, expected: Compliance, fragment: str) -> None:
    result = check_tagged(function(tags=tags), parse_parameters(RULE, raw))
    assert result.compliance is expected, result.annotation
    assert fragment in result.annotation


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ({"requiredTagKeys": "aws:createdBy"}, "requiredTagKeys"),
        ({"requiredTagKeys": "team;env"}, "requiredTagKeys"),
        ({"allowedTagValues": "env=prod"}, "allowedTagValues"),
        ({"allowedTagValues": "[]"}, "allowedTagValues"),
        ({"allowedTagValues": "{}"}, "allowedTagValues"),
        ({"allowedTagValues": '{"env": "prod"}'}, "allowedTagValues"),
        ({"allowedTagValues": '{"env": []}'}, "allowedTagValues"),
        ({"allowedTagValues": '{"env": ["a,b"]}'}, "allowedTagValues"),
        ({"allowedTagValues": '{"aws:x": ["a"]}'}, "allowedTagValues"),
    ],
)
def test_bad_parameters_are_refused(raw: dict, name: str) -> None:
    with pytest.raises(InvalidParameterError) as error:
        parse_parameters(RULE, raw)
    assert error.value.name == name


def test_off_by_default_and_reads_tags_in_the_lambda_api_fallback() -> None:
    assert RULE.enabled_by_default is False
    assert RULE.lambda_api_reads == ("ListTags",)
