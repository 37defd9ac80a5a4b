"""deploymentMode=stacksets: the StackSet, its member template (GuardrailsStack, synthesized once,
no bootstrap), the organization-readable code buckets, the order, names, cdk-nag and cfn-lint.

Two apps, each synthesized once for the module: the app.py one (cdk.json plus the stacksets
context, the member template in S3), and one with two instances from a delegated administrator
(a pinned layer ARN, so the member template goes inline)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import cx_api
from cfnlint.api import ManualArgs, lint_file

from app import STACK_NAME, build_app
from infra.nag import add_checks
from infra.remediation import REMEDIATION_NOT_WIRED, document_name, extra_required, rules_zip
from infra.rule_construct import nag_resource
from infra.settings import Settings, SettingsError, load_settings
from infra.stackset import (
    TEMPLATE_BODY_LIMIT,
    ServiceManagedStackSet,
    StackSetTemplate,
    capabilities_for,
    fits_inline,
    minified,
    synthesize_stack,
)
from infra.stacksets import (
    BUCKET_NAME_MAX,
    CODE_ACCOUNT_PARAMETER,
    build_stacksets,
    check_bucket_names,
    code_bucket_name,
    instance_suffix,
)
from rules.permissions import grants_for
from rules.registry import RULES_BY_ID
from rules.remediation.runbooks import ATTACHMENT_NAME, RUNBOOKS
from tests.infra.conftest import LAYER, SUBNETS, VPC, Synth, cdk_json_context
from tests.infra.test_checks import (
    CFN_LINT_IGNORED,
    CFN_LINT_REGIONS,
    EXPECTED_ACKNOWLEDGMENTS,
    GRANT_WILDCARDS,
    RUNBOOK_ONLY,
    iam5,
    runbook_acknowledgments,
)
from tests.infra.test_instances import REGIONAL_NAMES, literal_names, normalized
from tests.infra.test_remediation import resolve

ORG = "o-a1b2c3d4e5"
CUSTOM_ACTION_ARN = "arn:aws:securityhub:eu-west-1:111122223333:action/custom/Fix"
OU = "ou-ab12-cdef3456"
ROOT_OU = "r-ab12"
REGIONS = ["eu-west-1", "us-east-1"]
STACKSETS = {
    "deploymentMode": "stacksets",
    "organizationId": ORG,
    "targetOuIds": OU,
    "targetRegions": ",".join(REGIONS),
}
DELEGATED = {
    **STACKSETS,
    "targetOuIds": f"{OU},{ROOT_OU}",
    "targetRegions": "eu-west-1",
    "delegatedAdmin": "true",
    "failureTolerancePercentage": "0",
    "maxConcurrentPercentage": "50",
    "powertoolsLayerArn": LAYER,
    # One rule (and its runbook) keeps the member template within TemplateBody's 51,200 bytes
    # (all five, with their dashboard widgets and runbook scripts, go to S3): this app covers
    # the inline path.
    "enabledRules": "lambda-dlq-check",
}
TEAM = "LambdaGuardrailsTeamB"
STACK_SET = "AWS::CloudFormation::StackSet"
DEPLOYMENT = "Custom::CDKBucketDeployment"
# The mode's acknowledgments beyond the member (account-mode) stack's own.
HANDLER_ACKNOWLEDGMENTS = {
    "AwsSolutions::AwsSolutions-L1",
    "NIST.800.53.R5::NIST.800.53.R5-LambdaConcurrency",
    "NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ",
}
MODE_ACKNOWLEDGMENTS = {
    "AwsSolutions::AwsSolutions-L1",
    "NIST.800.53.R5::NIST.800.53.R5-LambdaConcurrency",
    "NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ",
    "NIST.800.53.R5::NIST.800.53.R5-LambdaInsideVPC",
    "NIST.800.53.R5::NIST.800.53.R5-CloudWatchLogGroupEncrypted",
    "NIST.800.53.R5::NIST.800.53.R5-S3DefaultEncryptionKMS",
    "NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled",
}


@dataclass(frozen=True)
class Deployment:
    outdir: Path
    assembly: cx_api.CloudAssembly
    report: dict[str, Any]

    def template(self, stack_name: str) -> dict[str, Any]:
        template: dict[str, Any] = self.assembly.get_stack_by_name(stack_name).template
        return template

    def member(self, instance: str = STACK_NAME) -> cx_api.CloudFormationStackArtifact:
        nested = self.assembly.get_nested_assembly(f"assembly-{instance}Member")
        (artifact,) = nested.stacks
        return artifact

    def stack_set(self, instance: str = STACK_NAME) -> dict[str, Any]:
        (stack_set,) = of_type(self.template(instance), STACK_SET)
        return stack_set["Properties"]  # type: ignore[no-any-return]

    def embedded_member(self, instance: str = STACK_NAME) -> dict[str, Any]:
        """The member template as the StackSet gets it: inline, or the asset file behind the
        TemplateURL."""
        properties = self.stack_set(instance)
        if "TemplateBody" in properties:
            return json.loads(properties["TemplateBody"])  # type: ignore[no-any-return]
        url = properties["TemplateURL"]["Fn::Sub"]
        asset_hash = re.fullmatch(r".*/([0-9a-f]{64})\.json", url)
        assert asset_hash, url
        return json.loads((self.outdir / f"asset.{asset_hash.group(1)}.json").read_text())  # type: ignore[no-any-return]

    def code_stacks(self, instance: str = STACK_NAME) -> dict[str, dict[str, Any]]:
        return {
            stack.environment.region: stack.template
            for stack in self.assembly.stacks
            if stack.stack_name.startswith(f"{instance}-Code-")
        }


def of_type(template: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == resource_type]


def context(overrides: dict[str, Any]) -> dict[str, Any]:
    return {
        **cdk_json_context(),
        **overrides,
        "aws:cdk:enable-path-metadata": True,
        "aws:cdk:enable-asset-metadata": True,
    }


def synthesized(app: cdk.App, outdir: Path) -> Deployment:
    assembly = app.synth()
    return Deployment(outdir, assembly, json.loads((outdir / "validation-report.json").read_text()))


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """app.py's app, as `npx cdk synth -c deploymentMode=stacksets ...` builds it."""
    outdir = tmp_path_factory.mktemp("cdk-stacksets")
    yield synthesized(build_app(context(STACKSETS), str(outdir)), outdir)


