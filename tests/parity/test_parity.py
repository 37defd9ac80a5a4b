"""Parity: the same case gives the same verdict for every rule from a Config configuration item
(live evaluation) and from the CloudFormation resources that deploy it (synth time).

Where the template leaves a deciding value to deploy time, the live item is built with the
value at its worst (the template's verdict is the worst the deployment can bring), the template's
evaluation names the value (``Evaluation.unresolved``), and the favourable deployment shows that
the live verdict would differ: the template could not have known.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from rules.adapters.cloudformation import StackEnvironment, read_template
from rules.adapters.cloudformation_unknowns import evaluate_template_function
from rules.adapters.config_item import configuration_item_from_dict
from rules.engine import evaluate_function
from rules.model import (
    CodeSigning,
    Compliance,
    Evaluation,
    EventInvokeConfig,
    FunctionUrl,
    QualifiedPolicy,
    QualifierKind,
    RolePeers,
)
from rules.parameters import Parameters, parse_parameters
from rules.policy import parse_policy
from rules.registry import RULES
from rules.rule import Rule
from tests.parity.cases import (
    ACCOUNT,
    FUNCTION_ARN,
    OWN_GETAZS_SUBNET,
    OWN_KEY,
    OWN_QUEUE,
    OWN_QUEUE_ARN,
    REGION,
    Case,
    Deployed,
    Grant,
    config_item,
    key_manager,
    on_failure_destination,
    qualifier_policies,
    subnet_zones,
    template,
    url_grants,
    zones_expressible,
)

PUBLIC = "lambda-function-public-access-prohibited"
VPC = "lambda-inside-vpc"
CMK = "lambda-env-vars-cmk-encrypted"
DLQ = "lambda-dlq-check"
CONCURRENCY = "lambda-concurrency-check"
# issue 11
RUNTIME = "lambda-runtime-supported"
XRAY = "lambda-xray-tracing-active"
MULTI_AZ = "lambda-vpc-multi-az"
TAGGED = "lambda-tagged"
URL_AUTH = "lambda-function-url-auth-required"
SECRETS = "lambda-no-secrets-in-env-vars"
C, N, NA = "COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"
# Both sides evaluate on the same day (lambda-runtime-supported): the runtime table's date.
EVALUATION_DATE = date(2026, 11, 22)

SUBNET = "subnet-0a1b2c3d"
OTHER_SUBNET = "subnet-0f0e0d0c"
OTHER_QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:other-dlq"
LISTED_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0000abcd-12ab-34cd-56ef-1234567890ab"
ALIAS_AWS_LAMBDA = f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/lambda"
PARTNER = "444455556666"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
OWN_A, OWN_B, OWN_A2 = "own-subnet-a", "own-subnet-b", "own-subnet-a2"
OWN_GETAZS = OWN_GETAZS_SUBNET

# A function every rule accepts; cases change what they are about.
GOOD = Case(
    id="compliant",
    subnets=(SUBNET,),
    dead_letter=OWN_QUEUE,
    key=OWN_KEY,
    variables=("TABLE",),
    reserved=5,
    expect={
        PUBLIC: C,
        VPC: C,
        CMK: C,
        DLQ: C,
        CONCURRENCY: C,
        RUNTIME: C,
        XRAY: C,
        TAGGED: C,
        URL_AUTH: C,
        SECRETS: C,
    },
)


def case(id: str, **changes: Any) -> Case:
    return replace(GOOD, id=id, **changes)


def grant(**fields: Any) -> tuple[Grant, ...]:
    return (Grant(**{"sid": "Invoke", **fields}),)


CASES = [
    GOOD,
    # --- lambda-inside-vpc (tests/checks/test_inside_vpc.py) ---
    case("vpc-no-subnets", subnets=(), expect={VPC: N}),
    case("vpc-subnets-listed", parameters={"subnetIds": f"{SUBNET},{OTHER_SUBNET}"}),
    case("vpc-subnet-not-listed", parameters={"subnetIds": OTHER_SUBNET}, expect={VPC: N}),
    case(
        "vpc-subnets-from-a-parameter-are-set",
        subnets=Deployed({"Ref": "Subnets"}, [SUBNET]),
        expect={VPC: C},
    ),
    case(
        "vpc-subnets-from-a-parameter-against-subnetIds",
        subnets=Deployed({"Ref": "Subnets"}, [SUBNET], favourable=[OTHER_SUBNET]),
        parameters={"subnetIds": OTHER_SUBNET},
        expect={VPC: N},
        unresolved=frozenset({VPC}),
    ),
    case(
        "vpc-config-under-fn-if",
        subnets=Deployed(
            {"Fn::If": ["InVpc", [SUBNET], {"Ref": "AWS::NoValue"}]}, [], favourable=[SUBNET]
        ),
        expect={VPC: N},
        unresolved=frozenset({VPC}),
    ),
    # --- lambda-dlq-check (tests/checks/test_dlq.py) ---
    case("dlq-none", dead_letter=None, expect={DLQ: N}),
    case("dlq-listed", parameters={"dlqArns": f"{OWN_QUEUE_ARN},{OTHER_QUEUE}"}),
    case("dlq-not-listed", parameters={"dlqArns": OTHER_QUEUE}, expect={DLQ: N}),
    case("dlq-literal-arn", dead_letter=OTHER_QUEUE, expect={DLQ: C}),
    case(
        "dlq-from-an-import-is-set",
        dead_letter=Deployed({"Fn::ImportValue": "shared-dlq"}, OTHER_QUEUE),
        expect={DLQ: C},
    ),
    case(
        "dlq-from-an-import-against-dlqArns",
        dead_letter=Deployed({"Fn::ImportValue": "shared-dlq"}, OWN_QUEUE_ARN, OTHER_QUEUE),
        parameters={"dlqArns": OTHER_QUEUE},
        expect={DLQ: N},
        unresolved=frozenset({DLQ}),
    ),
    case(
        "dlq-under-fn-if",
        dead_letter=Deployed(
            {"Fn::If": ["WithDlq", {"Ref": "DlqArn"}, {"Ref": "AWS::NoValue"}]},
            None,
            favourable=OTHER_QUEUE,
        ),
        expect={DLQ: N},
        unresolved=frozenset({DLQ}),
    ),
    # --- lambda-env-vars-cmk-encrypted (tests/checks/test_env_vars_cmk.py) ---
    case("cmk-no-variables-no-key", variables=(), key=None, expect={CMK: C}),
    case("cmk-variables-no-key", key=None, expect={CMK: N}),
    case("cmk-aws-managed-alias", key=ALIAS_AWS_LAMBDA, expect={CMK: N}),
    case(
        "cmk-customer-alias",
        key=f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/orders",
        expect={CMK: C},
    ),
    case(
        "cmk-key-of-another-account",
        key=f"arn:aws:kms:{REGION}:{PARTNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        expect={CMK: C},
    ),
    case(
        "cmk-listed-key-by-arn-decided-by-its-manager",
        key=LISTED_KEY,
        parameters={"kmsKeyArns": LISTED_KEY},
        expect={CMK: N},
        unresolved=frozenset({CMK}),
    ),
    case("cmk-not-listed", parameters={"kmsKeyArns": LISTED_KEY}, expect={CMK: N}),
    case(
        "cmk-key-from-a-parameter-is-a-key-its-manager-unknown",
        key=Deployed({"Ref": "KeyArn"}, LISTED_KEY),
        expect={CMK: N},
        unresolved=frozenset({CMK}),
    ),
    case(
        "cmk-key-from-a-parameter-against-kmsKeyArns",
        key=Deployed({"Ref": "KeyArn"}, ALIAS_AWS_LAMBDA, favourable=LISTED_KEY),
        parameters={"kmsKeyArns": LISTED_KEY},
        expect={CMK: N},
        unresolved=frozenset({CMK}),
    ),
    case(
        "cmk-environment-under-fn-if",
        key=None,
        variables=Deployed(
            {"Fn::If": ["WithSecret", {"Variables": {"SECRET": "x"}}, {"Ref": "AWS::NoValue"}]},
            ("SECRET",),
            favourable=(),
        ),
        expect={CMK: N, SECRETS: N},
        unresolved=frozenset({CMK, SECRETS}),
    ),
    case("secrets-literal-in-a-password-variable", variables=("DB_PASSWORD",), expect={SECRETS: N}),
    case(
        "cmk-variables-values-from-intrinsics-keep-their-names",
        key=None,
        variables=Deployed({"Variables": {"TABLE": {"Ref": "TableName"}}}, ("TABLE",)),
        expect={CMK: N},
    ),
    # --- lambda-concurrency-check (tests/checks/test_concurrency.py) ---
    case("concurrency-none", reserved=None, expect={CONCURRENCY: N}),
    case("concurrency-zero", reserved=0, expect={CONCURRENCY: C}),
    case(
        "concurrency-below-low",
        reserved=1,
        parameters={"ConcurrencyLimitLow": "2"},
        expect={CONCURRENCY: N},
    ),
    case(
        "concurrency-above-high",
        reserved=50,
        parameters={"ConcurrencyLimitHigh": "10"},
        expect={CONCURRENCY: N},
    ),
    case(
        "concurrency-within-bounds",
        parameters={"ConcurrencyLimitLow": "5", "ConcurrencyLimitHigh": "5"},
        expect={CONCURRENCY: C},
    ),
    case("concurrency-as-text", reserved="5", expect={CONCURRENCY: C}),
    case(
        "concurrency-from-a-parameter",
        reserved=Deployed({"Ref": "Reserved"}, None, favourable=5),
        expect={CONCURRENCY: N},
        unresolved=frozenset({CONCURRENCY}),
    ),
    case(
        "concurrency-from-a-literal-select",
        reserved=Deployed({"Fn::Select": [1, ["1", "5"]]}, 5),
        expect={CONCURRENCY: C},
    ),
    # --- lambda-function-public-access-prohibited (tests/checks/test_public_access*.py) ---
    case("public-star", grants=grant(principal="*"), expect={PUBLIC: N}),
    case("public-account", grants=grant(principal=PARTNER), expect={PUBLIC: C}),
    case(
        "public-role-arn",
        grants=grant(principal=f"arn:aws:iam::{PARTNER}:role/caller"),
        expect={PUBLIC: C},
    ),
    case(
        "public-service-no-condition",
        grants=grant(principal="sns.amazonaws.com"),
        expect={PUBLIC: N},
    ),
    case(
        "public-service-source-account",
        grants=grant(principal="s3.amazonaws.com", source_account=ACCOUNT),
        expect={PUBLIC: C},
    ),
    case(
        "public-service-source-arn-with-account",
        grants=grant(principal="sns.amazonaws.com", source_arn=TOPIC),
        expect={PUBLIC: C},
    ),
    case(
        "public-s3-source-arn-has-no-account",
        grants=grant(principal="s3.amazonaws.com", source_arn="arn:aws:s3:::uploads"),
        expect={PUBLIC: N},
    ),
    case(
        "public-service-source-arn-wildcard-account",
        grants=grant(principal="events.amazonaws.com", source_arn="arn:aws:events:*:*:rule/x"),
        expect={PUBLIC: N},
    ),
    case(
        "public-star-principal-org",
        grants=grant(principal="*", principal_org_id="o-a1b2c3d4e5"),
        expect={PUBLIC: C},
    ),
    case(
        "public-alexa-event-source-token",
        grants=grant(principal="alexa-appkit.amazon.com", event_source_token="amzn1.ask.skill.1"),
        expect={PUBLIC: C},
    ),
    case("public-url-none", grants=url_grants("NONE"), url=("NONE", None), expect={PUBLIC: N}),
    case("public-url-aws-iam", url=("AWS_IAM", None), expect={PUBLIC: C}),
    case(
        "public-source-arn-from-a-parameter",
        grants=grant(
            principal="sns.amazonaws.com",
            source_arn=Deployed({"Ref": "TopicArn"}, "arn:aws:sns:*:*:alerts", favourable=TOPIC),
        ),
        expect={PUBLIC: N},
        unresolved=frozenset({PUBLIC}),
    ),
    case(
        "public-principal-from-an-import",
        grants=grant(principal=Deployed({"Fn::ImportValue": "caller"}, "*", favourable=PARTNER)),
        expect={PUBLIC: N},
        unresolved=frozenset({PUBLIC}),
    ),
    case(
        "public-source-arn-sub-of-the-own-account",
        grants=grant(
            principal="sns.amazonaws.com",
            source_arn=Deployed(
                {"Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:alerts"},
                TOPIC,
            ),
        ),
        expect={PUBLIC: C},
    ),
    case(
        "public-known-and-unresolved-statements",
        grants=(
            Grant("Open", "*"),
            Grant(
                "Partner",
                "sns.amazonaws.com",
                source_account=Deployed({"Ref": "PartnerAccount"}, PARTNER),
            ),
        ),
        expect={PUBLIC: N},  # public whatever the parameter: not decided by it
    ),
    case(
        "public-statement-under-a-template-condition",
        grants=grant(principal="*", condition="IsPublic"),
        expect={PUBLIC: N},
        unresolved=frozenset({PUBLIC}),
    ),
    # --- how a permission names its function (qualified or not) ---
    *[
        case(f"target-{target}", grants=grant(principal="*", target=target), expect={PUBLIC: N})
        for target in ("ref", "arn", "sub", "join", "name", "partial", "full-arn")
    ],
    *[
        case(
            f"qualified-alias-{target}",
            aliases=("live",),
            grants=grant(principal="*", qualifier="live", target=target),
            expect={PUBLIC: N},
        )
        for target in ("alias-ref", "alias-arn", "sub", "join", "name", "partial", "full-arn")
    ],
    case(
        "qualified-literal-version",
        grants=grant(principal="*", qualifier="7", target="full-arn"),
        expect={PUBLIC: N},
    ),
    case(
        "qualified-alias-restricted",
        aliases=("live",),
        grants=grant(
            principal="s3.amazonaws.com",
            source_account=ACCOUNT,
            qualifier="live",
            target="alias-ref",
        ),
        expect={PUBLIC: C},
    ),
    case("aliases-without-grants", aliases=("live", "beta"), expect={PUBLIC: C}),
    case(
        "url-on-an-alias",
        aliases=("live",),
        url=("NONE", "live"),
        grants=url_grants("NONE", "live", target="alias-ref"),
        expect={PUBLIC: N, URL_AUTH: N},
    ),
    # --- lambda-runtime-supported (tests/checks/test_runtime_supported.py) ---
    case("runtime-deprecated", runtime="python3.10", expect={RUNTIME: N}),
    case(
        "runtime-within-days-before-deprecation",
        runtime="nodejs22.x",
        parameters={"daysBeforeDeprecation": "200"},
        expect={RUNTIME: N},
    ),
    case("runtime-outside-the-window", runtime="nodejs22.x", expect={RUNTIME: C}),
    case(
        "runtime-not-in-the-allow-list", parameters={"runtime": "python3.13"}, expect={RUNTIME: N}
    ),
    case("runtime-unknown-to-the-table", runtime="python3.99", expect={RUNTIME: N}),
    case(
        "runtime-image-package",
        package_type="Image",
        runtime=None,
        expect={RUNTIME: NA},
    ),
    case(
        "runtime-from-a-parameter",
        runtime=Deployed({"Ref": "Runtime"}, "python3.10", favourable="python3.13"),
        expect={RUNTIME: N},
        unresolved=frozenset({RUNTIME}),
    ),
    # --- lambda-xray-tracing-active (tests/checks/test_xray_tracing.py) ---
    case("xray-pass-through", tracing="PassThrough", expect={XRAY: N}),
    case("xray-not-set", tracing=None, expect={XRAY: N}),
    case(
        "xray-mode-from-a-parameter",
        tracing=Deployed({"Ref": "TracingMode"}, "PassThrough", favourable="Active"),
        expect={XRAY: N},
        unresolved=frozenset({XRAY}),
    ),
    # --- lambda-tagged (tests/checks/test_tagged.py) ---
    case("tagged-no-tags", tags={}, expect={TAGGED: N}),
    case(
        "tagged-required-key-missing",
        parameters={"requiredTagKeys": "team,env"},
        expect={TAGGED: N},
    ),
    case(
        "tagged-allowed-value",
        tags={"team": "orders", "env": "prod"},
        parameters={"requiredTagKeys": "team,env", "allowedTagValues": '{"env": ["prod"]}'},
        expect={TAGGED: C},
    ),
    case(
        "tagged-value-not-allowed",
        tags={"team": "orders", "env": "dev"},
        parameters={"allowedTagValues": '{"env": ["prod"]}'},
        expect={TAGGED: N},
    ),
    case(
        "tagged-value-from-a-parameter",
        tags={"team": "orders", "env": Deployed({"Ref": "Stage"}, "dev", favourable="prod")},
        parameters={"allowedTagValues": '{"env": ["prod"]}'},
        expect={TAGGED: N},
        unresolved=frozenset({TAGGED}),
    ),
    # --- lambda-vpc-multi-az (tests/checks/test_vpc_multi_az.py): the template's own subnets ---
    case("multi-az-two-zones", subnets=(OWN_A, OWN_B), expect={MULTI_AZ: C, VPC: C}),
    case("multi-az-one-zone", subnets=(OWN_A, OWN_A2), expect={MULTI_AZ: N}),
    case(
        "multi-az-fewer-than-availabilityZones",
        subnets=(OWN_A, OWN_B),
        parameters={"availabilityZones": "3"},
        expect={MULTI_AZ: N},
    ),
    case("multi-az-outside-a-vpc", subnets=(), expect={MULTI_AZ: NA}),
    case(
        "multi-az-zone-from-fn-getazs",
        subnets=(OWN_A, OWN_GETAZS),
        expect={MULTI_AZ: N},
        unresolved=frozenset({MULTI_AZ}),
    ),
    # --- lambda-dlq-check's acceptOnFailureDestination (tests/checks/test_dlq.py) ---
    case(
        "dlq-on-failure-destination-accepted",
        dead_letter=None,
        on_failure=OWN_QUEUE,
        parameters={"acceptOnFailureDestination": "true"},
        expect={DLQ: C},
    ),
    case(
        "dlq-on-failure-destination-off-by-default",
        dead_letter=None,
        on_failure=OWN_QUEUE,
        expect={DLQ: N},
    ),
    case(
        "dlq-on-failure-destination-not-listed",
        dead_letter=None,
        on_failure=OWN_QUEUE,
        parameters={"acceptOnFailureDestination": "true", "dlqArns": OTHER_QUEUE},
        expect={DLQ: N},
    ),
    case(
        "dlq-on-failure-destination-of-an-alias-only",
        dead_letter=None,
        aliases=("live",),
        on_failure=OWN_QUEUE,
        on_failure_qualifier="live",
        parameters={"acceptOnFailureDestination": "true"},
        expect={DLQ: N},
    ),
    case(
        "dlq-on-failure-destination-under-a-template-condition",
        dead_letter=None,
        on_failure=TOPIC,
        on_failure_condition="WithDestination",
        parameters={"acceptOnFailureDestination": "true"},
        expect={DLQ: N},
        unresolved=frozenset({DLQ}),
    ),
    # --- SAM, after its transform (logical ids and references as SAM generates them) ---
    case(
        "sam-compliant",
        sam=True,
        aliases=("live",),
        url=("AWS_IAM", "live"),
        grants=grant(
            principal="s3.amazonaws.com",
            source_account=ACCOUNT,
            qualifier="live",
            target="alias-ref",
        ),
    ),
    case(
        "sam-public-url",
        sam=True,
        aliases=("prod",),
        url=("NONE", "prod"),
        grants=url_grants("NONE", "prod", target="alias-ref"),
        expect={PUBLIC: N, URL_AUTH: N},
    ),
    case(
        "sam-partner-topic-from-a-parameter",
        sam=True,
        aliases=("prod",),
        grants=grant(
            principal="sns.amazonaws.com",
            source_arn=Deployed(
                {"Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${PartnerAccount}:events"},
                f"arn:aws:sns:{REGION}:*:events",
                favourable=f"arn:aws:sns:{REGION}:{PARTNER}:events",
            ),
            qualifier="prod",
            target="alias-ref",
        ),
        expect={PUBLIC: N},
        unresolved=frozenset({PUBLIC}),
    ),
]

# Engine test cases CloudFormation cannot express, and why (the Config side has them alone).
NOT_EXPRESSIBLE = {
    "status-ResourceDeleted": "a Config item state: a template describes resources to create",
    "status-ResourceDeletedNotRecorded": "a Config item state",
    "status-ResourceNotRecorded": "a Config item state (the recorder does not record the type)",
    "event-left-scope": "a Config invocation (eventLeftScope), not a resource property",
    "resource-type-not-lambda": "the adapter models AWS::Lambda::Function resources only",
    "oversized-item": "a Config delivery limit (configurationItemSummary), not a template's",
    "recorder-health-and-stale-inventory": "a property of the live recorder and inventory",
    "environment-error-KMSAccessDenied": "a read-time error of GetFunctionConfiguration",
    "unreadable-or-malformed-policy": "Lambda builds the policy: a template cannot spell one",
    "deny-statements": "AWS::Lambda::Permission only adds Allow statements",
    "not-principal": "AddPermission takes one Principal, never NotPrincipal",
    "principal-lists": "AddPermission takes one principal per statement",
    "if-exists-for-all-values-operators": "AddPermission writes fixed operators only",
    "other-condition-keys": "AddPermission writes only SourceAccount, SourceArn, "
    "PrincipalOrgID, EventSourceToken, FunctionUrlAuthType and InvokedViaFunctionUrl",
    "policy-variables": "Lambda writes no policy variables into AddPermission statements",
    "key-manager-of-a-key-given-by-arn": "only kms:DescribeKey tells who manages a key given by "
    "its key ARN (the AWS managed aws/lambda key has one too); a template never says, so a "
    "customer-managed key given by ARN is COMPLIANT live but, at synth time, an unresolved value "
    "that decides (NON_COMPLIANT, or UNKNOWN on request); the hook asks DescribeKey",
    "unknown-variables-online": "Config not recording variables: a template always states them",
}

# Rules whose synth-time view is partial by nature (issue 11): the template is not the account.
PARTIAL_VIEW = {
    "lambda-unique-execution-role": "a template holds some of the account's functions: a role "
    "no other function of the template uses may be used elsewhere (NOT_APPLICABLE at synth, "
    "compared by the periodic sweep); a parity case deploys one function, so sharing is "
    "covered by tests/adapters/test_cloudformation_rules_b.py",
}
# Rules whose verdicts (or deploy-time unknowns) single-function parity cases cannot show,
# and where they are tested instead.
COVERED_ELSEWHERE = {
    "lambda-function-url-auth-required": "an AuthType from a parameter: "
    "tests/adapters/test_cloudformation_rules_b.py (parity cases write literal auth types)",
    "lambda-unique-execution-role": "sharing needs two functions (parity cases deploy one): "
    "tests/adapters/test_cloudformation_rules_b.py and tests/test_handler_rules_b.py",
    "lambda-code-signing-enforced": "covered in tests/adapters/test_cloudformation_rules_b.py "
    "(a CodeSigningConfigArn the template does not hold); parity cases deploy no "
    "AWS::Lambda::CodeSigningConfig",
}

# Synth-time verdicts stricter than any deployment can be: no configuration item gives them.
SYNTH_STRICTER = {
    "zone-of-a-subnet-given-by-id": "lambda-vpc-multi-az: only ec2:DescribeSubnets knows the "
    "availability zone of a subnet the template names by id (or by a parameter), so the "
    "template's verdict is NON_COMPLIANT, decided by that zone, whatever the deployment gives "
    "(test_a_subnet_given_by_id_has_a_zone_only_aws_knows); the template's own subnets with a "
    "literal AvailabilityZone are compared like any value",
    "source-account-from-a-parameter": "Lambda takes only a 12-digit SourceAccount, so any "
    "deployed value restricts; rules.policy never takes an unresolved value for a fixed account "
    "(the trust issue's semantics), so the template is NON_COMPLIANT, decided by the value",
}


def parameters_for(rule: Rule, given: dict[str, str]) -> Parameters:
    names = {spec.name for spec in rule.parameters}
    return parse_parameters(
        rule, {k: v for k, v in given.items() if k in names}, today=EVALUATION_DATE
    )


def live_evaluation(rule: Rule, c: Case, favourable: bool = False) -> Evaluation:
    item = configuration_item_from_dict(config_item(c, favourable))
    assert item.function is not None
    qualified = tuple(
        QualifiedPolicy(
            QualifierKind.VERSION if name.isdigit() else QualifierKind.ALIAS,
            name,
            parse_policy(json.dumps(document)) if document else None,
        )
        for name, document in qualifier_policies(c, favourable).items()
    )
    function = replace(
        item.function,
        kms_key_manager=key_manager(c, favourable),
        qualified_policies=qualified,
        # What the handler reads beside the item: ec2:DescribeSubnets,
        # GetFunctionEventInvokeConfig (unqualified), ListFunctionUrlConfigs,
        # GetFunctionCodeSigningConfig (none in these cases), the sweep's view of roles (one
        # function: no other uses its role).
        subnet_zones=subnet_zones(c, favourable),
        event_invoke_config=EventInvokeConfig(on_failure_destination(c, favourable)),
        function_urls=(FunctionUrl(c.url[1], c.url[0]),) if c.url else (),
        code_signing=CodeSigning(None),
        role_peers=RolePeers((), "the account and Region", True),
    )
    return evaluate_function(rule, function, parameters_for(rule, dict(c.parameters)))


def template_evaluation(rule: Rule, c: Case) -> Evaluation:
    models = read_template(template(c), StackEnvironment(account=ACCOUNT, region=REGION))
    assert models.unattributed == ()
    ((logical_id, function),) = models.functions.items()
    assert function.arn == FUNCTION_ARN
    return evaluate_template_function(
        rule, function, models.unknowns[logical_id], parameters_for(rule, dict(c.parameters))
    )


def compared(rule: Rule, c: Case) -> bool:
    """Whether the template can know what the rule reads (see SYNTH_STRICTER)."""
    return rule.id != MULTI_AZ or zones_expressible(c)


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_config_item_and_template_agree_for_every_rule(c: Case) -> None:
    for rule in RULES:
        if not compared(rule, c):
            continue
        live = live_evaluation(rule, c)
        synth = template_evaluation(rule, c)
        if rule.id in PARTIAL_VIEW and live.compliance is Compliance.COMPLIANT:
            # The template sees only its own functions: no peer there proves nothing.
            assert synth.compliance is Compliance.NOT_APPLICABLE, (rule.id, synth.annotation)
            continue
        assert synth.compliance is live.compliance, (rule.id, live.annotation, synth.annotation)
        if rule.id in c.expect:
            assert live.compliance is Compliance(c.expect[rule.id]), (rule.id, live.annotation)
        assert bool(synth.unresolved) is (rule.id in c.unresolved), (rule.id, synth.annotation)


@pytest.mark.parametrize(
    "c", [c for c in CASES if c.unresolved], ids=[c.id for c in CASES if c.unresolved]
)
def test_an_unresolved_value_decides_what_the_template_cannot_know(c: Case) -> None:
    for rule_id in c.unresolved:
        rule = next(rule for rule in RULES if rule.id == rule_id)
        synth = template_evaluation(rule, c)
        assert synth.compliance is Compliance.NON_COMPLIANT
        assert synth.annotation.startswith("decided by value(s) known only at deploy time (")
        assert all(text in synth.annotation for text in synth.unresolved)
        # Deployed favourably, the live verdict differs: the template could not know.
        assert live_evaluation(rule, c, favourable=True).compliance is not Compliance.NON_COMPLIANT


def test_case_ids_are_unique_and_every_rule_is_covered() -> None:
    ids = [c.id for c in CASES] + list(NOT_EXPRESSIBLE)
    assert len(ids) == len(set(ids))
    for rule in RULES:
        verdicts = {c.expect[rule.id] for c in CASES if rule.id in c.expect}
        if rule.id in COVERED_ELSEWHERE:
            continue
        assert {C, N} <= verdicts, rule.id
        assert any(rule.id in c.unresolved for c in CASES), rule.id


def subnets_given_by_id(c: Case) -> bool:
    """Subnets the template names by id or by parameter (not its own); a VpcConfig an Fn::If
    may remove is absent at worst: NOT_APPLICABLE for lambda-vpc-multi-az (lambda-inside-vpc
    judges that one)."""
    if isinstance(c.subnets, Deployed):
        return "Fn::If" not in c.subnets.template
    return bool(c.subnets) and not zones_expressible(c)


@pytest.mark.parametrize("c", [c for c in CASES if subnets_given_by_id(c)], ids=lambda c: c.id)
def test_a_subnet_given_by_id_has_a_zone_only_aws_knows(c: Case) -> None:
    rule = next(rule for rule in RULES if rule.id == MULTI_AZ)
    synth = template_evaluation(rule, c)
    assert synth.compliance is Compliance.NON_COMPLIANT
    assert synth.unresolved and all("AvailabilityZone of" in text for text in synth.unresolved)
    # Live, DescribeSubnets answers (here: a zone per subnet) and the verdict follows the zones.
    live = live_evaluation(rule, c)
    assert live.compliance is not Compliance.NOT_APPLICABLE
