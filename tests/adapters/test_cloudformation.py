"""Synth-time models: CloudFormation resources become the same model the checks read."""

from __future__ import annotations

from typing import Any

import pytest

from rules.adapters.cloudformation import StackEnvironment, functions_from_template
from rules.engine import evaluate_function
from rules.model import Compliance, KeyManager
from rules.parameters import NO_PARAMETERS
from rules.registry import RULES, get_rule

ENV = StackEnvironment(account="111122223333", region="eu-west-1")


def template() -> dict[str, Any]:
    return {
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}},
            "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "RuleFn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.12",
                    "VpcConfig": {
                        "SubnetIds": ["subnet-0a1b2c3d"],
                        "SecurityGroupIds": [{"Fn::GetAtt": ["Sg", "GroupId"]}],
                    },
                    "DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}},
                    "KmsKeyArn": {"Fn::GetAtt": ["Key", "Arn"]},
                    "Environment": {"Variables": {"RULE_ID": "x", "POWERTOOLS_SERVICE_NAME": "y"}},
                    "ReservedConcurrentExecutions": 2,
                    "Tags": [{"Key": "app", "Value": "guardrails"}],
                },
            },
            "ConfigPermission": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunction",
                    "FunctionName": {"Fn::GetAtt": ["RuleFn", "Arn"]},
                    "Principal": "config.amazonaws.com",
                    "SourceAccount": {"Ref": "AWS::AccountId"},
                },
            },
            "OpenFn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"FunctionName": "open-fn", "Runtime": "python3.12"},
            },
            "OpenUrl": {
                "Type": "AWS::Lambda::Url",
                "Properties": {
                    "AuthType": "NONE",
                    "TargetFunctionArn": {"Fn::GetAtt": ["OpenFn", "Arn"]},
                },
            },
            "OpenUrlPermission": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunctionUrl",
                    "FunctionName": "open-fn",
                    "Principal": "*",
                    "FunctionUrlAuthType": "NONE",
                },
            },
            "S3Permission": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunction",
                    "FunctionName": {"Ref": "OpenFn"},
                    "Principal": "s3.amazonaws.com",
                    "SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:s3:::uploads"},
                },
            },
        }
    }


def verdicts(fn) -> dict[str, Compliance]:
    return {rule.id: evaluate_function(rule, fn, NO_PARAMETERS).compliance for rule in RULES}


def test_compliant_function_passes_every_rule() -> None:
    fn = functions_from_template(template(), ENV)["RuleFn"]
    assert fn.arn == "arn:aws:lambda:eu-west-1:111122223333:function:RuleFn"
    assert fn.dead_letter_target_arn == "arn:aws:sqs:eu-west-1:111122223333:Dlq"
    assert fn.kms_key_arn == "arn:aws:kms:eu-west-1:111122223333:key/Key"
    assert fn.kms_key_manager is KeyManager.CUSTOMER  # the template's own AWS::KMS::Key
    assert fn.environment_variable_names == ("POWERTOOLS_SERVICE_NAME", "RULE_ID")
    assert fn.reserved_concurrency == 2 and dict(fn.tags) == {"app": "guardrails"}
    assert set(verdicts(fn).values()) == {Compliance.COMPLIANT}


def test_permissions_become_statements_lambda_would_write() -> None:
    fn = functions_from_template(template(), ENV)["OpenFn"]
    assert fn.name == "open-fn" and fn.function_url_auth_type == "NONE"
    result = evaluate_function(RULES[0], fn, NO_PARAMETERS)
    assert result.compliance is Compliance.NON_COMPLIANT
    assert "OpenUrlPermission" in result.annotation and "S3Permission" in result.annotation
    assert verdicts(fn)["lambda-inside-vpc"] is Compliance.NON_COMPLIANT


def test_unresolvable_values_are_not_fixed() -> None:
    document = template()
    permission = document["Resources"]["ConfigPermission"]["Properties"]
    permission["SourceAccount"] = {"Fn::ImportValue": "shared-account"}
    fn = functions_from_template(document, ENV)["RuleFn"]
    result = evaluate_function(RULES[0], fn, NO_PARAMETERS)
    assert result.compliance is Compliance.NON_COMPLIANT
    assert result.annotation.endswith(
        "AWS:SourceAccount depends on an unresolved CloudFormation value "
        "(Fn::ImportValue shared-account)"
    )


def with_permission(**properties: Any) -> dict[str, Any]:
    document = template()
    document["Parameters"] = {"PartnerAccount": {"Type": "String", "Default": "444455556666"}}
    document["Mappings"] = {"Accounts": {"Partner": {"Id": "444455556666"}}}
    document["Resources"]["PartnerPermission"] = {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": "RuleFn"},
            **properties,
        },
    }
    return document


def public_access(document: dict[str, Any]):
    fn = functions_from_template(document, ENV)["RuleFn"]
    return evaluate_function(
        get_rule("lambda-function-public-access-prohibited"), fn, NO_PARAMETERS
    )