@pytest.fixture(scope="module")
def delegated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A delegated administrator's app with two instances side by side."""
    outdir = tmp_path_factory.mktemp("cdk-stacksets-delegated")
    app = cdk.App(context=context(DELEGATED), outdir=str(outdir))
    settings = load_settings(app.node.try_get_context)
    build_stacksets(app, STACK_NAME, settings)
    team = load_settings({**DELEGATED, "ruleNamePrefix": "team-b-"}.get)
    build_stacksets(app, TEAM, team)
    add_checks(app)
    yield synthesized(app, outdir)


def test_stack_set_targets_the_ous_in_the_regions(
    deployment: Deployment, delegated: Deployment
) -> None:
    properties = deployment.stack_set()
    assert properties["PermissionModel"] == "SERVICE_MANAGED"
    assert properties["StackInstancesGroup"] == [
        {"DeploymentTargets": {"OrganizationalUnitIds": [OU]}, "Regions": REGIONS}
    ]
    assert delegated.stack_set()["StackInstancesGroup"] == [
        {"DeploymentTargets": {"OrganizationalUnitIds": [OU, ROOT_OU]}, "Regions": ["eu-west-1"]}
    ]


def test_new_accounts_get_the_stack_and_leaving_accounts_lose_it(deployment: Deployment) -> None:
    properties = deployment.stack_set()
    assert properties["AutoDeployment"] == {
        "Enabled": True,
        "RetainStacksOnAccountRemoval": False,
    }
    assert properties["ManagedExecution"] == {"Active": True}
    # The DLQ runbook's send policy is named (IAM names are account-wide: prefix and region).
    assert properties["Capabilities"] == ["CAPABILITY_NAMED_IAM"]


