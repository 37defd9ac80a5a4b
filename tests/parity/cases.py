"""Parity cases: each written once, turned into a Config configuration item and a template.

A ``Case`` describes one deployed function: its settings, its permissions (as the
``AddPermission`` calls / ``AWS::Lambda::Permission`` resources that make its policies) and its
aliases. ``config_item`` gives the item AWS Config records for it (the invoking event's shape,
``rules.adapters.config_item``) plus what the handler reads beside it (environment variable names
from GetFunctionConfiguration, alias and version policies from GetPolicy(Qualifier), the key's
manager from kms:DescribeKey); ``template`` gives the CloudFormation resources that deploy it.

A value the template computes is a ``Deployed``: its template spelling, the value it resolves to
at deploy time (the Config side) and, for a value that decides a verdict, a ``favourable``
resolution under which the live verdict differs (proof the template cannot know it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from rules.model import KeyManager

ACCOUNT = "111122223333"
REGION = "us-east-1"
NAME = "orders-api"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{NAME}"
OWN_KEY = "own-key"  # the template's AWS::KMS::Key
OWN_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OWN_QUEUE = "own-queue"  # the template's AWS::SQS::Queue named orders-dlq
OWN_QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders-dlq"
PUBLISHED_VERSION = "1"
# issue 11 (rules-a): the template's own subnets (token -> logical id, deployed id, zone). The
# zone of a subnet given by id is known only to ec2:DescribeSubnets; of an own subnet with a
# literal AvailabilityZone, the template knows it.
OWN_SUBNETS = {
    "own-subnet-a": ("SubnetA", "subnet-0aaa1111", "us-east-1a"),
    "own-subnet-b": ("SubnetB", "subnet-0bbb2222", "us-east-1b"),
    "own-subnet-a2": ("SubnetA2", "subnet-0ccc3333", "us-east-1a"),
}
# An own subnet whose zone is Fn::Select of Fn::GetAZs: known at deploy time only. Deployed at
# its worst it shares own-subnet-a's zone; favourably it is another.
GETAZS_SUBNET = ("SubnetG", "subnet-0ddd4444", "us-east-1a", "us-east-1c")
OWN_GETAZS_SUBNET = "own-subnet-getazs"
# The zone DescribeSubnets gives a subnet the cases name by id (never compared: see test_parity).
LITERAL_SUBNET_ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")
LATEST = "$LATEST"


@dataclass(frozen=True)
class Deployed:
    """A value the template computes (``template``) and what it is once deployed."""

    template: Any
    deployed: Any
    favourable: Any = None


def in_template(value: Any) -> Any:
    if isinstance(value, Deployed):
        return value.template
    if value in OWN_SUBNETS:
        return {"Ref": OWN_SUBNETS[value][0]}
    if value == OWN_GETAZS_SUBNET:
        return {"Ref": GETAZS_SUBNET[0]}
    if value == OWN_KEY:
        return {"Fn::GetAtt": ["Key", "Arn"]}
    if value == OWN_QUEUE:
        return {"Fn::GetAtt": ["Dlq", "Arn"]}
    return value


def deployed(value: Any, favourable: bool = False) -> Any:
    if isinstance(value, Deployed):
        return value.favourable if favourable and value.favourable is not None else value.deployed
    if value in OWN_SUBNETS:
        return OWN_SUBNETS[value][1]
    if value == OWN_GETAZS_SUBNET:
        return GETAZS_SUBNET[1]
    return {OWN_KEY: OWN_KEY_ARN, OWN_QUEUE: OWN_QUEUE_ARN}.get(value, value) if value else value


@dataclass(frozen=True)
class Grant:
    """One AddPermission call / AWS::Lambda::Permission. ``target``: how the template names the
    function: ref, arn, sub, join, name, partial (``account:function:name``), alias-ref."""

    sid: str
    principal: Any
    action: str = "lambda:InvokeFunction"
    source_account: Any = None
    source_arn: Any = None
    principal_org_id: Any = None
    event_source_token: Any = None
    function_url_auth_type: str | None = None
    invoked_via_function_url: bool = False
    qualifier: str | None = None
    target: str = "ref"
    condition: str | None = None  # a template Condition the resource carries


def url_grants(auth_type: str, qualifier: str | None = None, target: str = "ref") -> tuple:
    """The permissions CDK (``addFunctionUrl``) and SAM (``FunctionUrlConfig``) add for a URL."""
    if auth_type != "NONE":
        return ()
    return (
        Grant(
            "UrlPublicPermissions",
            "*",
            action="lambda:InvokeFunctionUrl",
            function_url_auth_type="NONE",
            qualifier=qualifier,
            target=target,
        ),
        Grant(
            "URLInvokeAllowPublicAccess",
            "*",
            invoked_via_function_url=True,
            qualifier=qualifier,
            target=target,
        ),
    )


@dataclass(frozen=True)
class Case:
    id: str
    subnets: Any = ()  # tuple of subnet ids, or a Deployed for the whole list
    dead_letter: Any = None
    key: Any = None
    # What kms:DescribeKey answers for a key of the account given by its key ARN (the ARN does
    # not say): a template cannot know it, so at worst AWS managed (the aws/lambda key).
    key_manager: Any = field(
        default_factory=lambda: Deployed(None, KeyManager.AWS, favourable=KeyManager.CUSTOMER)
    )
    variables: Any = ()  # names, or a Deployed whose template is the Environment property
    reserved: Any = None
    grants: tuple[Grant, ...] = ()
    aliases: tuple[str, ...] = ()
    url: tuple[str, str | None] | None = None  # (auth type, alias) of an AWS::Lambda::Url
    parameters: Mapping[str, str] = field(default_factory=dict)
    # What the case is about: rule id -> the verdict both sides must give.
    expect: Mapping[str, str] = field(default_factory=dict)
    # Rules whose template verdict the unresolved values decide (Evaluation.unresolved).
    unresolved: frozenset[str] = frozenset()
    sam: bool = False  # logical ids and references as the SAM transform generates them
    # --- issue 11 (rules-a) ---
    runtime: Any = "python3.12"
    package_type: str = "Zip"
    tracing: Any = "Active"  # TracingConfig.Mode; None: the template sets none (PassThrough)
    tags: Mapping[str, Any] = field(default_factory=lambda: {"team": "orders"})
    # The $LATEST EventInvokeConfig's OnFailure destination (None: no EventInvokeConfig).
    on_failure: Any = None
    on_failure_qualifier: str = LATEST
    on_failure_condition: str | None = None  # a template Condition the EventInvokeConfig carries


def zones_expressible(case: Case) -> bool:
    """Whether the template knows every subnet's zone: only its own subnets' (or no subnets)."""
    if isinstance(case.subnets, Deployed):
        return False
    return all(s in OWN_SUBNETS or s == OWN_GETAZS_SUBNET for s in case.subnets)


def subnet_zones(case: Case, favourable: bool = False) -> dict[str, str]:
    """What ec2:DescribeSubnets answers for the deployed subnets."""
    zones = {}
    for index, subnet in enumerate(_deployed_subnets(case, favourable)):
        zones[subnet] = LITERAL_SUBNET_ZONES[index % len(LITERAL_SUBNET_ZONES)]
    for _, subnet_id, zone in OWN_SUBNETS.values():
        zones[subnet_id] = zone
    zones[GETAZS_SUBNET[1]] = GETAZS_SUBNET[3] if favourable else GETAZS_SUBNET[2]
    return zones


def on_failure_destination(case: Case, favourable: bool = False) -> str | None:
    """What GetFunctionEventInvokeConfig (unqualified) answers for the deployed function."""
    if case.on_failure is None or case.on_failure_qualifier != LATEST:
        return None
    if case.on_failure_condition and not favourable:
        return None  # at its worst, the condition is false
    return deployed(case.on_failure, favourable)


# --- (a) the configuration item -------------------------------------------------------------


def config_item(case: Case, favourable: bool = False) -> dict[str, Any]:
    """The event-shaped configuration item Config records for the deployed function."""
    configuration: dict[str, Any] = {
        "functionName": NAME,
        "functionArn": FUNCTION_ARN,
        "role": f"arn:aws:iam::{ACCOUNT}:role/orders-api-role",
        "packageType": case.package_type,
        # Lambda applies PassThrough when the template sets no mode; Config records it.
        "tracingConfig": {"mode": deployed(case.tracing, favourable) or "PassThrough"},
        "vpcConfig": {
            "subnetIds": list(_deployed_subnets(case, favourable)),
            "securityGroupIds": ["sg-0a1b2c3d"] if _deployed_subnets(case, favourable) else [],
        },
    }
    dead_letter = deployed(case.dead_letter, favourable)
    if dead_letter:
        configuration["deadLetterConfig"] = {"targetArn": dead_letter}
    key = deployed(case.key, favourable)
    if key:
        configuration["kmskeyArn"] = key
    # Config never records the variables; the handler reads their names from
    # GetFunctionConfiguration and the adapter reads them from the item's environment.
    configuration["environment"] = {
        "variables": {name: "value" for name in deployed(case.variables, favourable)}
    }
    supplementary: dict[str, Any] = {}
    policy = lambda_policy(case, None, favourable)
    if policy is not None:
        supplementary["Policy"] = json.dumps(policy)
    reserved = deployed(case.reserved, favourable)
    if reserved is not None:
        supplementary["Concurrency"] = {"reservedConcurrentExecutions": reserved}
    runtime = deployed(case.runtime, favourable)
    if runtime and case.package_type != "Image":
        configuration["runtime"] = runtime
    tags = {key: deployed(value, favourable) for key, value in case.tags.items()}
    if case.sam:
        tags["lambda:createdBy"] = "SAM"
    return {
        "configurationItemStatus": "OK",
        "configurationItemCaptureTime": "2026-11-02T09:16:41.517Z",
        "resourceType": "AWS::Lambda::Function",
        "resourceId": NAME,
        "resourceName": NAME,
        "ARN": FUNCTION_ARN,
        "awsAccountId": ACCOUNT,
        "awsRegion": REGION,
        "configuration": configuration,
        "supplementaryConfiguration": supplementary,
        "tags": tags,
    }


def _deployed_subnets(case: Case, favourable: bool) -> tuple[str, ...]:
    if isinstance(case.subnets, Deployed):
        return tuple(deployed(case.subnets, favourable) or ())
    return tuple(deployed(subnet, favourable) for subnet in case.subnets)


def key_manager(case: Case, favourable: bool = False) -> KeyManager | None:
    """What kms:DescribeKey says of the deployed key, as the live rule asks it: AWS or CUSTOMER,
    never UNVERIFIED (which DescribeKey never answers). The template's own key, another
    account's key (AWS managed keys are never shared) and a customer's alias are the customer's;
    ``alias/aws/...`` is AWS's; any other key of the account, ``case.key_manager``."""
    key = deployed(case.key, favourable)
    if not key:
        return None
    if key == OWN_KEY_ARN:
        return KeyManager.CUSTOMER
    if ":alias/aws/" in key:
        return KeyManager.AWS
    if ":alias/" in key or key.split(":")[4] != ACCOUNT:
        return KeyManager.CUSTOMER
    manager: KeyManager = deployed(case.key_manager, favourable)
    return manager


