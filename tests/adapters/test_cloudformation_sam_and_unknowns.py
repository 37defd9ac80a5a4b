"""The adapter on a real SAM-transformed template, resource attribution, and verdicts decided by
values the template leaves to deploy time."""

from __future__ import annotations

import copy
from dataclasses import replace
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
from rules.model import Compliance, Condition, KeyManager
from rules.parameters import NO_PARAMETERS, parse_parameters
from rules.policy import unresolved_sources
from rules.registry import RULES, get_rule
from tests.conftest import load_event

NAME = "orders-api"
ENV = StackEnvironment(account="111122223333", region="us-east-1")
QUEUE_ARN = "arn:aws:sqs:us-east-1:111122223333:orders-failures"
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


# What the SAM sample does not set for the issue 11 rules: tracing (no Tracing:
# Active), and a subnet given by id, whose zone only ec2:DescribeSubnets knows.
SAM_ORDERS_NOT_COMPLIANT = {"lambda-xray-tracing-active", "lambda-vpc-multi-az"}


def test_sam_verdicts() -> None:
    orders = evaluations(SAM, "OrdersFunction")
    # Code signing (off by default) is not configured; the template's view of roles cannot
    # prove one unshared.
    assert orders.pop("lambda-code-signing-enforced").compliance is Compliance.NON_COMPLIANT
    assert orders.pop("lambda-unique-execution-role").compliance is Compliance.NOT_APPLICABLE
    assert {
        rule_id for rule_id, e in orders.items() if e.compliance is not Compliance.COMPLIANT
    } == SAM_ORDERS_NOT_COMPLIANT
    assert orders["lambda-vpc-multi-az"].unresolved == (
        "OrdersFunction.VpcConfig.SubnetIds[0] availability zone is AvailabilityZone of subnet "
        "subnet-0a1b2c3d",
    )
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
            (
                UnresolvedValue("Fn", "VpcConfig.SubnetIds", "Ref Subnets", ModelField.SUBNETS),
                # The zones of a list given by parameter: only ec2:DescribeSubnets knows them.
                UnresolvedValue(
                    "Fn",
                    "VpcConfig.SubnetIds[0] availability zone",
                    "AvailabilityZone of subnet Ref Subnets",
                    ModelField.SUBNET_ZONES,
                ),
            ),
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
def test_each_unknown_a_check_reads_is_listed(properties: dict, unknown: Any) -> None:
    expected = unknown if isinstance(unknown, tuple) else (unknown,)
    assert read_template(with_properties(**properties), ENV).unknowns["Fn"] == expected


def test_resolvable_intrinsics_are_not_unknowns() -> None:
    document = with_properties(
        ReservedConcurrentExecutions={"Fn::Select": [0, ["3"]]},
        KmsKeyArn={"Fn::Sub": "arn:aws:kms:${AWS::Region}:${AWS::AccountId}:key/k"},
    )
    models = read_template(document, ENV)
    assert models.functions["Fn"].reserved_concurrency == 3
    assert models.functions["Fn"].kms_key_arn == "arn:aws:kms:us-east-1:111122223333:key/k"
    # The key ARN resolves; only who manages it is left open (kms:DescribeKey alone tells).
    assert [u.field for u in models.unknowns["Fn"]] == [ModelField.KEY_MANAGER]


def test_an_unresolved_reservation_names_the_value_not_an_unset_one() -> None:
    result = evaluations(with_properties(ReservedConcurrentExecutions={"Ref": "Reserved"}), "Fn")[
        "lambda-concurrency-check"
    ]
    assert result.compliance is Compliance.NON_COMPLIANT and result.decided_by_unresolved
    assert result.annotation == (
        "decided by value(s) known only at deploy time (Fn.ReservedConcurrentExecutions is "
        "Ref Reserved), counted as non-compliant; at worst: no reserved concurrency is set"
    )


def test_a_key_from_a_parameter_is_a_key_whose_manager_and_listing_are_unknown() -> None:
    document = with_properties(
        KmsKeyArn={"Ref": "KeyArn"}, Environment={"Variables": {"TABLE": "orders"}}
    )
    # A key is set, but whether it is the customer's is known only at deploy time: never
    # COMPLIANT on a guess, the parameter named as the deciding value.
    plain = evaluations(document, "Fn")["lambda-env-vars-cmk-encrypted"]
    assert plain.compliance is Compliance.NON_COMPLIANT
    assert plain.unresolved == ("Fn.KmsKeyArn is Ref KeyArn",)
    assert "[Ref KeyArn] is AWS managed" in plain.annotation
    assert "${Unresolved" not in plain.annotation
    listed = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    restricted = evaluations(document, "Fn", kmsKeyArns=listed)["lambda-env-vars-cmk-encrypted"]
    assert restricted.compliance is Compliance.NON_COMPLIANT
    assert restricted.unresolved == ("Fn.KmsKeyArn is Ref KeyArn",)


KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize(
    "key_arn",
    [
        KEY_ARN,
        {"Fn::Sub": "arn:aws:kms:${AWS::Region}:${AWS::AccountId}:" + KEY_ARN.split(":")[-1]},
    ],
)
def test_a_key_given_by_key_arn_has_an_unknown_manager_that_decides(key_arn: Any) -> None:
    # The AWS managed aws/lambda key has a key/<id> ARN too: only DescribeKey tells.
    document = with_properties(KmsKeyArn=key_arn, Environment={"Variables": {"TABLE": "o"}})
    result = evaluations(document, "Fn")["lambda-env-vars-cmk-encrypted"]
    assert result.compliance is Compliance.NON_COMPLIANT
    assert result.unresolved == (
        f"Fn.KmsKeyArn is key {KEY_ARN}, whose manager only kms:DescribeKey tells",
    )
    # Listed in kmsKeyArns or not, the manager still decides (as DescribeKey does in Config).
    listed = evaluations(document, "Fn", kmsKeyArns=KEY_ARN)["lambda-env-vars-cmk-encrypted"]
    assert listed.decided_by_unresolved
    # What DescribeKey answered, passed in by a caller that asked (the hook), decides instead.
    for manager, compliance in (
        (KeyManager.CUSTOMER, Compliance.COMPLIANT),
        (KeyManager.AWS, Compliance.NON_COMPLIANT),
    ):
        env = replace(ENV, key_managers=((KEY_ARN, manager),))
        models = read_template(document, env)
        assert models.unknowns["Fn"] == ()
        verdict = evaluate_template_function(
            get_rule("lambda-env-vars-cmk-encrypted"), models.functions["Fn"], (), NO_PARAMETERS
        )
        assert verdict.compliance is compliance and not verdict.unresolved


def test_an_alias_arn_names_its_manager_without_an_unknown() -> None:
    for alias, compliance in (
        ("arn:aws:kms:us-east-1:111122223333:alias/orders", Compliance.COMPLIANT),
        ("arn:aws:kms:us-east-1:111122223333:alias/aws/lambda", Compliance.NON_COMPLIANT),
    ):
        document = with_properties(KmsKeyArn=alias, Environment={"Variables": {"T": "o"}})
        result = evaluations(document, "Fn")["lambda-env-vars-cmk-encrypted"]
        assert result.compliance is compliance and not result.unresolved