def test_operation_preferences_come_from_the_context(
    deployment: Deployment, delegated: Deployment
) -> None:
    assert deployment.stack_set()["OperationPreferences"] == {
        "FailureTolerancePercentage": 10,
        "MaxConcurrentPercentage": 25,
        "ConcurrencyMode": "SOFT_FAILURE_TOLERANCE",
        "RegionConcurrencyType": "PARALLEL",
    }
    preferences = delegated.stack_set()["OperationPreferences"]
    assert preferences["FailureTolerancePercentage"] == 0
    assert preferences["MaxConcurrentPercentage"] == 50


def test_call_as_self_from_the_management_account_else_delegated_admin(
    deployment: Deployment, delegated: Deployment
) -> None:
    assert deployment.stack_set()["CallAs"] == "SELF"
    assert delegated.stack_set()["CallAs"] == "DELEGATED_ADMIN"
    assert delegated.stack_set(TEAM)["CallAs"] == "DELEGATED_ADMIN"


def test_the_member_template_is_the_guardrails_stack(
    deployment: Deployment, default_synth: Synth
) -> None:
    """What the StackSet deploys is the member stack's synthesized template, byte for byte, and
    that is the account mode's stack with only the code's location and the key alias (the
    deployed stack's name) changed."""
    member = deployment.member()
    embedded = deployment.embedded_member()
    assert embedded == member.template
    account = json.loads(next(default_synth.outdir.glob("*.template.json")).read_text())
    ours, theirs = normalized(embedded)["Resources"], normalized(account)["Resources"]
    # The runbooks too, their attachment from the code bucket instead of an asset.
    assert any(r["Type"] == "AWS::SSM::Document" for r in ours.values())
    assert {k: v["Type"] for k, v in ours.items()} == {k: v["Type"] for k, v in theirs.items()}
    for logical_id, resource in ours.items():
        expected = theirs[logical_id]
        if resource["Type"] == "AWS::Lambda::Function":
            assert {**resource["Properties"], "Code": None} == {
                **expected["Properties"],
                "Code": None,
            }
        elif resource["Type"] == "AWS::KMS::Alias":
            assert resource["Properties"]["AliasName"] == {
                "Fn::Join": ["", ["alias/", {"Ref": "AWS::StackName"}]]
            }
            assert expected["Properties"]["AliasName"] == f"alias/{STACK_NAME}"
        elif resource["Type"] == "AWS::SSM::Document":
            assert {**resource["Properties"], "Attachments": None} == {
                **expected["Properties"],
                "Attachments": None,
            }
        else:
            assert resource == expected, logical_id
    settings = load_settings(context(STACKSETS).get)
    assert sorted(
        r["Properties"]["ConfigRuleName"] for r in of_type(embedded, "AWS::Config::ConfigRule")
    ) == sorted(settings.config_rule_name(rule_id) for rule_id in settings.rule_ids)


def test_an_inline_member_template_is_the_synthesized_one(delegated: Deployment) -> None:
    body = delegated.stack_set()["TemplateBody"]
    assert "TemplateURL" not in delegated.stack_set()
    assert json.loads(body) == delegated.member().template
    assert len(body.encode()) <= TEMPLATE_BODY_LIMIT


