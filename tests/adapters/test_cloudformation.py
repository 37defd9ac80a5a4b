"""Synth-time models: CloudFormation resources become the same model the checks read."""

from __future__ import annotations

import re
from typing import Any

import pytest

from rules.adapters.cloudformation import (
    StackEnvironment,
    UnattributedPermissionError,
    UnattributedResource,
    functions_from_template,
    read_template,
)
from rules.adapters.cloudformation_unknowns import evaluate_template_function
from rules.engine import evaluate_function
from rules.errors import UnknownFieldError
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
                    "TracingConfig": {"Mode": "Active"},
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
    """The rules on by default. A template's view of shared roles covers only its own functions:
    the unique-role rule is NOT_APPLICABLE for a function whose role no other one uses."""
    found = {
        rule.id: evaluate_function(rule, fn, NO_PARAMETERS).compliance
        for rule in RULES
        if rule.enabled_by_default
    }
    if found.get(UNIQUE_ROLE) is Compliance.NOT_APPLICABLE:
        found[UNIQUE_ROLE] = Compliance.COMPLIANT
    return found


UNIQUE_ROLE = "lambda-unique-execution-role"


def test_compliant_function_passes_every_rule() -> None:
    fn = functions_from_template(template(), ENV)["RuleFn"]
    assert fn.arn == "arn:aws:lambda:eu-west-1:111122223333:function:RuleFn"
    assert fn.dead_letter_target_arn == "arn:aws:sqs:eu-west-1:111122223333:Dlq"
    assert fn.kms_key_arn == "arn:aws:kms:eu-west-1:111122223333:key/Key"
    assert fn.kms_key_manager is KeyManager.CUSTOMER  # the template's own AWS::KMS::Key
    assert fn.environment_variable_names == ("POWERTOOLS_SERVICE_NAME", "RULE_ID")
    assert fn.reserved_concurrency == 2 and dict(fn.tags) == {"app": "guardrails"}
    assert fn.tracing_mode == "Active"
    found = verdicts(fn)
    # The zone of a subnet given by id is known only to ec2:DescribeSubnets: never counted.
    assert found.pop("lambda-vpc-multi-az") is Compliance.NON_COMPLIANT
    assert set(found.values()) == {Compliance.COMPLIANT}


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
        # Only kms:DescribeKey tells who manages a key given by its ARN: unknown, never guessed.
        ("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", None),
        ({"Fn::Sub": "arn:aws:kms:${AWS::Region}:${AWS::AccountId}:key/k"}, None),
        ({"Fn::Sub": "${Key.Arn}"}, KeyManager.CUSTOMER),
        ({"Fn::GetAtt": ["Dlq", "Arn"]}, None),
        ({"Fn::ImportValue": "shared-key"}, None),
    ],
    ids=["getatt-key", "ref-key", "literal", "sub-literal", "sub-own", "not-a-key", "import"],
)
def test_a_key_the_template_creates_is_customer_managed(key_arn: Any, manager: Any) -> None:
    document = template()
    document["Resources"]["RuleFn"]["Properties"]["KmsKeyArn"] = key_arn
    assert functions_from_template(document, ENV)["RuleFn"].kms_key_manager is manager


def resolved(value: Any, environment: StackEnvironment = ENV, **resources: Any) -> str | None:
    """What the adapter reads for ``value`` (through a property it copies as text)."""
    document = template()
    document["Resources"].update(resources)
    document["Resources"]["RuleFn"]["Properties"]["Role"] = value
    return functions_from_template(document, environment)["RuleFn"].role


# --- Fn::Join: only a literal list, joined by a known separator, is known at synth ---------


@pytest.mark.parametrize(
    "joined",
    [
        {"Fn::Join": ["", {"Ref": "PartnerAccounts"}]},
        {"Fn::Join": ["", {"Fn::Split": [",", {"Ref": "PartnerAccount"}]}]},
        {"Fn::Join": ["", {"Fn::GetAZs": ""}]},
        {"Fn::Join": [{"Ref": "Separator"}, ["4444", "55556666"]]},
    ],
    ids=["ref-list-parameter", "split", "get-azs", "unresolved-separator"],
)
def test_join_of_an_unresolved_list_or_separator_is_unresolved(joined: Any) -> None:
    principal = public_access(with_permission(Principal=joined))
    assert principal.compliance is Compliance.NON_COMPLIANT
    assert "a principal that is an unresolved CloudFormation value (Fn::Join" in (
        principal.annotation
    )
    account = public_access(with_permission(Principal="sns.amazonaws.com", SourceAccount=joined))
    assert account.compliance is Compliance.NON_COMPLIANT
    assert "AWS:SourceAccount depends on an unresolved CloudFormation value (Fn::Join" in (
        account.annotation
    )


