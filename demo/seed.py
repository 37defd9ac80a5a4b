"""A sample account for the demo and the e2e tests: fifteen functions spanning every verdict of
every rule, built through the ordinary AWS APIs (so it also works against real AWS or any
emulator), plus Security Hub enabled.

Each ``SampleFunction`` states the verdict it is *designed* to get from each rule; the e2e tests
compare what the real handlers reported with that design. One function is created, evaluated and
then deleted (``retire``), so its Config deletion event exercises NOT_APPLICABLE and the archiving
of its findings. One function waives two rules with the exemption tag (``rules.exemptions``): the
handlers judge it NOT_APPLICABLE for them and its findings are SUPPRESSED.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any, Mapping

import boto3

from rules.exemptions import DEFAULT_TAG_KEY, parse_exemption
from rules.model import Compliance

PUBLIC = "lambda-function-public-access-prohibited"
VPC = "lambda-inside-vpc"
CMK = "lambda-env-vars-cmk-encrypted"
DLQ = "lambda-dlq-check"
CONCURRENCY = "lambda-concurrency-check"
# issue 11 (rules-a)
RUNTIME = "lambda-runtime-supported"
XRAY = "lambda-xray-tracing-active"
MULTI_AZ = "lambda-vpc-multi-az"
TAGGED = "lambda-tagged"
# issue 11 (rules-b)
URL_AUTH = "lambda-function-url-auth-required"
CODE_SIGNING = "lambda-code-signing-enforced"
NO_SECRETS = "lambda-no-secrets-in-env-vars"
UNIQUE_ROLE = "lambda-unique-execution-role"
SUPPORTED_RUNTIME = "python3.12"
# Deprecated by AWS on 2025-12-15 (rules/data/runtimes.json): non-compliant on any later day.
DEPRECATED_RUNTIME = "python3.9"

P, F, NA = Compliance.COMPLIANT, Compliance.NON_COMPLIANT, Compliance.NOT_APPLICABLE
OTHER_ACCOUNT = "444455556666"
PREFIX = "gl-"
ROLE_NAME = "gl-sample-function-role"
# Values that look like secrets (AWS's documented example key id and a literal password): the
# demo shows that only the names and kinds reach Config, Security Hub and the logs.
SECRET_VARIABLES: Mapping[str, str] = {
    "BACKUP_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "DB_PASSWORD": "gl-demo-Pa55word",
}
EXEMPTION = (
    "rules=lambda-inside-vpc+lambda-dlq-check reason=demo exemption behind WAF until=2099-12-31"
)
SIGNING_PROFILE_VERSION = "arn:aws:signer:{region}:{account}:/signing-profiles/GlDemo/v1demo"


@dataclass(frozen=True)
class SampleFunction:
    name: str
    purpose: str
    expected: Mapping[str, Compliance]
    vpc: bool = False
    environment: bool = False
    # "cmk": a key created in the account; "aws-managed": the aws/lambda alias ARN.
    kms_key: str | None = None
    dlq: str | None = None  # "sqs" or "sns"
    reserved_concurrency: int | None = None
    url_auth_type: str | None = None
    # add_permission arguments (FunctionName/Action filled in); "{account}" is substituted.
    permissions: tuple[Mapping[str, str], ...] = ()
    deleted: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)
    # --- issue 11 (rules-a) ---
    runtime: str = SUPPORTED_RUNTIME
    tracing: bool = False  # TracingConfig Mode Active (else Lambda's PassThrough)
    single_zone: bool = False  # in a VPC, but both subnets in one availability zone
    untagged: bool = False  # no tags at all (not even the demo's)
    # --- issue 11 (rules-b) ---
    own_role: bool = False  # its own execution role (else the shared ROLE_NAME)
    code_signing: bool = False  # a code signing configuration with Enforce
    secrets: bool = False  # SECRET_VARIABLES among its environment variables

    @property
    def exempted(self) -> frozenset[str]:
        """The rules its exemption tag waives (the rules' own grammar)."""
        value = self.tags.get(DEFAULT_TAG_KEY)
        return frozenset(parse_exemption(value).rule_ids) if value else frozenset()


def _verdicts(public: Compliance, vpc: Compliance, cmk: Compliance, dlq: Compliance,
              concurrency: Compliance, *, runtime: Compliance = P, xray: Compliance = F,
              multi_az: Compliance | None = None, tagged: Compliance = P,
              url: Compliance = P, signing: Compliance = F, secrets: Compliance = P,
              unique_role: Compliance = F) -> dict[str, Compliance]:
    """The five core rules' verdicts, then issue 11's: a supported runtime, PassThrough
    tracing and the demo tag unless said otherwise; multi-AZ follows the VPC rule (two
    subnets in two zones) unless said otherwise; no URL or only AWS_IAM ones, no code signing,
    no secret in the variables (or no variables) and the shared execution role unless said
    otherwise."""
    zones = multi_az if multi_az is not None else (P if vpc is P else NA if vpc is F else vpc)
    return {PUBLIC: public, VPC: vpc, CMK: cmk, DLQ: dlq, CONCURRENCY: concurrency,
            RUNTIME: runtime, XRAY: xray, MULTI_AZ: zones, TAGGED: tagged, URL_AUTH: url,
            CODE_SIGNING: signing, NO_SECRETS: secrets, UNIQUE_ROLE: unique_role}


S3_WITH_ACCOUNT = {
    "StatementId": "s3-invoke",
    "Principal": "s3.amazonaws.com",
    "SourceArn": "arn:aws:s3:::gl-uploads-{account}",
    "SourceAccount": "{account}",
}

SAMPLE: tuple[SampleFunction, ...] = (
    SampleFunction(
        PREFIX + "hardened",
        "passes every rule: VPC in two zones, CMK, DLQ, concurrency, S3 grant pinned, X-Ray, "
        "code signing enforced, its own role",
        _verdicts(P, P, P, P, P, xray=P, signing=P, unique_role=P), vpc=True, environment=True,
        kms_key="cmk", dlq="sqs", reserved_concurrency=10, permissions=(S3_WITH_ACCOUNT,),
        tracing=True, code_signing=True, own_role=True,
    ),
    SampleFunction(
        PREFIX + "public-url", "function URL with auth type NONE: public",
        _verdicts(F, F, P, F, F, url=F), url_auth_type="NONE",
        permissions=({"StatementId": "FunctionURLAllowPublicAccess", "Principal": "*",
                      "Action": "lambda:InvokeFunctionUrl", "FunctionUrlAuthType": "NONE"},),
    ),
    SampleFunction(
        PREFIX + "iam-url", "function URL with auth type AWS_IAM: not public",
        _verdicts(P, P, P, P, P), url_auth_type="AWS_IAM", vpc=True, dlq="sns",
        reserved_concurrency=5,
    ),
    SampleFunction(
        PREFIX + "public-principal", "Principal '*' with no condition",
        _verdicts(F, P, F, P, P), vpc=True, environment=True, dlq="sqs",
        reserved_concurrency=2,
        permissions=({"StatementId": "anyone", "Principal": "*"},),
    ),
    SampleFunction(
        PREFIX + "s3-no-source-account", "S3 grant with a bucket ARN and no SourceAccount",
        _verdicts(F, F, P, F, F),
        permissions=({"StatementId": "s3-any-account", "Principal": "s3.amazonaws.com",
                      "SourceArn": "arn:aws:s3:::gl-uploads"},),
    ),
    SampleFunction(
        PREFIX + "cross-account", "grant to one other account: not public",
        _verdicts(P, F, P, F, F),
        permissions=({"StatementId": "partner", "Principal": OTHER_ACCOUNT},),
    ),
    SampleFunction(
        PREFIX + "service-restricted",
        "EventBridge grant pinned to a rule ARN; an access key id and a password in variables",
        _verdicts(P, F, F, F, P, secrets=F), environment=True, reserved_concurrency=20,
        secrets=True,
        permissions=({"StatementId": "events", "Principal": "events.amazonaws.com",
                      "SourceArn": "arn:aws:events:{region}:{account}:rule/nightly"},),
    ),
    SampleFunction(
        PREFIX + "aws-managed-key", "environment encrypted with the AWS managed key",
        _verdicts(P, P, F, P, P), vpc=True, environment=True, kms_key="aws-managed",
        dlq="sqs", reserved_concurrency=3,
    ),
    SampleFunction(
        PREFIX + "cmk-no-vpc", "customer-managed key, outside a VPC",
        _verdicts(P, F, P, F, F), environment=True, kms_key="cmk",
    ),
    SampleFunction(
        PREFIX + "dlq-only", "dead-letter queue, nothing else",
        _verdicts(P, F, P, P, F), dlq="sqs",
    ),
    SampleFunction(
        PREFIX + "throttled",
        "reserved concurrency 0 (throttled) is a set limit; both subnets in one zone",
        _verdicts(P, P, P, F, P, multi_az=F), vpc=True, reserved_concurrency=0,
        single_zone=True,
    ),
    SampleFunction(
        PREFIX + "legacy",
        "deprecated runtime (python3.9), no tags: fails lambda-runtime-supported, lambda-tagged",
        _verdicts(P, F, P, F, F, runtime=F, tagged=F), runtime=DEPRECATED_RUNTIME,
        untagged=True,
    ),
    SampleFunction(
        PREFIX + "bare", "defaults: no VPC, no DLQ, no concurrency, no variables",
        _verdicts(P, F, P, F, F),
    ),
    SampleFunction(
        PREFIX + "exempted",
        "no VPC, no DLQ, waived by tag guardrails:exempt: NOT_APPLICABLE, findings SUPPRESSED",
        _verdicts(P, NA, P, NA, F), tags={DEFAULT_TAG_KEY: EXEMPTION},
    ),
    SampleFunction(
        PREFIX + "retired", "created, then deleted: Config sends ResourceDeleted",
        _verdicts(NA, NA, NA, NA, NA, runtime=NA, xray=NA, multi_az=NA, tagged=NA, url=NA,
                  signing=NA, secrets=NA, unique_role=NA), vpc=True,
        deleted=True,
    ),
)


@dataclass(frozen=True)
class SeededAccount:
    account_id: str
    region: str
    functions: tuple[SampleFunction, ...]
    arns: Mapping[str, str]  # function name -> ARN (also for the deleted one)
    kms_key_arn: str
    subnet_ids: tuple[str, ...]

    @property
    def live(self) -> tuple[SampleFunction, ...]:
        return tuple(f for f in self.functions if not f.deleted)

    @property
    def deleted(self) -> tuple[SampleFunction, ...]:
        return tuple(f for f in self.functions if f.deleted)


def _code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'ok'\n")
    return buffer.getvalue()


def seed(
    session: boto3.Session,
    *,
    endpoint_url: str | None = None,
    functions: tuple[SampleFunction, ...] = SAMPLE,
) -> SeededAccount:
    """Create the sample account's resources (all functions, also those designed to be deleted:
    ``retire`` deletes them once they have been evaluated) and enable Security Hub."""
    region = session.region_name or "us-east-1"

    def client(name: str) -> Any:
        return session.client(name, region_name=region, endpoint_url=endpoint_url)

    account = client("sts").get_caller_identity()["Account"]
    iam, ec2, kms, sqs, sns = (client(n) for n in ("iam", "ec2", "kms", "sqs", "sns"))
    lam = client("lambda")
    role = _role(iam, ROLE_NAME)
    vpc_id = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    # Two subnets in two zones (lambda-vpc-multi-az); a third shares the first one's zone.
    zones = (f"{region}a", f"{region}b", f"{region}a")
    all_subnets = tuple(
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.42.{i}.0/24", AvailabilityZone=zone)[
            "Subnet"
        ]["SubnetId"]
        for i, zone in zip((1, 2, 3), zones, strict=True)
    )
    subnets, one_zone = all_subnets[:2], (all_subnets[0], all_subnets[2])
    group = ec2.create_security_group(
        GroupName="gl-sample", Description="sample functions", VpcId=vpc_id
    )["GroupId"]
    key_arn = kms.create_key(Description="gl sample environment key")["KeyMetadata"]["Arn"]
    queue_url = sqs.create_queue(QueueName="gl-sample-dlq")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    topic_arn = sns.create_topic(Name="gl-sample-dlq-topic")["TopicArn"]
    aws_managed_key = f"arn:aws:kms:{region}:{account}:alias/aws/lambda"
    signing_config = None
    if any(sample.code_signing for sample in functions):
        signing_config = lam.create_code_signing_config(
            Description="gl sample: signed code only",
            AllowedPublishers={"SigningProfileVersionArns": [
                SIGNING_PROFILE_VERSION.format(region=region, account=account)
            ]},
            CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Enforce"},
        )["CodeSigningConfig"]["CodeSigningConfigArn"]
    code = _code()

    arns: dict[str, str] = {}
    for sample in functions:
        spec: dict[str, Any] = {
            "FunctionName": sample.name,
            "Runtime": sample.runtime,
            "Role": _role(iam, f"{sample.name}-role") if sample.own_role else role,
            "Handler": "app.handler",
            "Code": {"ZipFile": code},
            "Description": sample.purpose,
        }
        if not sample.untagged:
            spec["Tags"] = {"demo": "lambda-guardrails", **sample.tags}
        if sample.tracing:
            spec["TracingConfig"] = {"Mode": "Active"}
        if sample.vpc:
            chosen = one_zone if sample.single_zone else subnets
            spec["VpcConfig"] = {"SubnetIds": list(chosen), "SecurityGroupIds": [group]}
        if sample.environment:
            variables = {"STAGE": "demo", "TABLE": sample.name}
            spec["Environment"] = {
                "Variables": {**variables, **SECRET_VARIABLES} if sample.secrets else variables
            }
        if sample.code_signing:
            spec["CodeSigningConfigArn"] = signing_config
        if sample.kms_key:
            spec["KMSKeyArn"] = key_arn if sample.kms_key == "cmk" else aws_managed_key
        if sample.dlq:
            target = queue_arn if sample.dlq == "sqs" else topic_arn
            spec["DeadLetterConfig"] = {"TargetArn": target}
        arns[sample.name] = lam.create_function(**spec)["FunctionArn"]
        if sample.reserved_concurrency is not None:
            lam.put_function_concurrency(
                FunctionName=sample.name,
                ReservedConcurrentExecutions=sample.reserved_concurrency,
            )
        if sample.url_auth_type:
            lam.create_function_url_config(FunctionName=sample.name, AuthType=sample.url_auth_type)
        for permission in sample.permissions:
            arguments = {"Action": "lambda:InvokeFunction", **permission}
            lam.add_permission(
                FunctionName=sample.name,
                **{k: v.format(account=account, region=region) for k, v in arguments.items()},
            )
    client("securityhub").enable_security_hub(EnableDefaultStandards=False)
    return SeededAccount(
        account_id=account,
        region=region,
        functions=functions,
        arns=arns,
        kms_key_arn=key_arn,
        subnet_ids=subnets,
    )


def _role(iam: Any, name: str) -> str:
    """An execution role Lambda can assume; IAM is global, so a second Region reuses it."""
    try:
        return str(iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                               "Principal": {"Service": "lambda.amazonaws.com"}}],
            }),
        )["Role"]["Arn"])
    except iam.exceptions.EntityAlreadyExistsException:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])


def retire(
    session: boto3.Session, account: SeededAccount, *, endpoint_url: str | None = None
) -> None:
    """Delete the functions designed to be deleted (after their first evaluation)."""
    lam = session.client("lambda", region_name=account.region, endpoint_url=endpoint_url)
    for sample in account.deleted:
        lam.delete_function(FunctionName=sample.name)