def test_the_member_template_needs_no_bootstrap(deployment: Deployment) -> None:
    member = deployment.member().template
    assert member["Parameters"] == {
        CODE_ACCOUNT_PARAMETER: {
            "Type": "String",
            "AllowedPattern": r"\d{12}",
            "Description": member["Parameters"][CODE_ACCOUNT_PARAMETER]["Description"],
        }
    }
    assert "Rules" not in member  # no CheckBootstrapVersion
    text = json.dumps(member)
    assert "cdk-bootstrap" not in text and "hnb659fds" not in text
    assert "AssetParameters" not in text
    assert not deployment.member().assets  # nothing for `cdk deploy` to publish
    keys = {
        tuple(deployed["Properties"]["SourceObjectKeys"])
        for template in deployment.code_stacks().values()
        for deployed in of_type(template, DEPLOYMENT)
    }
    ((key, _attachment),) = keys  # the same two objects in every region
    functions = of_type(member, "AWS::Lambda::Function")
    assert functions
    for function in functions:
        assert function["Properties"]["Code"] == {
            "S3Bucket": {
                "Fn::Sub": [
                    code_bucket_name(STACK_NAME, "${Account}", "${AWS::Region}"),
                    {"Account": {"Ref": CODE_ACCOUNT_PARAMETER}},
                ]
            },
            "S3Key": key,
        }
        # Powertools from AWS's public parameter, resolved in each account and region.
        (layer,) = function["Properties"]["Layers"]
        assert layer.startswith("{{resolve:ssm:/aws/service/powertools/python/")
    # The StackSet tells the member stacks where the code is: this account.
    assert deployment.stack_set()["Parameters"] == [
        {"ParameterKey": CODE_ACCOUNT_PARAMETER, "ParameterValue": {"Ref": "AWS::AccountId"}}
    ]


def test_every_member_account_and_region_gets_the_runbooks(deployment: Deployment) -> None:
    """One document per runbook, attaching the rules zip from the code bucket of the deploying
    region in the administrator account, its SHA-256 (the zip's, built here) in ``files``."""
    member = deployment.member().template
    _, digest = rules_zip()
    (code_key, attachment_key) = of_type(next(iter(deployment.code_stacks().values())), DEPLOYMENT)[
        0
    ]["Properties"]["SourceObjectKeys"]
    assert attachment_key.endswith(".zip")  # the bucket policy lets the organization read *.zip
    assert attachment_key != code_key
    documents = of_type(member, "AWS::SSM::Document")
    settings = load_settings(context(STACKSETS).get)
    assert sorted(d["Properties"]["Name"] for d in documents) == sorted(
        document_name(settings.rule_name_prefix, r.rule_id)
        for r in RUNBOOKS
        if r.rule_id in settings.rule_ids
    )
    for document in documents:
        properties = document["Properties"]
        assert properties["Attachments"] == [
            {
                "Key": "S3FileUrl",  # one file (SourceUrl would name a folder)
                "Name": ATTACHMENT_NAME,
                "Values": [
                    {
                        "Fn::Join": [
                            "",
                            [
                                "s3://",
                                {
                                    "Fn::Sub": [
                                        code_bucket_name(
                                            STACK_NAME, "${Account}", "${AWS::Region}"
                                        ),
                                        {"Account": {"Ref": CODE_ACCOUNT_PARAMETER}},
                                    ]
                                },
                                f"/{attachment_key}",
                            ],
                        ]
                    }
                ],
            }
        ]
        content = yaml.safe_load(resolve(properties["Content"], member))
        assert content["files"] == {ATTACHMENT_NAME: {"checksums": {"sha256": digest}}}
    # Config remediation configurations and the roles come with them, as in the account mode.
    assert len(of_type(member, "AWS::Config::RemediationConfiguration")) == len(
        [r for r in RUNBOOKS if r.rule_id in settings.rule_ids and not extra_required(r)]
    )


def test_the_code_stacks_upload_the_runbook_attachment(deployment: Deployment) -> None:
    """The uploaded object is the file asset of the very zip the documents' checksum is of."""
    path, digest = rules_zip()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    for region, template in deployment.code_stacks().items():
        (deployed,) = of_type(template, DEPLOYMENT)
        _, attachment_key = deployed["Properties"]["SourceObjectKeys"]
        manifest = json.loads(
            (deployment.outdir / f"{STACK_NAME}-Code-{region}.assets.json").read_text()
        )
        (source,) = [
            entry["source"]
            for entry in manifest["files"].values()
            if any(d["objectKey"] == attachment_key for d in entry["destinations"].values())
        ]
        assert source["packaging"] == "file"
        assert (deployment.outdir / source["path"]).read_bytes() == path.read_bytes()