def test_join_with_a_resolved_separator_still_joins() -> None:
    separator = {"Fn::Select": [0, ["", ":"]]}
    assert resolved({"Fn::Join": [separator, ["4444", "55556666"]]}) == "444455556666"


# --- ARNs and Ref values: known shapes only ------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "value", "expected"),
    [
        ({"Type": "AWS::S3::Bucket"}, {"Fn::GetAtt": ["Res", "Arn"]}, "arn:aws:s3:::Res"),
        (
            {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "uploads"}},
            {"Fn::GetAtt": ["Res", "Arn"]},
            "arn:aws:s3:::uploads",
        ),
        ({"Type": "AWS::S3::Bucket"}, {"Ref": "Res"}, "Res"),
        (
            {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alerts"}},
            {"Ref": "Res"},
            "arn:aws:sns:eu-west-1:111122223333:alerts",
        ),
        (
            {"Type": "AWS::SNS::Topic"},
            {"Fn::GetAtt": ["Res", "TopicArn"]},
            "arn:aws:sns:eu-west-1:111122223333:Res",
        ),
        (
            {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "jobs"}},
            {"Fn::GetAtt": ["Res", "Arn"]},
            "arn:aws:sqs:eu-west-1:111122223333:jobs",
        ),
        (
            {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "jobs"}},
            {"Ref": "Res"},
            "https://sqs.eu-west-1.amazonaws.com/111122223333/jobs",
        ),
        (
            {"Type": "AWS::Events::Rule", "Properties": {"Name": "nightly"}},
            {"Fn::GetAtt": ["Res", "Arn"]},
            "arn:aws:events:eu-west-1:111122223333:rule/nightly",
        ),
        (
            {"Type": "AWS::Events::Rule", "Properties": {"Name": "n", "EventBusName": "ops"}},
            {"Fn::GetAtt": ["Res", "Arn"]},
            "arn:aws:events:eu-west-1:111122223333:rule/ops/n",
        ),
        (
            {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "ops", "Path": "/team/"}},
            {"Fn::GetAtt": ["Res", "Arn"]},
            "arn:aws:iam::111122223333:role/team/ops",
        ),
        ({"Type": "AWS::IAM::Role"}, {"Ref": "Res"}, "Res"),
        (
            {"Type": "AWS::Config::ConfigRule", "Properties": {"ConfigRuleName": "r"}},
            {"Fn::GetAtt": ["Res", "Arn"]},
            "arn:aws:config:eu-west-1:111122223333:config-rule/Res",
        ),
        (
            {"Type": "AWS::Config::ConfigRule", "Properties": {"ConfigRuleName": "r"}},
            {"Ref": "Res"},
            "r",
        ),
        (
            {"Type": "AWS::KMS::Key"},
            {"Fn::GetAtt": ["Res", "Arn"]},
            "arn:aws:kms:eu-west-1:111122223333:key/Res",
        ),
    ],
    ids=[
        "bucket-arn",
        "named-bucket-arn",
        "bucket-ref",
        "topic-ref",
        "topic-arn",
        "queue-arn",
        "queue-ref-url",
        "events-rule-arn",
        "events-rule-on-own-bus-arn",
        "role-arn-with-path",
        "role-ref",
        "config-rule-arn-holds-its-id",
        "config-rule-ref",
        "key-arn",
    ],
)
def test_arns_and_refs_have_cloudformation_shapes(
    resource: dict[str, Any], value: Any, expected: str
) -> None:
    assert resolved(value, Res=resource) == expected