def qualifier_policies(case: Case, favourable: bool = False) -> dict[str, dict | None]:
    """GetPolicy(Qualifier=...) for each alias and the published version (None: no policy)."""
    qualifiers = [*case.aliases, *([PUBLISHED_VERSION] if case.aliases else [])]
    qualifiers += sorted(
        {g.qualifier for g in case.grants if g.qualifier and g.qualifier not in qualifiers}
    )
    return {q: lambda_policy(case, q, favourable) for q in qualifiers}


def lambda_policy(case: Case, qualifier: str | None, favourable: bool) -> dict | None:
    """The resource policy Lambda builds from the AddPermission calls on ``qualifier``."""
    resource = FUNCTION_ARN + (f":{qualifier}" if qualifier else "")
    statements = [
        _lambda_statement(grant, resource, favourable)
        for grant in case.grants
        if grant.qualifier == qualifier
        and not (favourable and grant.condition)  # favourably, the condition is false
    ]
    if not statements:
        return None
    return {"Version": "2012-10-17", "Id": "default", "Statement": statements}


def _lambda_statement(grant: Grant, resource: str, favourable: bool) -> dict[str, Any]:
    principal = deployed(grant.principal, favourable)
    written: Any
    if principal == "*":
        written = "*"
    elif principal.endswith(".amazonaws.com"):
        written = {"Service": principal}
    elif principal.isdigit():
        written = {"AWS": f"arn:aws:iam::{principal}:root"}
    else:
        written = {"AWS": principal}
    conditions: dict[str, dict[str, str]] = {}
    for value, operator, key in (
        (grant.source_account, "StringEquals", "AWS:SourceAccount"),
        (grant.principal_org_id, "StringEquals", "aws:PrincipalOrgID"),
        (grant.event_source_token, "StringEquals", "lambda:EventSourceToken"),
        (grant.function_url_auth_type, "StringEquals", "lambda:FunctionUrlAuthType"),
        (grant.source_arn, "ArnLike", "AWS:SourceArn"),
        (
            "true" if grant.invoked_via_function_url else None,
            "Bool",
            "lambda:InvokedViaFunctionUrl",
        ),
    ):
        if value is not None:
            conditions.setdefault(operator, {})[key] = deployed(value, favourable)
    statement: dict[str, Any] = {
        "Sid": grant.sid,
        "Effect": "Allow",
        "Principal": written,
        "Action": grant.action,
        "Resource": resource,
    }
    if conditions:
        statement["Condition"] = conditions
    return statement


