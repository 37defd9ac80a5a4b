"""The CloudFormation adapter's view of the issue 11 rules (rules-b): URLs of aliases, code
signing configurations, secrets among variable values, roles shared within the template."""

from __future__ import annotations

from typing import Any

from rules.adapters.cloudformation import StackEnvironment, read_template
from rules.adapters.cloudformation_unknowns import evaluate_template_function
from rules.model import Compliance, Evaluation
from rules.parameters import NO_PARAMETERS
from rules.registry import get_rule

ENV = StackEnvironment(account="111122223333", region="us-east-1")
PASSWORD = "hunter2-TEMPLATE-DISTINCTIVE"


def function(**properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Role": "arn:aws:iam::1:role/r"} | properties,
    }


def evaluate(resources: dict[str, Any], rule_id: str, logical_id: str = "Fn") -> Evaluation:
    models = read_template({"Resources": resources}, ENV)
    return evaluate_template_function(
        get_rule(rule_id), models.functions[logical_id], models.unknowns[logical_id], NO_PARAMETERS
    )


def test_a_url_on_an_alias_and_one_from_a_parameter() -> None:
    resources = {
        "Fn": function(),
        "Live": {
            "Type": "AWS::Lambda::Alias",
            "Properties": {"FunctionName": {"Ref": "Fn"}, "Name": "live", "FunctionVersion": "1"},
        },
        "LiveUrl": {
            "Type": "AWS::Lambda::Url",
            "Properties": {"TargetFunctionArn": {"Ref": "Live"}, "AuthType": "NONE"},
        },
    }
    result = evaluate(resources, "lambda-function-url-auth-required")
    assert result.compliance is Compliance.NON_COMPLIANT
    assert "alias 'live' (auth type NONE)" in result.annotation and not result.unresolved
    resources["LiveUrl"]["Properties"]["AuthType"] = {"Ref": "UrlAuth"}
    result = evaluate(resources, "lambda-function-url-auth-required")
    assert result.compliance is Compliance.NON_COMPLIANT
    assert result.unresolved == ("LiveUrl.AuthType is Ref UrlAuth",)
    resources["LiveUrl"]["Properties"]["AuthType"] = "AWS_IAM"
    assert evaluate(resources, "lambda-function-url-auth-required").compliance is (
        Compliance.COMPLIANT
    )


def test_code_signing_from_the_template_or_unknown() -> None:
    csc = {
        "Type": "AWS::Lambda::CodeSigningConfig",
        "Properties": {
            "AllowedPublishers": {"SigningProfileVersionArns": ["arn:aws:signer:x"]},
            "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"},
        },
    }
    resources = {
        "Csc": csc,
        "Fn": function(CodeSigningConfigArn={"Fn::GetAtt": ["Csc", "CodeSigningConfigArn"]}),
    }
    assert evaluate(resources, "lambda-code-signing-enforced").compliance is Compliance.COMPLIANT
    csc["Properties"].pop("CodeSigningPolicies")  # AWS's default: Warn
    assert evaluate(resources, "lambda-code-signing-enforced").compliance is (
        Compliance.NON_COMPLIANT
    )
    resources["Fn"] = function(CodeSigningConfigArn={"Ref": "SharedCsc"})
    result = evaluate(resources, "lambda-code-signing-enforced")
    assert result.compliance is Compliance.NON_COMPLIANT
    assert result.unresolved and "Ref SharedCsc" in result.unresolved[0]
    resources["Fn"] = function()
    assert evaluate(resources, "lambda-code-signing-enforced").compliance is (
        Compliance.NON_COMPLIANT
    )


def test_secret_values_are_detected_and_never_kept() -> None:
    variables = {
        "DB_PASSWORD": PASSWORD,
        "TABLE": {"Ref": "Table"},  # a reference resolved at deploy time, not a literal
        "API_KEY": "{{resolve:secretsmanager:api:SecretString:key}}",
        "CONFIG": "{{resolve:ssm:/app/config}}",
    }
    resources = {"Fn": function(Environment={"Variables": variables})}
    models = read_template({"Resources": resources}, ENV)
    assert PASSWORD not in repr(models)
    result = evaluate(resources, "lambda-no-secrets-in-env-vars")
    assert result.compliance is Compliance.NON_COMPLIANT
    assert "DB_PASSWORD: literal value" in result.annotation
    assert "API_KEY: Secrets Manager dynamic reference" in result.annotation
    assert "TABLE" not in result.annotation and "CONFIG" not in result.annotation
    assert PASSWORD not in result.annotation


def test_a_role_shared_within_the_template() -> None:
    shared = {"Fn::GetAtt": ["SharedRole", "Arn"]}
    resources = {
        "SharedRole": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Fn": function(Role=shared),
        "Other": function(Role=shared),
        "Alone": function(Role="arn:aws:iam::111122223333:role/alone"),
    }
    result = evaluate(resources, "lambda-unique-execution-role")
    assert result.compliance is Compliance.NON_COMPLIANT
    assert "shared with 1 other function(s) of the template: Other" in result.annotation
    alone = evaluate(resources, "lambda-unique-execution-role", "Alone")
    assert alone.compliance is Compliance.NOT_APPLICABLE