@pytest.mark.parametrize(
    ("resource", "value", "named"),
    [
        (
            {"Type": "AWS::StepFunctions::StateMachine"},
            {"Fn::GetAtt": ["Res", "Arn"]},
            "Fn::GetAtt [Res, Arn]",
        ),
        ({"Type": "AWS::EC2::SecurityGroup"}, {"Ref": "Res"}, "Ref Res"),
        ({"Type": "AWS::SNS::Topic"}, {"Fn::GetAtt": ["Res", "Arn"]}, "Fn::GetAtt [Res, Arn]"),
        (
            {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "EventBusName": "arn:aws:events:eu-west-1:444455556666:event-bus/partner"
                },
            },
            {"Fn::GetAtt": ["Res", "Arn"]},
            "Fn::GetAtt [Res, Arn]",
        ),
    ],
    ids=["unknown-type-arn", "unknown-type-ref", "unknown-attribute", "rule-on-another-bus"],
)
def test_unknown_resource_values_are_unresolved(
    resource: dict[str, Any], value: Any, named: str
) -> None:
    assert resolved(value, Res=resource) == f"${{Unresolved:{named}}}"


def test_bucket_source_arn_has_no_account_so_s3_needs_source_account() -> None:
    document = with_permission(
        Principal="s3.amazonaws.com", SourceArn={"Fn::GetAtt": ["Uploads", "Arn"]}
    )
    document["Resources"]["Uploads"] = {"Type": "AWS::S3::Bucket"}
    result = public_access(document)
    assert result.compliance is Compliance.NON_COMPLIANT
    assert "AWS:SourceArn value 'arn:aws:s3:::Uploads' has no fixed 12-digit account" in (
        result.annotation
    )
    document["Resources"]["PartnerPermission"]["Properties"]["SourceAccount"] = {
        "Ref": "AWS::AccountId"
    }
    assert public_access(document).compliance is Compliance.COMPLIANT


def test_source_arn_of_an_unknown_resource_type_does_not_restrict() -> None:
    document = with_permission(
        Principal="states.amazonaws.com", SourceArn={"Fn::GetAtt": ["Machine", "Arn"]}
    )
    document["Resources"]["Machine"] = {"Type": "AWS::StepFunctions::StateMachine"}
    result = public_access(document)
    assert result.compliance is Compliance.NON_COMPLIANT
    assert "AWS:SourceArn depends on an unresolved CloudFormation value (Fn::GetAtt" in (
        result.annotation
    )


# --- aliases and versions -------------------------------------------------------------------


def with_qualifiers() -> dict[str, Any]:
    document = template()
    document["Resources"]["Live"] = {
        "Type": "AWS::Lambda::Alias",
        "Properties": {
            "FunctionName": {"Ref": "RuleFn"},
            "FunctionVersion": {"Fn::GetAtt": ["Published", "Version"]},
            "Name": "prod",
        },
    }
    document["Resources"]["Published"] = {
        "Type": "AWS::Lambda::Version",
        "Properties": {"FunctionName": {"Ref": "RuleFn"}},
    }
    return document


def public_grant(target: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": target,
            "Principal": "*",
        },
    }


@pytest.mark.parametrize(
    ("target", "label"),
    [
        ({"Ref": "Live"}, "alias 'prod'"),
        ({"Fn::GetAtt": ["Live", "AliasArn"]}, "alias 'prod'"),
        ({"Fn::Sub": "${RuleFn.Arn}:prod"}, "alias 'prod'"),
        ({"Fn::Join": [":", [{"Fn::GetAtt": ["RuleFn", "Arn"]}, "prod"]]}, "alias 'prod'"),
        ({"Fn::Sub": "${RuleFn}:beta"}, "alias 'beta'"),
        ({"Fn::Sub": "${Live}"}, "alias 'prod'"),
        ({"Ref": "Published"}, "version 'Published'"),
        ("arn:aws:lambda:eu-west-1:111122223333:function:RuleFn:7", "version '7'"),
        ("111122223333:function:RuleFn:prod", "alias 'prod'"),
    ],
    ids=[
        "ref-alias",
        "alias-arn",
        "sub-arn",
        "join",
        "sub-name",
        "sub-alias-ref",
        "ref-version",
        "literal-version",
        "partial-arn",
    ],
)
def test_a_qualified_permission_lands_in_the_qualifier_policy(target: Any, label: str) -> None:
    document = with_qualifiers()
    document["Resources"]["PublicGrant"] = public_grant(target)
    fn = functions_from_template(document, ENV)["RuleFn"]
    assert fn.policy is not None and [s.sid for s in fn.policy.statements] == ["ConfigPermission"]
    assert fn.qualified_policies is not None
    granted = [q for q in fn.qualified_policies if q.policy is not None]
    assert [q.label for q in granted] == [label]
    result = evaluate_function(
        get_rule("lambda-function-public-access-prohibited"), fn, NO_PARAMETERS
    )
    assert result.compliance is Compliance.NON_COMPLIANT
    assert result.annotation.startswith(f"{label}: statement 'PublicGrant' allows Principal '*'")