def test_the_member_synth_no_longer_warns_remediation_not_wired(deployment: Deployment) -> None:
    member = deployment.member()
    warnings = [str(m.entry.data) for m in member.messages if m.entry.type == "aws:cdk:warning"]
    assert not [w for w in warnings if REMEDIATION_NOT_WIRED in w]


def test_a_dynamic_reference_keeps_the_member_template_out_of_the_admin_template(
    deployment: Deployment,
) -> None:
    """Inline, the admin stack would resolve the member's SSM reference in its own region."""
    properties = deployment.stack_set()
    assert "TemplateBody" not in properties
    assert "{{resolve:" not in json.dumps(deployment.template(STACK_NAME))
    assert ".json" in properties["TemplateURL"]["Fn::Sub"]


def test_code_buckets_are_readable_by_the_organization_only(deployment: Deployment) -> None:
    code_stacks = deployment.code_stacks()
    assert sorted(code_stacks) == REGIONS
    for region, template in code_stacks.items():
        buckets = {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::S3::Bucket"}
        (code_id,) = [k for k, r in buckets.items() if "BucketName" in r["Properties"]]
        code = buckets[code_id]["Properties"]
        assert code["BucketName"] == {
            "Fn::Join": [
                "",
                [
                    "lambda-guardrails-code-",
                    {"Ref": "AWS::AccountId"},
                    f"-{region}-{instance_suffix(STACK_NAME)}",
                ],
            ]
        }
        for bucket in buckets.values():
            properties = bucket["Properties"]
            assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
            ]
            assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
            assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
        assert code["LoggingConfiguration"]["DestinationBucketName"]["Ref"] in buckets
        (policy,) = [
            r["Properties"]["PolicyDocument"]["Statement"]
            for r in of_type(template, "AWS::S3::BucketPolicy")
            if r["Properties"]["Bucket"] == {"Ref": code_id}
        ]
        deny, allow = policy
        assert deny["Effect"] == "Deny"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert allow == {
            "Sid": "OrganizationReadsCode",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "s3:GetObject",
            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [code_id, "Arn"]}, "/*.zip"]]},
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}},
        }


def test_the_upload_role_may_copy_two_objects_and_nothing_else(deployment: Deployment) -> None:
    """The rule code and the runbooks' attachment: one GetObject and one PutObject each."""
    for template in deployment.code_stacks().values():
        (deployed,) = of_type(template, DEPLOYMENT)
        keys = deployed["Properties"]["SourceObjectKeys"]
        assert len(keys) == len(set(keys)) == 2
        assert deployed["Properties"]["Extract"] is False  # the zip itself, under its hash
        assert deployed["Properties"]["Prune"] is False  # old keys stay for rollbacks
        assert not of_type(template, "AWS::IAM::Policy")  # no construct-added grants
        (role,) = of_type(template, "AWS::IAM::Role")
        assert "ManagedPolicyArns" in role["Properties"]
        (policy,) = of_type(template, "AWS::IAM::ManagedPolicy")
        statements = {
            json.dumps(s["Action"]): s["Resource"]
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        }
        assert set(statements) == {
            '"s3:GetObject"',
            '"s3:ListBucket"',
            '"s3:PutObject"',
            '["logs:CreateLogStream", "logs:PutLogEvents"]',
        }
        for action in ('"s3:GetObject"', '"s3:PutObject"'):
            resources = statements[action]
            assert len(resources) == 2, action
            ends = sorted(json.dumps(resource).rsplit("/", 1)[1] for resource in resources)
            assert ends == sorted(f'{key}"]]}}' for key in keys), (action, resources)
        assert "*" not in json.dumps(list(statements.values()))


