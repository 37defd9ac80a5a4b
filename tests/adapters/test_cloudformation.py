"""Synth-time models: CloudFormation resources become the same model the checks read."""

from __future__ import annotations

from typing import Any

from rules.adapters.cloudformation import StackEnvironment, functions_from_template
from rules.engine import evaluate_function
from rules.model import Compliance, KeyManager
from rules.parameters import NO_PARAMETERS
from rules.registry import RULES

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
    assert "Unresolved" in result.annotation
