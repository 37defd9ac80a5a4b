"""The adapter on a real SAM-transformed template, resource attribution, and verdicts decided by
values the template leaves to deploy time."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from rules.adapters.cloudformation import (
    StackEnvironment,
    UntransformedTemplateError,
    read_template,
)
from rules.adapters.cloudformation_unknowns import (
    ModelField,
    UnresolvedValue,
    evaluate_template_function,
)
from rules.model import Compliance, Condition
from rules.parameters import NO_PARAMETERS, parse_parameters
from rules.registry import RULES, get_rule
from tests.conftest import load_event

NAME = "orders-api"
ENV = StackEnvironment(account="111122223333", region="us-east-1")
SAM = load_event("sam_transformed_template.json")


def evaluations(document: dict[str, Any], logical_id: str, **raw: str) -> dict[str, Any]:
    models = read_template(document, ENV)
    function = models.functions[logical_id]
    result = {}
    for rule in RULES:
        names = {spec.name for spec in rule.parameters}
        parameters = parse_parameters(rule, {k: v for k, v in raw.items() if k in names})
        result[rule.id] = evaluate_template_function(
            rule, function, models.unknowns[logical_id], parameters, resource_id=logical_id
        )
    return result


# --- SAM after the transform (tests/events/sam_template.yaml through samtranslator 1.110) ----


def test_sam_generated_resources_are_attributed_to_their_function() -> None:
    models = read_template(SAM, ENV)
    assert models.unattributed == ()
    assert models.sources["OrdersFunction"] == (
        "OrdersFunction",
        "OrdersFunctionVersion9dad0c4d94",
        "OrdersFunctionAliaslive",
        "OrdersFunctionUrl",
        "OrdersFunctionUploadPermission",
    )
    assert set(models.sources["PublicFunction"]) == {
        "PublicFunction",
        "PublicFunctionVersion9b84ad7032",
        "PublicFunctionAliasprod",
        "PublicFunctionEventInvokeConfig",
        "PublicFunctionUrl",
        "PublicFunctionUrlPublicPermissions",
        "PublicFunctionURLInvokeAllowPublicAccess",
        "PublicFunctionApiPermissionProd",
        "PublicFunctionPartnerPermission",
    }
    public = models.functions["PublicFunction"]
    assert public.policy is None  # SAM grants on the alias the URL and events target
    (alias,) = [q for q in public.qualified_policies or () if q.label == "alias 'prod'"]
    assert alias.policy is not None
    by_sid = {s.sid: s for s in alias.policy.statements}
    assert by_sid["PublicFunctionURLInvokeAllowPublicAccess"].conditions == (
        Condition("Bool", "lambda:InvokedViaFunctionUrl", ("true",)),
    )


def test_sam_verdicts() -> None:
    orders = evaluations(SAM, "OrdersFunction")
    # Code signing is off by default; the template's view of roles cannot prove one unshared.
    assert orders.pop("lambda-code-signing-enforced").compliance is Compliance.NON_COMPLIANT
    assert orders.pop("lambda-unique-execution-role").compliance is Compliance.NOT_APPLICABLE
    assert {e.compliance for e in orders.values()} == {Compliance.COMPLIANT}
    public = evaluations(SAM, "PublicFunction")
    result = public["lambda-function-public-access-prohibited"]
    assert result.compliance is Compliance.NON_COMPLIANT
    # Public whatever PartnerAccount resolves to (the URL's statements): not decided by it.
    assert result.unresolved == ()
    assert "alias 'prod': statement 'PublicFunctionUrlPublicPermissions'" in result.annotation
    assert "AWS:SourceArn depends on an unresolved CloudFormation value (Ref PartnerAccount)" in (
        result.annotation
    )
    # An EventInvokeConfig on-failure destination is no dead-letter queue (lambda-dlq-check).
    assert public["lambda-dlq-check"].compliance is Compliance.NON_COMPLIANT


def test_the_partner_grant_alone_is_decided_by_its_parameter() -> None:
    document = copy.deepcopy(SAM)
    for sid in ("PublicFunctionUrlPublicPermissions", "PublicFunctionURLInvokeAllowPublicAccess"):
        del document["Resources"][sid]
    result = evaluations(document, "PublicFunction")["lambda-function-public-access-prohibited"]
    assert result.compliance is Compliance.NON_COMPLIANT
    assert result.unresolved == ("PublicFunctionPartnerPermission.SourceArn is Ref PartnerAccount",)
    assert result.annotation.startswith(
        "decided by value(s) known only at deploy time "
        "(PublicFunctionPartnerPermission.SourceArn is Ref PartnerAccount), counted as "
        "non-compliant; at worst: alias 'prod': statement 'PublicFunctionPartnerPermission'"
    )


def test_a_sam_template_before_its_transform_is_refused() -> None:
    document = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {"Fn": {"Type": "AWS::Serverless::Function", "Properties": {}}},
    }
    with pytest.raises(UntransformedTemplateError, match=r"SAM resources \(Fn\).*transform"):
        read_template(document, ENV)


# --- EventInvokeConfig ------------------------------------------------------------------------


def base() -> dict[str, Any]:
    return {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"FunctionName": "orders-api", "ReservedConcurrentExecutions": 2},
            },
        }
    }


@pytest.mark.parametrize(
    "target",
    [
        {"Ref": "Fn"},
        "orders-api",
        "arn:aws:lambda:us-east-1:111122223333:function:orders-api",
        {
            "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
            + NAME
        },
        {"Fn::Join": ["", ["111122223333:function:", {"Ref": "Fn"}]]},
    ],
    ids=["ref", "name", "arn", "sub", "join-partial-arn"],
)
def test_an_event_invoke_config_is_attributed_and_changes_no_verdict(target: Any) -> None:
    document = base()
    before = evaluations(document, "Fn")
    document["Resources"]["Async"] = {
        "Type": "AWS::Lambda::EventInvokeConfig",
        "Properties": {
            "FunctionName": target,
            "Qualifier": "$LATEST",
            "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:1:q"}},
        },
    }
    models = read_template(document, ENV)
    assert models.sources["Fn"] == ("Fn", "Async") and models.unattributed == ()
    after = evaluations(document, "Fn")
    assert {k: v.compliance for k, v in after.items()} == {
        k: v.compliance for k, v in before.items()
    }


# --- unknowns ---------------------------------------------------------------------------------


def with_properties(**properties: Any) -> dict[str, Any]:
    document = base()
    document["Resources"]["Fn"]["Properties"].update(properties)
    return document


@pytest.mark.parametrize(
    ("properties", "unknown"),
    [
        (
            {"ReservedConcurrentExecutions": {"Ref": "Reserved"}},
            UnresolvedValue(
                "Fn",
                "ReservedConcurrentExecutions",
                "Ref Reserved",
                ModelField.RESERVED_CONCURRENCY,
            ),
        ),
        (
            {"DeadLetterConfig": {"Fn::If": ["Dlq", {"TargetArn": "x"}, {"Ref": "AWS::NoValue"}]}},
            UnresolvedValue(
                "Fn",
                "DeadLetterConfig",
                "Fn::If [Dlq, {TargetArn: x}, (Ref AWS::NoValue)]",
                ModelField.DEAD_LETTER,
            ),
        ),
        (
            {"VpcConfig": {"SubnetIds": {"Ref": "Subnets"}}},
            UnresolvedValue("Fn", "VpcConfig.SubnetIds", "Ref Subnets", ModelField.SUBNETS),
        ),
        (
            {"KmsKeyArn": {"Fn::ImportValue": "shared-key"}},
            UnresolvedValue("Fn", "KmsKeyArn", "Fn::ImportValue shared-key", ModelField.KMS_KEY),
        ),
        (
            {"Environment": {"Variables": {"Ref": "Variables"}}},
            UnresolvedValue("Fn", "Environment.Variables", "Ref Variables", ModelField.ENVIRONMENT),
        ),
    ],
    ids=["reserved", "dead-letter-if", "subnets", "key", "variables"],
)
def test_each_unknown_a_check_reads_is_listed(properties: dict, unknown: UnresolvedValue) -> None:
    assert read_template(with_properties(**properties), ENV).unknowns["Fn"] == (unknown,)


def test_resolvable_intrinsics_are_not_unknowns() -> None:
    document = with_properties(
        ReservedConcurrentExecutions={"Fn::Select": [0, ["3"]]},
        KmsKeyArn={"Fn::Sub": "arn:aws:kms:${AWS::Region}:${AWS::AccountId}:key/k"},
    )
    models = read_template(document, ENV)
    assert models.unknowns["Fn"] == () and models.functions["Fn"].reserved_concurrency == 3


def test_an_unresolved_reservation_names_the_value_not_an_unset_one() -> None:
    result = evaluations(with_properties(ReservedConcurrentExecutions={"Ref": "Reserved"}), "Fn")[
        "lambda-concurrency-check"
    ]
    assert result.compliance is Compliance.NON_COMPLIANT and result.decided_by_unresolved
    assert result.annotation == (
        "decided by value(s) known only at deploy time (Fn.ReservedConcurrentExecutions is "
        "Ref Reserved), counted as non-compliant; at worst: no reserved concurrency is set"
    )


def test_a_key_from_a_parameter_is_a_key_and_a_list_it_may_miss_is_unknown() -> None:
    document = with_properties(
        KmsKeyArn={"Ref": "KeyArn"}, Environment={"Variables": {"TABLE": "orders"}}
    )
    plain = evaluations(document, "Fn")["lambda-env-vars-cmk-encrypted"]
    assert plain.compliance is Compliance.COMPLIANT and not plain.unresolved
    assert "[Ref KeyArn]" in plain.annotation and "${Unresolved" not in plain.annotation
    listed = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    restricted = evaluations(document, "Fn", kmsKeyArns=listed)["lambda-env-vars-cmk-encrypted"]
    assert restricted.compliance is Compliance.NON_COMPLIANT
    assert restricted.unresolved == ("Fn.KmsKeyArn is Ref KeyArn",)


def test_unknown_environment_without_a_key_is_decided_by_it_not_an_error() -> None:
    document = with_properties(
        Environment={"Fn::If": ["Secret", {"Variables": {"S": "x"}}, {"Ref": "AWS::NoValue"}]}
    )
    result = evaluations(document, "Fn")["lambda-env-vars-cmk-encrypted"]
    assert result.compliance is Compliance.NON_COMPLIANT
    assert result.unresolved == (
        "Fn.Environment is Fn::If [Secret, {Variables: {S: x}}, (Ref AWS::NoValue)]",
    )
    assert "AWS Config" not in result.annotation


def test_a_value_that_does_not_decide_is_not_named() -> None:
    # No reservation at all: NON_COMPLIANT whatever the role parameter is.
    document = with_properties(Role={"Ref": "RoleArn"}, ReservedConcurrentExecutions=None)
    del document["Resources"]["Fn"]["Properties"]["ReservedConcurrentExecutions"]
    result = evaluations(document, "Fn")["lambda-concurrency-check"]
    assert result.compliance is Compliance.NON_COMPLIANT and result.unresolved == ()
    assert result.annotation == "no reserved concurrency is set"


def test_a_permission_under_a_template_condition_is_public_when_it_exists() -> None:
    document = base()
    document["Resources"]["Open"] = {
        "Type": "AWS::Lambda::Permission",
        "Condition": "IsPublic",
        "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": "Fn"},
            "Principal": "*",
        },
    }
    result = evaluations(document, "Fn")["lambda-function-public-access-prohibited"]
    assert result.compliance is Compliance.NON_COMPLIANT
    assert result.unresolved == ("Open exists only under Condition IsPublic",)


def test_a_parameter_source_account_is_stricter_than_any_deployment() -> None:
    # Lambda takes only 12-digit SourceAccount values, yet rules.policy never takes an unresolved
    # value for a fixed account: the verdict is NON_COMPLIANT, and says the value decided it.
    document = base()
    document["Resources"]["Sns"] = {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": "Fn"},
            "Principal": "sns.amazonaws.com",
            "SourceAccount": {"Ref": "PartnerAccount"},
        },
    }
    result = evaluations(document, "Fn")["lambda-function-public-access-prohibited"]
    assert result.compliance is Compliance.NON_COMPLIANT
    assert result.unresolved == ("Sns.SourceAccount is Ref PartnerAccount",)


def test_plain_evaluate_function_callers_keep_working() -> None:
    # The earlier API still answers (no unknowns: the same verdict as the engine's).
    models = read_template(base(), ENV)
    rule = get_rule("lambda-concurrency-check")
    result = evaluate_template_function(rule, models.functions["Fn"], (), NO_PARAMETERS)
    assert result.compliance is Compliance.COMPLIANT and result.resource_id == "orders-api"