@pytest.mark.parametrize(
    ("principal", "named"),
    [
        ({"Ref": "PartnerAccount"}, "Ref PartnerAccount"),
        (
            {"Fn::If": ["UsePartner", {"Ref": "PartnerAccount"}, "444455556666"]},
            "Fn::If [UsePartner, (Ref PartnerAccount), 444455556666]",
        ),
        (
            {"Fn::FindInMap": ["Accounts", "Partner", "Id"]},
            "Fn::FindInMap [Accounts, Partner, Id]",
        ),
        ({"Fn::ImportValue": "partner-account"}, "Fn::ImportValue partner-account"),
        (
            {"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "PartnerAccount"}]}]},
            "Fn::Select [0, (Fn::Split [,, (Ref PartnerAccount)])]",
        ),
        (
            {"Fn::Sub": "arn:${AWS::Partition}:iam::${PartnerAccount}:root"},
            "Ref PartnerAccount",
        ),
        (
            {"Fn::Join": ["", ["arn:aws:iam::", {"Ref": "AWS::StackName"}, ":root"]]},
            "Ref AWS::StackName",
        ),
        ({"Fn::GetAtt": ["Dlq", "QueueName"]}, "Fn::GetAtt [Dlq, QueueName]"),
    ],
    ids=["ref-parameter", "if", "find-in-map", "import-value", "select", "sub", "join", "getatt"],
)
def test_unresolved_principal_is_unknown_not_a_named_account(principal: Any, named: str) -> None:
    result = public_access(with_permission(Principal=principal))
    assert result.compliance is Compliance.NON_COMPLIANT
    assert (
        f"statement 'PartnerPermission' allows a principal that is an unresolved "
        f"CloudFormation value ({named}) lambda:InvokeFunction without a condition"
    ) in result.annotation


def test_unresolved_principal_with_a_fixed_source_account_is_restricted() -> None:
    result = public_access(
        with_permission(Principal={"Ref": "PartnerAccount"}, SourceAccount="111122223333")
    )
    assert result.compliance is Compliance.COMPLIANT


@pytest.mark.parametrize(
    ("prop", "value", "named"),
    [
        ("SourceAccount", {"Ref": "PartnerAccount"}, "Ref PartnerAccount"),
        ("SourceArn", {"Fn::ImportValue": "topic-arn"}, "Fn::ImportValue topic-arn"),
        (
            "SourceArn",
            {"Fn::Sub": "arn:aws:sns:${AWS::Region}:${PartnerAccount}:alerts"},
            "Ref PartnerAccount",
        ),
        ("PrincipalOrgID", {"Fn::FindInMap": ["Orgs", "Main", "Id"]}, "Fn::FindInMap [Orgs"),
    ],
)
def test_unresolved_condition_value_does_not_restrict(prop: str, value: Any, named: str) -> None:
    result = public_access(with_permission(Principal="sns.amazonaws.com", **{prop: value}))
    assert result.compliance is Compliance.NON_COMPLIANT
    assert f"depends on an unresolved CloudFormation value ({named}" in result.annotation


def test_resolved_values_still_restrict() -> None:
    # Fn::Sub with its own variable map and Fn::Select from a literal list are known at synth.
    arn = {"Fn::Sub": ["arn:aws:sns:${AWS::Region}:${Account}:alerts", {"Account": "111122223333"}]}
    account = {"Fn::Select": [1, ["444455556666", {"Ref": "AWS::AccountId"}]]}
    assert public_access(
        with_permission(Principal="sns.amazonaws.com", SourceArn=arn)
    ).compliance is (Compliance.COMPLIANT)
    assert (
        public_access(
            with_permission(Principal="s3.amazonaws.com", SourceAccount=account)
        ).compliance
        is Compliance.COMPLIANT
    )


@pytest.mark.parametrize(
    ("given", "read"), [("5", 5), (5, 5), ("0", 0), ("five", None), (True, None)]
)
def test_reserved_concurrency_given_as_text_is_that_integer(given: Any, read: int | None) -> None:
    document = template()
    document["Resources"]["RuleFn"]["Properties"]["ReservedConcurrentExecutions"] = given
    assert functions_from_template(document, ENV)["RuleFn"].reserved_concurrency == read


@pytest.mark.parametrize(
    ("key_arn", "manager"),
    [
        ({"Fn::GetAtt": ["Key", "Arn"]}, KeyManager.CUSTOMER),
        ({"Ref": "Key"}, KeyManager.CUSTOMER),
        ("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", None),
        ({"Fn::GetAtt": ["Dlq", "Arn"]}, None),
        ({"Fn::ImportValue": "shared-key"}, None),
    ],
    ids=["getatt-key", "ref-key", "literal", "not-a-key", "import"],
)
def test_a_key_the_template_creates_is_customer_managed(key_arn: Any, manager: Any) -> None:
    document = template()
    document["Resources"]["RuleFn"]["Properties"]["KmsKeyArn"] = key_arn
    assert functions_from_template(document, ENV)["RuleFn"].kms_key_manager is manager