def test_aliases_and_versions_are_listed_even_without_a_grant() -> None:
    functions = functions_from_template(with_qualifiers(), ENV)
    listed = functions["RuleFn"].qualified_policies
    assert listed is not None
    assert [(q.label, q.policy) for q in listed] == [
        ("alias 'prod'", None),
        ("version 'Published'", None),
    ]
    assert functions["OpenFn"].qualified_policies == ()  # known: none in the template
    result = evaluate_function(
        get_rule("lambda-function-public-access-prohibited"), functions["RuleFn"], NO_PARAMETERS
    )
    assert result.compliance is Compliance.COMPLIANT
    assert "the function and its 1 alias(es) and 1 published version(s)" in result.annotation


def test_latest_is_the_function_itself() -> None:
    document = template()
    document["Resources"]["PublicGrant"] = public_grant({"Fn::Sub": "${RuleFn.Arn}:$LATEST"})
    fn = functions_from_template(document, ENV)["RuleFn"]
    assert fn.policy is not None and "PublicGrant" in [s.sid for s in fn.policy.statements]
    assert fn.qualified_policies == ()


def test_a_url_with_a_qualifier_belongs_to_the_alias() -> None:
    document = with_qualifiers()
    document["Resources"]["AliasUrl"] = {
        "Type": "AWS::Lambda::Url",
        "Properties": {
            "AuthType": "NONE",
            "Qualifier": "canary",
            "TargetFunctionArn": {"Fn::GetAtt": ["RuleFn", "Arn"]},
        },
    }
    fn = functions_from_template(document, ENV)["RuleFn"]
    assert fn.function_url_auth_type is None  # the unqualified function has no URL
    assert fn.qualified_policies is not None
    assert "alias 'canary'" in [q.label for q in fn.qualified_policies]


@pytest.mark.parametrize(
    ("target", "named"),
    [
        ({"Ref": "FunctionNameParam"}, "Ref FunctionNameParam"),
        ({"Fn::ImportValue": "shared-fn"}, "Fn::ImportValue shared-fn"),
        ("someone-elses-function", "someone-elses-function"),
        ({"Ref": "ForeignAlias"}, "Ref ForeignAlias"),
    ],
    ids=["parameter", "import", "other-function", "alias-of-an-other-function"],
)
def test_a_permission_on_no_function_of_the_template_is_never_dropped(
    target: Any, named: str
) -> None:
    document = template()
    document["Resources"]["ForeignAlias"] = {
        "Type": "AWS::Lambda::Alias",
        "Properties": {"FunctionName": {"Ref": "ForeignAlias"}, "Name": "loop"},
    }
    document["Resources"]["PublicGrant"] = public_grant(target)
    models = read_template(document, ENV)
    assert models.unattributed == (
        UnattributedResource("PublicGrant", "AWS::Lambda::Permission", named),
    )
    assert set(models.functions) == {"RuleFn", "OpenFn"}
    with pytest.raises(UnattributedPermissionError, match=f"PublicGrant .*on {re.escape(named)}"):
        functions_from_template(document, ENV)


# --- environments decided by an intrinsic ----------------------------------------------------


