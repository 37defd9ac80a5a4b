from __future__ import annotations

import json

import pytest

from rules.adapters.config_item import configuration_item_from_dict
from rules.checks import env_vars_cmk
from rules.engine import evaluate_function, evaluate_item, evaluate_item_offline
from rules.errors import UnknownFieldError
from rules.model import Compliance
from rules.parameters import NO_PARAMETERS, parse_parameters
from rules.registry import RULES
from rules.rule import Field
from tests.factories import function, statement, with_policy


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
@pytest.mark.parametrize(
    ("status", "resource_type", "left_scope", "fragment"),
    [
        ("ResourceDeleted", "AWS::Lambda::Function", False, "ResourceDeleted"),
        (
            "ResourceDeletedNotRecorded",
            "AWS::Lambda::Function",
            False,
            "ResourceDeletedNotRecorded",
        ),
        ("ResourceNotRecorded", "AWS::Lambda::Function", False, "ResourceNotRecorded"),
        ("OK", "AWS::S3::Bucket", False, "AWS::S3::Bucket"),
        ("OK", "AWS::Lambda::Function", True, "left the rule's scope"),
    ],
)
def test_not_applicable_for_every_rule(
    rule, noncompliant_item: dict, status: str, resource_type: str, left_scope: bool, fragment: str
) -> None:
    noncompliant_item.update(configurationItemStatus=status, resourceType=resource_type)
    if status != "OK":
        noncompliant_item["configuration"] = None
    item = configuration_item_from_dict(noncompliant_item)
    result = evaluate_item(rule, item, NO_PARAMETERS, event_left_scope=left_scope)
    assert result.compliance is Compliance.NOT_APPLICABLE
    assert fragment in result.annotation
    assert (result.rule_id, result.resource_id, result.resource_type) == (
        rule.id,
        "orders-api",
        resource_type,
    )


@pytest.mark.parametrize("status", ["OK", "ResourceDiscovered"])
def test_recorded_items_are_evaluated(compliant_item: dict, status: str) -> None:
    compliant_item["configurationItemStatus"] = status
    item = configuration_item_from_dict(compliant_item)
    offline = {rule.id: evaluate_item_offline(rule, item, NO_PARAMETERS) for rule in RULES}
    # What Config never records (URLs, code signing, variable values, other functions' roles,
    # the subnets' zones) fails closed offline, saying so; the handler reads it instead.
    for rule_id in UNRECORDED:
        evaluation = offline.pop(rule_id)
        assert evaluation.compliance is Compliance.NON_COMPLIANT
        assert "counted as non-compliant until they are read" in evaluation.annotation
    assert {e.compliance for e in offline.values()} == {Compliance.COMPLIANT}


UNRECORDED = (
    "lambda-function-url-auth-required",
    "lambda-code-signing-enforced",
    "lambda-no-secrets-in-env-vars",
    "lambda-unique-execution-role",
    "lambda-vpc-multi-az",  # only ec2:DescribeSubnets knows a subnet's zone
)


def test_annotations_keep_the_whole_text_past_configs_limit() -> None:
    # Only PutEvaluations cuts to Config's 256 characters (rules.aws.publish); findings, the
    # CLIs and reports get every statement the check named.
    sids = [f"public-statement-number-{i}" for i in range(20)]
    result = evaluate_function(
        RULES[0], with_policy(*(statement(sid=s) for s in sids)), NO_PARAMETERS
    )
    assert len(result.annotation) > 256
    assert not result.annotation.endswith("...")
    assert all(f"statement '{sid}' allows" in result.annotation for sid in sids)


def test_online_the_key_manager_of_an_own_account_key_is_asked_for(compliant_item: dict) -> None:
    item = configuration_item_from_dict(compliant_item)
    with pytest.raises(UnknownFieldError) as error:
        evaluate_item(env_vars_cmk.RULE, item, NO_PARAMETERS)
    assert error.value.field == Field.KEY_MANAGER.value


def test_offline_the_key_arn_decides_and_the_annotation_says_unverified(
    compliant_item: dict,
) -> None:
    item = configuration_item_from_dict(compliant_item)
    result = evaluate_item_offline(env_vars_cmk.RULE, item, NO_PARAMETERS)
    assert result.compliance is Compliance.COMPLIANT
    assert "key manager not verified" in result.annotation


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        (None, "no customer-managed KMS key"),
        ("arn:aws:kms:us-east-1:111122223333:alias/aws/lambda", "AWS managed"),
    ],
)
def test_offline_unknown_environment_still_fails_closed(
    compliant_item: dict, key: str | None, fragment: str
) -> None:
    if key is None:
        del compliant_item["configuration"]["kmskeyArn"]
    else:
        compliant_item["configuration"]["kmskeyArn"] = key
    item = configuration_item_from_dict(compliant_item)
    result = evaluate_item_offline(env_vars_cmk.RULE, item, NO_PARAMETERS)
    assert result.compliance is Compliance.NON_COMPLIANT
    assert fragment in result.annotation and "until they are read" in result.annotation


def test_offline_a_listed_key_outside_kms_key_arns_needs_no_manager(compliant_item: dict) -> None:
    other = "arn:aws:kms:us-east-1:111122223333:key/9999abcd-12ab-34cd-56ef-1234567890ab"
    compliant_item["configuration"]["environment"] = {"variables": {"A": "x"}}
    item = configuration_item_from_dict(compliant_item)
    parameters = parse_parameters(env_vars_cmk.RULE, {"kmsKeyArns": other})
    result = evaluate_item_offline(env_vars_cmk.RULE, item, parameters)
    assert result.compliance is Compliance.NON_COMPLIANT
    assert "not in kmsKeyArns" in result.annotation and "not verified" not in result.annotation


def test_offline_evaluations_keep_the_whole_text_too(noncompliant_item: dict) -> None:
    sids = [f"public-statement-number-{i}" for i in range(20)]
    policy = {"Version": "2012-10-17", "Statement": [statement(sid=s) for s in sids]}
    noncompliant_item["supplementaryConfiguration"]["Policy"] = json.dumps(policy)
    item = configuration_item_from_dict(noncompliant_item)
    result = evaluate_item_offline(RULES[0], item, NO_PARAMETERS)
    assert len(result.annotation) > 256
    assert all(sid in result.annotation for sid in sids)


def test_evaluation_json_fields() -> None:
    result = evaluate_function(RULES[1], function(), NO_PARAMETERS)
    assert result.as_json() == {
        "rule": "lambda-inside-vpc",
        "resource_id": "orders-api",
        "resource_type": "AWS::Lambda::Function",
        "compliance": "NON_COMPLIANT",
        "annotation": "function is not connected to a VPC (no subnets)",
    }