def test_the_stack_set_deploys_after_the_code_buckets_hold_the_code(
    deployment: Deployment,
) -> None:
    admin = deployment.assembly.get_stack_by_name(STACK_NAME)
    dependencies = {d.id for d in admin.dependencies}
    assert {f"{STACK_NAME}-Code-{r}" for r in REGIONS} <= dependencies
    for region, template in deployment.code_stacks().items():
        stack = deployment.assembly.get_stack_by_name(f"{STACK_NAME}-Code-{region}")
        assert stack.environment.region == region
        assert len(of_type(template, DEPLOYMENT)) == 1  # the upload completes in the stack
    # The member stack is in a stage of its own: `cdk deploy --all` never deploys it.
    assert {s.stack_name for s in deployment.assembly.stacks} == {
        STACK_NAME,
        *(f"{STACK_NAME}-Code-{r}" for r in REGIONS),
    }


# The key alias is the deployed stack's name (StackSet-<name>-<id>), not a literal: it never meets
# the account mode's alias/LambdaGuardrails. The runbooks' names derive from ruleNamePrefix, as
# the Config rules' do: two instances in one account and region never share a prefix.
MEMBER_NAMES = REGIONAL_NAMES - {("AWS::KMS::Alias", "AliasName")}


def test_names_never_collide(delegated: Deployment) -> None:
    """Literal names: per account and region, derived from the stack name or ruleNamePrefix;
    the code bucket's global name holds the account, the region and the instance."""
    aggregator = ("AWS::Config::ConfigurationAggregator", "ConfigurationAggregatorName")
    for instance in (STACK_NAME, TEAM):
        assert set(literal_names(delegated.template(instance))) == {
            (STACK_SET, "StackSetName"),
            aggregator,
        }
        assert set(literal_names(delegated.member(instance).template)) == MEMBER_NAMES
        for template in delegated.code_stacks(instance).values():
            assert literal_names(template) == {}
    assert delegated.stack_set()["StackSetName"] == f"{STACK_NAME}-Rules"
    assert delegated.stack_set(TEAM)["StackSetName"] == f"{TEAM}-Rules"
    first = literal_names(delegated.member().template)
    team = literal_names(delegated.member(TEAM).template)
    for where in MEMBER_NAMES:
        assert not first[where] & team[where], where
    assert instance_suffix(STACK_NAME) != instance_suffix(TEAM)
    admins = [
        literal_names(delegated.template(instance))[aggregator] for instance in (STACK_NAME, TEAM)
    ]
    assert not admins[0] & admins[1]


def test_code_bucket_names_fit_s3_in_every_region() -> None:
    regions = ["ap-southeast-5", "ap-northeast-3", "us-gov-west-1", "eu-central-2"]
    check_bucket_names(STACK_NAME, regions)
    for region in regions:
        name = code_bucket_name(STACK_NAME, "123456789012", region)
        assert len(name) <= BUCKET_NAME_MAX
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]+[a-z0-9]", name)
    with pytest.raises(SettingsError, match="targetRegions"):
        check_bucket_names(STACK_NAME, ["xx-" + "a" * 20 + "-1"])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"vpcId": VPC, "subnetIds": ",".join(SUBNETS)}, "one account's VPC"),
        ({"subnetIds": SUBNETS[0], "securityGroupIds": "sg-0123456789abcdef0"}, "VPC"),
        ({"alarmTopicArn": "arn:aws:sns:eu-west-1:111122223333:alerts"}, "us-east-1"),
        (
            {"remediationCustomAction": CUSTOM_ACTION_ARN},
            "names one account's custom action",
        ),
    ],
)
def test_account_specific_context_is_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        build_stacksets(cdk.App(), STACK_NAME, load_settings({**STACKSETS, **overrides}.get))