@pytest.mark.parametrize(
    "environment",
    [
        {"Fn::If": ["WithSecret", {"Variables": {"SECRET": "x"}}, {"Ref": "AWS::NoValue"}]},
        {"Variables": {"Fn::If": ["WithSecret", {"SECRET": "x"}, {}]}},
        {"Variables": {"Ref": "VariablesParam"}},
    ],
    ids=["conditional-environment", "conditional-variables", "ref-variables"],
)
def test_an_intrinsic_environment_is_unknown_not_empty(environment: Any) -> None:
    document = template()
    properties = document["Resources"]["OpenFn"]["Properties"]
    properties["Environment"] = environment
    fn = functions_from_template(document, ENV)["OpenFn"]
    assert fn.environment_variable_names is None
    cmk = get_rule("lambda-env-vars-cmk-encrypted")
    # No verdict without a key: the variables may exist (an offline caller fails closed).
    with pytest.raises(UnknownFieldError, match="whether it has environment variables is unknown"):
        evaluate_function(cmk, fn, NO_PARAMETERS)
    properties["KmsKeyArn"] = {"Fn::GetAtt": ["Key", "Arn"]}
    keyed = functions_from_template(document, ENV)["OpenFn"]
    assert evaluate_function(cmk, keyed, NO_PARAMETERS).compliance is Compliance.COMPLIANT


@pytest.mark.parametrize(
    "environment",
    [{"Ref": "AWS::NoValue"}, {"Variables": {"Ref": "AWS::NoValue"}}, {}],
    ids=["no-value", "no-value-variables", "empty"],
)
def test_an_absent_environment_has_no_variables(environment: Any) -> None:
    document = template()
    document["Resources"]["OpenFn"]["Properties"]["Environment"] = environment
    assert functions_from_template(document, ENV)["OpenFn"].environment_variable_names == ()


# --- literal keys and environment-agnostic stacks ---------------------------------------------

REAL_ACCOUNT_KEY = "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def cmk_verdict(key_arn: Any, environment: StackEnvironment | None):
    document = template()
    document["Resources"]["RuleFn"]["Properties"]["KmsKeyArn"] = key_arn
    models = read_template(document, environment)
    return evaluate_template_function(
        get_rule("lambda-env-vars-cmk-encrypted"),
        models.functions["RuleFn"],
        models.unknowns["RuleFn"],
        NO_PARAMETERS,
    )


def test_a_literal_key_in_an_agnostic_stack_is_not_taken_for_cross_account() -> None:
    # The key could be the deploying account's AWS managed key: its manager decides, unknown.
    result = cmk_verdict(REAL_ACCOUNT_KEY, None)
    assert result.compliance is Compliance.NON_COMPLIANT
    assert result.unresolved == (
        f"RuleFn.KmsKeyArn is key {REAL_ACCOUNT_KEY}, whose manager only kms:DescribeKey tells",
    )


def test_a_key_of_another_account_than_the_stack_is_customer_managed() -> None:
    # AWS managed keys are never shared: with a known stack account, the ARN tells.
    result = cmk_verdict(REAL_ACCOUNT_KEY, ENV)
    assert result.compliance is Compliance.COMPLIANT and not result.unresolved
    same_account = REAL_ACCOUNT_KEY.replace("444455556666", "111122223333")
    assert cmk_verdict(same_account, ENV).decided_by_unresolved


def test_the_template_key_stays_customer_managed_in_an_agnostic_stack() -> None:
    result = cmk_verdict({"Fn::GetAtt": ["Key", "Arn"]}, None)
    assert result.compliance is Compliance.COMPLIANT
    assert "not verified" not in result.annotation


def test_an_agnostic_stack_has_no_account_but_its_own_account_still_restricts() -> None:
    functions = functions_from_template(template())
    assert functions["RuleFn"].account_id == ""
    assert functions["RuleFn"].arn == "arn:aws:lambda:us-east-1:123456789012:function:RuleFn"
    result = evaluate_function(RULES[0], functions["RuleFn"], NO_PARAMETERS)
    assert result.compliance is Compliance.COMPLIANT


def test_an_intrinsic_reserved_concurrency_is_not_a_reservation() -> None:
    # The model has no "unresolved" integer: the verdict fails closed, the annotation says unset.
    document = template()
    document["Resources"]["RuleFn"]["Properties"]["ReservedConcurrentExecutions"] = {
        "Ref": "Reserved"
    }
    fn = functions_from_template(document, ENV)["RuleFn"]
    result = evaluate_function(get_rule("lambda-concurrency-check"), fn, NO_PARAMETERS)
    assert result.compliance is Compliance.NON_COMPLIANT