# --- (b) the CloudFormation resources -------------------------------------------------------


def template(case: Case) -> dict[str, Any]:
    fn = "OrdersFunction" if case.sam else "Fn"
    properties = _function_properties(case, fn)
    resources: dict[str, Any] = {
        fn: {"Type": "AWS::Lambda::Function", "Properties": properties},
        f"{fn}Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}},
        "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "orders-dlq"}},
    }
    if case.aliases:
        version = f"{fn}Version640128d35d" if case.sam else "Version"
        resources[version] = {
            "Type": "AWS::Lambda::Version",
            "DeletionPolicy": "Retain",
            "Properties": {"FunctionName": {"Ref": fn}},
        }
        for alias in case.aliases:
            resources[_alias_id(case, alias)] = {
                "Type": "AWS::Lambda::Alias",
                "Properties": {
                    "Name": alias,
                    "FunctionName": {"Ref": fn},
                    "FunctionVersion": {"Fn::GetAtt": [version, "Version"]},
                },
            }
    if case.url is not None:
        auth_type, alias = case.url
        resources[f"{fn}Url"] = {
            "Type": "AWS::Lambda::Url",
            "Properties": {
                "AuthType": auth_type,
                "TargetFunctionArn": {"Ref": _alias_id(case, alias)}
                if alias
                else {"Fn::GetAtt": [fn, "Arn"]},
            },
        }
    for grant in case.grants:
        resources[(fn if case.sam else "") + grant.sid] = _permission(case, fn, grant)
    resources.update(_subnets(case))
    if case.on_failure is not None:
        invoke_config: dict[str, Any] = {
            "Type": "AWS::Lambda::EventInvokeConfig",
            "Properties": {
                "FunctionName": {"Ref": fn},
                "Qualifier": case.on_failure_qualifier,
                "DestinationConfig": {"OnFailure": {"Destination": in_template(case.on_failure)}},
            },
        }
        if case.on_failure_condition:
            invoke_config["Condition"] = case.on_failure_condition
        resources[f"{fn}EventInvokeConfig"] = invoke_config
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def _subnets(case: Case) -> dict[str, Any]:
    """The AWS::EC2::Subnet resources of the own subnets the case uses."""
    used = set(case.subnets) if not isinstance(case.subnets, Deployed) else set()
    resources: dict[str, Any] = {}
    for token, (logical_id, _, zone) in OWN_SUBNETS.items():
        if token in used:
            resources[logical_id] = {
                "Type": "AWS::EC2::Subnet",
                "Properties": {
                    "VpcId": "vpc-0a1b2c3d",
                    "CidrBlock": "10.0.0.0/24",
                    "AvailabilityZone": zone,
                },
            }
    if OWN_GETAZS_SUBNET in used:
        resources[GETAZS_SUBNET[0]] = {
            "Type": "AWS::EC2::Subnet",
            "Properties": {
                "VpcId": "vpc-0a1b2c3d",
                "CidrBlock": "10.0.1.0/24",
                "AvailabilityZone": {"Fn::Select": [1, {"Fn::GetAZs": ""}]},
            },
        }
    return resources