def test_cdk_nag_passes_with_reasoned_acknowledgments(
    deployment: Deployment, delegated: Deployment
) -> None:
    for synth in (deployment, delegated):
        reports = {r["pluginName"]: r for r in synth.report["pluginReports"]}
        for pack in ("AwsSolutions", "NIST.800.53.R5"):
            assert reports[pack]["conclusion"] == "success"
            assert reports[pack].get("violations", []) == []
        suppressed = [
            v
            for report in reports.values()
            for v in report.get("suppressedViolations", [])
            if not v["acknowledgedId"].startswith("Annotation::")
        ]
        assert all(len(v["reason"]) > 20 for v in suppressed)
        acknowledged = {v["acknowledgedId"] for v in suppressed}
        # The member stack's are the account mode's (IAM5 wildcards, not in a VPC, ...) for
        # the deployed rules and their runbooks.
        overrides = STACKSETS if synth is deployment else DELEGATED
        rule_ids = set(load_settings(context(overrides).get).rule_ids)
        expected = (
            (EXPECTED_ACKNOWLEDGMENTS["default"] - RUNBOOK_ONLY - GRANT_WILDCARDS)
            | {
                iam5(nag_resource(grant.resource))
                for rule_id in rule_ids
                for grant in grants_for(RULES_BY_ID[rule_id])
                if "*" in grant.resource
            }
            | runbook_acknowledgments(rule_ids, custom_action=False)
            | MODE_ACKNOWLEDGMENTS
        )
        if synth is delegated:  # its second instance's runbooks use the team-b- queue prefix
            expected |= runbook_acknowledgments(rule_ids, custom_action=False, prefix="team-b-")
        assert acknowledged == expected
        # The handler's acknowledgments stay on the code stacks' upload function.
        for violation in suppressed:
            if violation["acknowledgedId"] in HANDLER_ACKNOWLEDGMENTS:
                for construct in violation["violatingConstructs"]:
                    assert "-Code-" in construct["constructPath"], construct
                    assert DEPLOYMENT in construct["constructPath"], construct


def test_cfn_lint_is_clean_for_every_stack_of_the_mode(deployment: Deployment) -> None:
    paths = [Path(s.template_full_path) for s in deployment.assembly.stacks]
    paths.append(Path(deployment.member().template_full_path))
    assert len(paths) == 4
    for path in paths:
        matches = lint_file(
            path, config=ManualArgs(ignore_checks=CFN_LINT_IGNORED, regions=CFN_LINT_REGIONS)
        )
        assert [str(match) for match in matches] == [], path.name


def test_npx_style_context_synthesizes_the_three_stacks(deployment: Deployment) -> None:
    names = sorted(s.stack_name for s in deployment.assembly.stacks)
    assert names == sorted([STACK_NAME, *(f"{STACK_NAME}-Code-{r}" for r in REGIONS)])


# The construct on its own: limits and capabilities.


def small_template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": resources or {"Topic": {"Type": "AWS::SNS::Topic"}}}


@pytest.fixture(scope="module")
def construct_scope() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Scope")


def test_a_template_within_the_limit_goes_inline(
    construct_scope: cdk.Stack, tmp_path: Path
) -> None:
    template = small_template()
    result = StackSetTemplate.of(construct_scope, "Small", template, tmp_path / "t.json")
    assert result.body == minified(template)
    assert result.url is None


def test_a_template_over_the_limit_goes_to_s3(construct_scope: cdk.Stack, tmp_path: Path) -> None:
    big = small_template(
        **{f"Topic{i}": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "x" * 200}}
           for i in range(300)}
    )  # fmt: skip
    body = minified(big)
    assert len(body.encode()) > TEMPLATE_BODY_LIMIT
    path = tmp_path / "big.json"
    path.write_text(body)
    result = StackSetTemplate.of(construct_scope, "Big", big, path)
    assert result.body is None
    assert result.url is not None and cdk.Token.is_unresolved(result.url)
    # Exactly at the limit still fits; one byte over does not.
    assert fits_inline("x" * TEMPLATE_BODY_LIMIT)
    assert not fits_inline("x" * (TEMPLATE_BODY_LIMIT + 1))
    assert not fits_inline("x" * 100, limit=99)
    with pytest.raises(ValueError, match="51200"):
        StackSetTemplate(capabilities=(), body=body)