def test_unknown_environment_without_a_key_is_decided_by_it_not_an_error() -> None:
    document = with_properties(
        Environment={"Fn::If": ["Secret", {"Variables": {"S": "x"}}, {"Ref": "AWS::NoValue"}]}
    )
    result = evaluations(document, "Fn")["lambda-env-vars-cmk-encrypted"]
    assert result.compliance is Compliance.NON_COMPLIANT
    assert result.unresolved == (
        "Fn.Environment is Fn::If [Secret, {Variables: {S: <value>}}, (Ref AWS::NoValue)]",
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


# --- issue 11 (rules-a): tracing, subnets' zones, the $LATEST OnFailure destination ------------


def test_tracing_mode_and_tags_as_the_template_sets_them() -> None:
    document = with_properties(
        TracingConfig={"Mode": "Active"}, Tags=[{"Key": "env", "Value": {"Ref": "Stage"}}]
    )
    fn = read_template(document, ENV).functions["Fn"]
    assert fn.tracing_mode == "Active"
    assert unresolved_sources(fn.tags["env"]) == ["Ref Stage"]
    assert read_template(base(), ENV).functions["Fn"].tracing_mode is None  # PassThrough
    tagged = evaluations(document, "Fn", allowedTagValues='{"env": ["prod"]}')["lambda-tagged"]
    assert tagged.compliance is Compliance.NON_COMPLIANT
    assert tagged.unresolved == ("Fn.Tags.env is Ref Stage",)


def test_a_tracing_mode_from_a_parameter_decides() -> None:
    result = evaluations(with_properties(TracingConfig={"Mode": {"Ref": "Mode"}}), "Fn")[
        "lambda-xray-tracing-active"
    ]
    assert result.compliance is Compliance.NON_COMPLIANT
    assert result.unresolved == ("Fn.TracingConfig.Mode is Ref Mode",)


def subnet(zone: Any = None) -> dict[str, Any]:
    properties: dict[str, Any] = {"VpcId": "vpc-0a1b2c3d", "CidrBlock": "10.0.0.0/24"}
    if zone is not None:
        properties["AvailabilityZone"] = zone
    return {"Type": "AWS::EC2::Subnet", "Properties": properties}


def with_subnets(**subnets: dict[str, Any]) -> dict[str, Any]:
    document = with_properties(VpcConfig={"SubnetIds": [{"Ref": lid} for lid in subnets]})
    document["Resources"].update(subnets)
    return document


def test_the_zones_of_the_templates_own_subnets_are_known() -> None:
    document = with_subnets(A=subnet("us-east-1a"), B=subnet("us-east-1b"))
    fn = read_template(document, ENV).functions["Fn"]
    assert sorted(fn.subnet_zones.values()) == ["us-east-1a", "us-east-1b"]
    result = evaluations(document, "Fn")["lambda-vpc-multi-az"]
    assert result.compliance is Compliance.COMPLIANT and not result.unresolved
    same = evaluations(with_subnets(A=subnet("us-east-1a"), B=subnet("us-east-1a")), "Fn")
    assert same["lambda-vpc-multi-az"].compliance is Compliance.NON_COMPLIANT
    assert not same["lambda-vpc-multi-az"].unresolved  # decided by literal zones


@pytest.mark.parametrize(
    ("subnets", "named"),
    [
        # CDK's default: Fn::Select of Fn::GetAZs, resolved at deploy time.
        (
            {"A": subnet("us-east-1a"), "B": subnet({"Fn::Select": [1, {"Fn::GetAZs": ""}]})},
            "AvailabilityZone of B: Fn::Select [1, (Fn::GetAZs )]",
        ),
        ({"A": subnet("us-east-1a"), "B": subnet()}, "AvailabilityZone of B (chosen by AWS)"),
    ],
    ids=["fn-getazs", "zone-chosen-by-aws"],
)
def test_a_zone_known_at_deploy_time_decides_never_counts(subnets: dict, named: str) -> None:
    result = evaluations(with_subnets(**subnets), "Fn")["lambda-vpc-multi-az"]
    assert result.compliance is Compliance.NON_COMPLIANT
    assert any(named in text for text in result.unresolved), result.unresolved


def test_a_subnet_given_by_id_has_an_unknown_zone() -> None:
    document = with_properties(VpcConfig={"SubnetIds": ["subnet-0a1b2c3d", "subnet-0f0e0d0c"]})
    result = evaluations(document, "Fn")["lambda-vpc-multi-az"]
    assert result.compliance is Compliance.NON_COMPLIANT
    assert "AvailabilityZone of subnet subnet-0a1b2c3d" in result.annotation
    assert len(result.unresolved) == 2


def on_failure(qualifier: Any = "$LATEST", destination: Any = QUEUE_ARN, **extra: Any) -> dict:
    document = base()
    document["Resources"]["Async"] = {
        "Type": "AWS::Lambda::EventInvokeConfig",
        "Properties": {
            "FunctionName": {"Ref": "Fn"},
            "Qualifier": qualifier,
            "DestinationConfig": {"OnFailure": {"Destination": destination}},
        },
        **extra,
    }
    return document


ACCEPT = {"acceptOnFailureDestination": "true"}


def test_the_latest_on_failure_destination_is_the_functions() -> None:
    fn = read_template(on_failure(), ENV).functions["Fn"]
    assert fn.event_invoke_config is not None
    assert fn.event_invoke_config.on_failure_destination == QUEUE_ARN
    result = evaluations(on_failure(), "Fn", **ACCEPT)["lambda-dlq-check"]
    assert result.compliance is Compliance.COMPLIANT
    # Without an EventInvokeConfig the template states there is none.
    bare = read_template(base(), ENV).functions["Fn"]
    assert bare.event_invoke_config is not None
    assert bare.event_invoke_config.on_failure_destination is None


def test_an_aliass_on_failure_destination_is_not_the_functions() -> None:
    # As the handler reads it: GetFunctionEventInvokeConfig without a qualifier.
    fn = read_template(on_failure(qualifier="live"), ENV).functions["Fn"]
    assert fn.event_invoke_config is not None
    assert fn.event_invoke_config.on_failure_destination is None


@pytest.mark.parametrize(
    ("document", "named"),
    [
        (on_failure(Condition="WithAsync"), "Async.Condition is Condition WithAsync"),
        (
            on_failure(destination={"Fn::If": ["C", QUEUE_ARN, {"Ref": "AWS::NoValue"}]}),
            "Async.DestinationConfig.OnFailure.Destination is Fn::If",
        ),
        (on_failure(qualifier={"Ref": "Qualifier"}), "Async.Qualifier is Ref Qualifier"),
    ],
    ids=["condition", "fn-if", "qualifier"],
)
def test_a_destination_left_to_deploy_time_decides(document: dict, named: str) -> None:
    result = evaluations(document, "Fn", **ACCEPT)["lambda-dlq-check"]
    assert result.compliance is Compliance.NON_COMPLIANT
    assert any(text.startswith(named) for text in result.unresolved), result.unresolved


def test_a_destination_from_a_parameter_is_a_destination() -> None:
    document = on_failure(destination={"Ref": "FailureTopic"})
    assert evaluations(document, "Fn", **ACCEPT)["lambda-dlq-check"].compliance is (
        Compliance.COMPLIANT
    )