def _function_properties(case: Case, fn: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "FunctionName": NAME,
        "Handler": "app.handler",
        "Code": {"S3Bucket": "artifacts", "S3Key": "orders.zip"},
        "Role": {"Fn::GetAtt": [f"{fn}Role", "Arn"]},
    }
    if case.package_type == "Image":
        properties["PackageType"] = "Image"
        properties["Code"] = {"ImageUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/orders:1"}
        del properties["Handler"]
    elif case.runtime:
        properties["Runtime"] = in_template(case.runtime)
    if case.tracing is not None:
        properties["TracingConfig"] = {"Mode": in_template(case.tracing)}
    tags = [{"Key": key, "Value": in_template(value)} for key, value in case.tags.items()]
    if isinstance(case.subnets, Deployed):
        properties["VpcConfig"] = {"SubnetIds": case.subnets.template}
    elif case.subnets:
        properties["VpcConfig"] = {
            "SubnetIds": [in_template(s) for s in case.subnets],
            "SecurityGroupIds": ["sg-0a1b2c3d"],
        }
    if case.dead_letter:
        properties["DeadLetterConfig"] = {"TargetArn": in_template(case.dead_letter)}
    if case.key:
        properties["KmsKeyArn"] = in_template(case.key)
    if isinstance(case.variables, Deployed):
        properties["Environment"] = case.variables.template
    elif case.variables:
        properties["Environment"] = {"Variables": {name: "value" for name in case.variables}}
    if case.reserved is not None:
        properties["ReservedConcurrentExecutions"] = in_template(case.reserved)
    if case.sam:
        tags.append({"Key": "lambda:createdBy", "Value": "SAM"})
    if tags:
        properties["Tags"] = tags
    return properties