def test_a_dynamic_reference_goes_to_s3(construct_scope: cdk.Stack, tmp_path: Path) -> None:
    template = small_template(
        Param={"Type": "AWS::SSM::Parameter", "Properties": {"Value": "{{resolve:ssm:/a/b}}"}}
    )
    path = tmp_path / "dynamic.json"
    path.write_text(minified(template))
    result = StackSetTemplate.of(construct_scope, "Dynamic", template, path)
    assert result.body is None and result.url is not None
    with pytest.raises(ValueError, match="dynamic reference"):
        StackSetTemplate(capabilities=(), body=minified(template))


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ({"T": {"Type": "AWS::SNS::Topic"}}, ()),
        ({"R": {"Type": "AWS::IAM::Role", "Properties": {}}}, ("CAPABILITY_IAM",)),
        (
            {"R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "member"}}},
            ("CAPABILITY_NAMED_IAM",),
        ),
    ],
)
def test_capabilities_follow_the_template(
    resources: dict[str, Any], expected: tuple[str, ...]
) -> None:
    assert capabilities_for({"Resources": resources}) == expected
    assert (
        capabilities_for({"Transform": "AWS::Serverless-2016-10-31", "Resources": resources})[-1]
        == "CAPABILITY_AUTO_EXPAND"
    )


def test_a_template_stack_must_be_in_its_own_stage() -> None:
    app = cdk.App()
    with pytest.raises(ValueError, match="Stage"):
        synthesize_stack(cdk.Stack(app, "Top"))


def test_settings_without_targets_are_refused() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Admin")
    template = StackSetTemplate(capabilities=(), body="{}")
    with pytest.raises(ValueError, match="targetOuIds"):
        ServiceManagedStackSet(
            stack,
            "Rules",
            template=template,
            regions=REGIONS,
            settings=Settings(rule_ids=("lambda-dlq-check",)),
            description="test",
        )
    with pytest.raises(ValueError, match="region"):
        ServiceManagedStackSet(
            stack,
            "Rules2",
            template=template,
            regions=[],
            settings=load_settings(STACKSETS.get),
            description="test",
        )


def test_the_administrator_sees_the_organization(deployment: Deployment) -> None:
    """The aggregator over the target regions and the insights live in the administrator's
    stack; every member stack has its own dashboard and insights."""
    admin = deployment.template(STACK_NAME)
    [aggregator] = of_type(admin, "AWS::Config::ConfigurationAggregator")
    source = aggregator["Properties"]["OrganizationAggregationSource"]
    assert source["AwsRegions"] == list(REGIONS)
    assert len(of_type(admin, "AWS::SecurityHub::Insight")) == 2
    member = deployment.member().template
    assert len(of_type(member, "AWS::CloudWatch::Dashboard")) == 1
    assert len(of_type(member, "AWS::SecurityHub::Insight")) == 2
    assert of_type(member, "AWS::Config::ConfigurationAggregator") == []


def test_the_finding_aggregator_is_the_administrators_not_every_members(tmp_path: Path) -> None:
    """One finding aggregator per account: the StackSet must not create one in every region
    of every member account."""
    overrides = {
        **STACKSETS,
        "enabledRules": "lambda-dlq-check",
        "securityHubAggregationRegions": "ALL",
    }
    synth = synthesized(build_app(context(overrides), str(tmp_path)), tmp_path)
    assert len(of_type(synth.template(STACK_NAME), "AWS::SecurityHub::FindingAggregator")) == 1
    assert of_type(synth.embedded_member(), "AWS::SecurityHub::FindingAggregator") == []