def _alias_id(case: Case, alias: str) -> str:
    return f"OrdersFunctionAlias{alias}" if case.sam else f"Alias{alias.title()}"


def _permission(case: Case, fn: str, grant: Grant) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "Action": grant.action,
        "FunctionName": _target(case, fn, grant),
        "Principal": in_template(grant.principal),
    }
    for prop, value in (
        ("SourceAccount", grant.source_account),
        ("SourceArn", grant.source_arn),
        ("PrincipalOrgID", grant.principal_org_id),
        ("EventSourceToken", grant.event_source_token),
        ("FunctionUrlAuthType", grant.function_url_auth_type),
        ("InvokedViaFunctionUrl", True if grant.invoked_via_function_url else None),
    ):
        if value is not None:
            properties[prop] = in_template(value)
    resource: dict[str, Any] = {"Type": "AWS::Lambda::Permission", "Properties": properties}
    if grant.condition:
        resource["Condition"] = grant.condition
    return resource


def _target(case: Case, fn: str, grant: Grant) -> Any:
    suffix = f":{grant.qualifier}" if grant.qualifier else ""
    arn = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:" + NAME
    spelled: dict[str, Any] = {
        "ref": {"Ref": fn},
        "arn": {"Fn::GetAtt": [fn, "Arn"]},
        "sub": {"Fn::Sub": arn + suffix},
        "join": {
            "Fn::Join": [":", [{"Fn::GetAtt": [fn, "Arn"]}, *([grant.qualifier] if suffix else [])]]
        },
        "name": NAME + suffix,
        "partial": f"{ACCOUNT}:function:{NAME}{suffix}",
        "full-arn": FUNCTION_ARN + suffix,
    }
    if grant.target == "alias-ref":
        return {"Ref": _alias_id(case, grant.qualifier or "")}
    if grant.target == "alias-arn":
        return {"Fn::GetAtt": [_alias_id(case, grant.qualifier or ""), "AliasArn"]}
    if suffix and grant.target in ("ref", "arn"):
        raise ValueError(f"{grant.sid}: a Ref/GetAtt of the function cannot carry a qualifier")
    return spelled[grant.target]
