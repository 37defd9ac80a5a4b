"""``deploymentMode=organization`` with remediation: the runbooks in every member account through
a StackSet (``MemberRemediationStack``), their attachment in organization-readable code buckets
of the administrator account, the findings trigger matching the member-account copies'
findings, and no Config remediation configuration (AWS names those copies itself).

One organization app (two regions, excluded accounts, two rules automatic through findings)
and one without ``targetRegions``, each synthesized once for the module."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from cfnlint.api import ManualArgs, lint_file

from infra.organization import (
    MEMBER_REMEDIATION_STACK,
    ORGANIZATION_DOCUMENT_SUFFIX,
    ORGANIZATION_STACK,
    MemberRemediationStack,
)
from infra.remediation import (
    ACTION_TARGET_TYPE,
    FINDINGS_CUSTOM_ACTION,
    FINDINGS_IMPORTED,
    action_target_id,
    dead_letter_queue_prefix,
    document_name,
    extra_required,
    rules_zip,
)
from infra.settings import SettingsError, load_settings
from infra.stacksets import CODE_ACCOUNT_PARAMETER, code_bucket_name, instance_suffix
from rules.aws.findings import build_finding
from rules.model import LAMBDA_FUNCTION, Compliance, Evaluation
from rules.naming import DEFAULT_RULE_NAME_PREFIX as RULE_NAME_PREFIX
from rules.registry import RULES, get_rule
from rules.remediation.runbooks import ATTACHMENT_NAME, QUEUE_PREFIX, RUNBOOKS
from tests.factories import function
from tests.infra.eventbridge import matches
from tests.infra.test_checks import CFN_LINT_IGNORED, CFN_LINT_REGIONS
from tests.infra.test_instances import literal_names
from tests.infra.test_organization import (
    EXCLUDED,
    ORG_ID,
    ORGANIZATION,
    OU,
    REGIONS,
    RULE_CONTEXT,
    OrgSynth,
    stack_id,
    synth_organization,
)
from tests.infra.test_remediation import ACCOUNT, REGION, event, resolve

DLQ = "lambda-dlq-check"
CONCURRENCY = "lambda-concurrency-check"
PUBLIC = "lambda-function-public-access-prohibited"
AUTOMATIC = (DLQ, CONCURRENCY)
OTHER_ACCOUNT = "444455556666"
DEPLOYMENT = "Custom::CDKBucketDeployment"
REMEDIATION: dict[str, Any] = {
    **RULE_CONTEXT,
    "targetRegions": ",".join(REGIONS),
    "excludedAccounts": EXCLUDED,
    "autoRemediate": json.dumps({rule_id: True for rule_id in AUTOMATIC}),
    "autoRemediateTrigger": "findings",
}


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrgSynth]:
    yield synth_organization(tmp_path_factory.mktemp("cdk-org-remediation"), REMEDIATION)


@pytest.fixture(scope="module")
def one_region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrgSynth]:
    """No targetRegions: everything in the CLI's region."""
    yield synth_organization(tmp_path_factory.mktemp("cdk-org-remediation-default"), {})


def member(synth: OrgSynth) -> dict[str, Any]:
    assert synth.remediation is not None
    return synth.remediation


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def attachment_key(synth: OrgSynth) -> str:
    """The one object every region's code stack uploads: the runbooks' attachment."""
    keys = {
        tuple(deployed["Properties"]["SourceObjectKeys"])
        for template in synth.code_stacks.values()
        for deployed in of_type(template, DEPLOYMENT).values()
    }
    ((key,),) = keys  # only the attachment: the rule functions run in the admin account
    return key


def documents_of(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Rule id -> the document's properties."""
    return {
        d["Properties"]["Name"]
        .removeprefix("guardrails-")
        .removesuffix(ORGANIZATION_DOCUMENT_SUFFIX): d["Properties"]
        for d in of_type(template, "AWS::SSM::Document").values()
    }


def documents(synth: OrgSynth) -> dict[str, dict[str, Any]]:
    return documents_of(member(synth))


# --- the member remediation template ----------------------------------------------------------


def test_one_document_per_runbook_attaching_the_zip_from_the_regions_code_bucket(
    org: OrgSynth,
) -> None:
    found = documents(org)
    assert sorted(found) == sorted(r.rule_id for r in RUNBOOKS)
    _, digest = rules_zip()
    key = attachment_key(org)
    for runbook in RUNBOOKS:
        properties = found[runbook.rule_id]
        assert properties["Name"] == document_name(
            "guardrails-", runbook.rule_id, ORGANIZATION_DOCUMENT_SUFFIX
        )
        assert properties["Attachments"] == [
            {
                "Key": "S3FileUrl",
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
                                            ORGANIZATION_STACK, "${Account}", "${AWS::Region}"
                                        ),
                                        {"Account": {"Ref": CODE_ACCOUNT_PARAMETER}},
                                    ]
                                },
                                f"/{key}",
                            ],
                        ]
                    }
                ],
            }
        ]
        content = yaml.safe_load(resolve(properties["Content"], member(org)))
        assert content["files"] == {ATTACHMENT_NAME: {"checksums": {"sha256": digest}}}
        (step,) = content["mainSteps"]
        assert step["inputs"]["Script"] == runbook.source_path.read_bytes().decode("utf-8")
    assert list(member(org)["Parameters"]) == [CODE_ACCOUNT_PARAMETER]


def test_no_remediation_configuration_and_no_config_rule_in_the_member_template(
    org: OrgSynth,
) -> None:
    """AWS names an organization rule's copy in each account itself: nothing to link to."""
    assert not [r for r in member(org)["Resources"].values() if r["Type"].startswith("AWS::Config")]
    assert "Rules" not in member(org)  # no bootstrap check
    assert "cdk-bootstrap" not in json.dumps(member(org))


def automation_roles(template: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Rule id -> the logical id and properties of the role its document runs as (the
    ``AutomationAssumeRole`` default in the document's content)."""
    found = {}
    for rule_id, properties in documents_of(template).items():
        (role_id,) = {
            part["Fn::GetAtt"][0]
            for part in properties["Content"]["Fn::Join"][1]
            if isinstance(part, dict) and "Fn::GetAtt" in part
        }
        found[rule_id] = (role_id, template["Resources"][role_id]["Properties"])
    return found


def granted(template: dict[str, Any], role: dict[str, Any]) -> dict[str, list[Any]]:
    """Action -> the resources the role's managed policies grant it on, resolved."""
    found: dict[str, list[Any]] = {}
    for reference in role["ManagedPolicyArns"]:
        policy = template["Resources"][reference["Ref"]]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                resources = statement["Resource"]
                for resource in resources if isinstance(resources, list) else [resources]:
                    found.setdefault(action, []).append(resolve(resource, template))
    return found


def test_automation_roles_hold_exactly_the_registrys_grants_in_the_member_account(
    org: OrgSynth,
) -> None:
    template = member(org)
    roles = automation_roles(template)
    assert sorted(roles) == sorted(r.rule_id for r in RUNBOOKS)
    for runbook in RUNBOOKS:
        _, role = roles[runbook.rule_id]
        expected: dict[str, list[str]] = {}
        for grant in runbook.grants:
            for action in grant.actions:
                expected.setdefault(action, []).append(
                    grant.resource.replace(
                        QUEUE_PREFIX, dead_letter_queue_prefix(RULE_NAME_PREFIX)
                    ).format(partition="aws", region=REGION, account=ACCOUNT)
                )
        found = granted(template, role)
        assert {a: sorted(r) for a, r in found.items()} == {
            a: sorted(r) for a, r in expected.items()
        }
        (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert resolve(trust["Condition"], template) == {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": f"arn:aws:ssm:{REGION}:{ACCOUNT}:automation-execution/*"},
        }


# --- the findings trigger against the findings the central functions import -------------------


def member_copy_finding(
    rule_id: str,
    compliance: Compliance = Compliance.NON_COMPLIANT,
    *,
    rule_name: str | None = None,
    account: str = ACCOUNT,
    region: str = REGION,
    workflow: str = "NEW",
) -> dict[str, Any]:
    """The finding the central function builds for an evaluation by the member account's copy
    of the organization rule (``OrgConfigRule-<name>-<suffix>``), imported into that account."""
    subject = function(
        arn=f"arn:aws:lambda:{region}:{account}:function:orders-api", account_id=account
    )
    now = datetime(2026, 11, 1, tzinfo=UTC)
    built = build_finding(
        get_rule(rule_id),
        Evaluation(rule_id, "orders-api", LAMBDA_FUNCTION, compliance, "because"),
        subject,
        account=account,
        region=region,
        partition="aws",
        now=now,
        observed_at=now,
        config_rule_name=rule_name or f"OrgConfigRule-guardrails-{rule_id}-a1b2c3",
    )
    return {**built, "Workflow": {"Status": workflow}, "WorkflowState": workflow}


def triggers(template: dict[str, Any], detail_type: str) -> dict[str, dict[str, Any]]:
    """Rule id -> the resolved pattern of its EventBridge rule for ``detail_type``."""
    found = {}
    for rule in of_type(template, "AWS::Events::Rule").values():
        pattern = resolve(rule["Properties"]["EventPattern"], template)
        if pattern["detail-type"] == [detail_type]:
            (rule_id,) = pattern["detail"]["findings"]["GeneratorId"]
            found[rule_id] = pattern
    return found


def test_auto_remediated_rules_start_on_the_member_copys_failed_findings(org: OrgSynth) -> None:
    found = triggers(member(org), FINDINGS_IMPORTED)
    assert sorted(found) == sorted(AUTOMATIC)  # the others stay manual
    for rule_id, pattern in found.items():

        def imported(finding: dict[str, Any]) -> dict[str, Any]:
            return event(FINDINGS_IMPORTED, finding, [])

        assert matches(pattern, imported(member_copy_finding(rule_id)))
        assert matches(pattern, imported(member_copy_finding(rule_id, workflow="NOTIFIED")))
        for other in (
            member_copy_finding(rule_id, Compliance.COMPLIANT),
            member_copy_finding(rule_id, workflow="SUPPRESSED"),
            member_copy_finding(PUBLIC),
            # Another account's finding (a Security Hub administrator sees them all).
            member_copy_finding(rule_id, account=OTHER_ACCOUNT),
            # A finding aggregated here from another region.
            member_copy_finding(rule_id, region="eu-central-1"),
            # An account-mode instance's rule of the same prefix, another prefix's copy.
            member_copy_finding(rule_id, rule_name=f"guardrails-{rule_id}"),
            member_copy_finding(rule_id, rule_name=f"OrgConfigRule-team-b-{rule_id}-a1b2c3"),
            # The copy of another organization rule whose name starts like ours.
            member_copy_finding(rule_id, rule_name=f"OrgConfigRule-guardrails-{rule_id}x-a1b2"),
        ):
            assert not matches(pattern, imported(other)), other["Id"]
    # No Config remediation, so the findings trigger is the only automatic one.
    assert not of_type(member(org), "AWS::Config::RemediationConfiguration")


def test_eventbridge_starts_only_the_runbook_of_its_rule(org: OrgSynth) -> None:
    template = member(org)
    for rule in of_type(template, "AWS::Events::Rule").values():
        (target,) = rule["Properties"]["Targets"]
        (rule_id,) = rule["Properties"]["EventPattern"]["detail"]["findings"]["GeneratorId"]
        name = document_name("guardrails-", rule_id, ORGANIZATION_DOCUMENT_SUFFIX)
        assert resolve(target["Arn"], template) == (
            f"arn:aws:ssm:{REGION}:{ACCOUNT}:automation-definition/{name}:$DEFAULT"
        )


# --- StackSet, code buckets, order ------------------------------------------------------------


def test_the_stack_set_deploys_the_member_template_to_the_ous_in_every_region(
    org: OrgSynth,
) -> None:
    home, other = (stack_id(region) for region in REGIONS)
    properties = org.stack_set(home, "Remediation")["Properties"]
    assert properties["StackSetName"] == f"{ORGANIZATION_STACK}-Remediation"
    assert properties["PermissionModel"] == "SERVICE_MANAGED"
    assert properties["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    assert properties["StackInstancesGroup"] == [
        {
            "DeploymentTargets": {
                "OrganizationalUnitIds": [OU],
                "Accounts": [EXCLUDED],
                "AccountFilterType": "DIFFERENCE",
            },
            "Regions": list(REGIONS),
        }
    ]
    # The DLQ runbook's send policy has a name (IAM names are account-wide: it holds the prefix
    # and the region).
    assert properties["Capabilities"] == ["CAPABILITY_NAMED_IAM"]
    assert properties["Parameters"] == [
        {"ParameterKey": CODE_ACCOUNT_PARAMETER, "ParameterValue": {"Ref": "AWS::AccountId"}}
    ]
    url = properties["TemplateURL"]["Fn::Sub"]  # five runbooks: over TemplateBody's limit
    asset_hash = url.rsplit("/", 1)[1].removesuffix(".json")
    assert json.loads((org.outdir / f"asset.{asset_hash}.json").read_text()) == member(org)
    # Only the home region's stack deploys it (it reaches every region itself).
    assert [
        s
        for s in org.of_type(other, "AWS::CloudFormation::StackSet").values()
        if s["Properties"]["StackSetName"].endswith("-Remediation")
    ] == []


def test_the_stack_set_deploys_after_the_code_buckets_hold_the_attachment(org: OrgSynth) -> None:
    manifest = json.loads((org.outdir / "manifest.json").read_text())
    home = manifest["artifacts"][stack_id(REGIONS[0])]
    code = {f"{ORGANIZATION_STACK}-Code-{region}" for region in REGIONS}
    assert set(org.code_stacks) == code
    assert code <= set(home["dependencies"])
    for name, template in org.code_stacks.items():
        assert manifest["artifacts"][name]["environment"].endswith(name.split("-Code-")[1])
        (bucket_id,) = [
            k
            for k, b in of_type(template, "AWS::S3::Bucket").items()
            if "BucketName" in b["Properties"]
        ]
        (bucket_policy,) = [
            p
            for p in of_type(template, "AWS::S3::BucketPolicy").values()
            if p["Properties"]["Bucket"] == {"Ref": bucket_id}
        ]
        allow = bucket_policy["Properties"]["PolicyDocument"]["Statement"][1]
        # The StackSets execution role creating the documents, a principal of the organization,
        # reads the attachment (the key ends in .zip).
        assert allow["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}
        assert allow["Resource"]["Fn::Join"][1][-1] == "/*.zip"
    assert attachment_key(org).endswith(".zip")


def test_without_target_regions_the_stack_sets_region_and_bucket_are_the_stacks(
    one_region: OrgSynth,
) -> None:
    properties = one_region.stack_set(ORGANIZATION_STACK, "Remediation")["Properties"]
    assert properties["StackInstancesGroup"][0]["Regions"] == [{"Ref": "AWS::Region"}]
    (code,) = one_region.code_stacks.values()
    (bucket,) = [
        b for b in of_type(code, "AWS::S3::Bucket").values() if "BucketName" in b["Properties"]
    ]
    assert bucket["Properties"]["BucketName"] == {
        "Fn::Join": [
            "",
            [
                "lambda-guardrails-code-",
                {"Ref": "AWS::AccountId"},
                "-",
                {"Ref": "AWS::Region"},
                f"-{instance_suffix(ORGANIZATION_STACK)}",
            ],
        ]
    }
    # Nothing automatic by default: runbooks, roles, no trigger.
    assert len(documents(one_region)) == len(RUNBOOKS)
    assert not triggers(member(one_region), FINDINGS_IMPORTED)


def test_remediation_off_deploys_no_runbooks_no_buckets(tmp_path: Path) -> None:
    synth = synth_organization(tmp_path, {"remediation": "false"})
    assert synth.remediation is None and synth.code_stacks == {}
    assert [
        s
        for s in synth.of_type(ORGANIZATION_STACK, "AWS::CloudFormation::StackSet").values()
        if s["Properties"]["StackSetName"].endswith("-Remediation")
    ] == []


# --- refusals, names, cfn-lint ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        # The default trigger is config: an automatic Config remediation names the rule.
        ({"autoRemediate": json.dumps({DLQ: True})}, "autoRemediateTrigger=findings"),
        (
            {
                "remediationCustomAction": (
                    f"arn:aws:securityhub:{REGION}:{ACCOUNT}:action/custom/Fix"
                )
            },
            "names one account's custom action",
        ),
    ],
)
def test_what_the_member_accounts_cannot_do_is_refused(
    overrides: dict[str, Any], message: str
) -> None:
    settings = load_settings({**ORGANIZATION, **overrides}.get)
    with pytest.raises(SettingsError, match=message):
        MemberRemediationStack(
            cdk.Stage(cdk.App(), "Stage"),
            MEMBER_REMEDIATION_STACK,
            settings=settings,
            attachment_key="k.zip",
            attachment_sha256="0" * 64,
        )


def test_a_custom_action_created_in_each_member_account_has_its_own_id() -> None:
    settings = load_settings({**ORGANIZATION, "remediationCustomAction": "create"}.get)
    stage = cdk.Stage(cdk.App(), "Stage")
    stack = MemberRemediationStack(
        stage,
        MEMBER_REMEDIATION_STACK,
        settings=settings,
        attachment_key="k.zip",
        attachment_sha256="0" * 64,
    )
    template = stage.synth().get_stack_artifact(stack.artifact_id).template
    (action,) = of_type(template, ACTION_TARGET_TYPE).values()
    assert action["Properties"]["Id"] == action_target_id(
        "guardrails-", ORGANIZATION_DOCUMENT_SUFFIX
    )
    assert action["Properties"]["Id"] != action_target_id("guardrails-")  # the account mode's
    clicked = triggers(template, FINDINGS_CUSTOM_ACTION)
    assert sorted(clicked) == sorted(r.rule_id for r in RUNBOOKS if not extra_required(r))
    for rule_id, pattern in clicked.items():
        sent = event(FINDINGS_CUSTOM_ACTION, member_copy_finding(rule_id), pattern["resources"])
        assert matches(pattern, sent)
        other = member_copy_finding(rule_id, account=OTHER_ACCOUNT)
        assert not matches(pattern, event(FINDINGS_CUSTOM_ACTION, other, pattern["resources"]))


def test_names_never_meet_an_account_mode_instance_or_another_prefix(
    org: OrgSynth, tmp_path: Path
) -> None:
    """The member template's only literal names are its documents': per account and region,
    from ruleNamePrefix, and with a suffix of their own (an account-mode or stacksets instance
    of the same prefix in a member account keeps its documents)."""
    names = literal_names(member(org))
    assert set(names) == {("AWS::SSM::Document", "Name")}
    account_mode = {document_name("guardrails-", rule.id) for rule in RULES}
    assert not names[("AWS::SSM::Document", "Name")] & account_mode
    team = synth_organization(tmp_path, {"ruleNamePrefix": "team-b-", "targetRegions": REGIONS[0]})
    assert (
        not literal_names(member(team))[("AWS::SSM::Document", "Name")]
        & (names[("AWS::SSM::Document", "Name")])
    )
    for template in org.code_stacks.values():
        assert literal_names(template) == {}


def test_the_member_remediation_template_and_code_stacks_are_cfn_lint_clean(
    org: OrgSynth,
) -> None:
    assert org.remediation_path is not None
    paths = [
        org.remediation_path,
        *(org.outdir / f"{name}.template.json" for name in org.code_stacks),
    ]
    for path in paths:
        matches_ = lint_file(
            path, config=ManualArgs(ignore_checks=CFN_LINT_IGNORED, regions=CFN_LINT_REGIONS)
        )
        assert [str(match) for match in matches_] == [], path


def test_cdk_nag_checked_the_member_remediation_stack(org: OrgSynth) -> None:
    report = json.loads((org.outdir / "validation-report.json").read_text())
    paths = set()
    for plugin in report["pluginReports"]:
        assert plugin["conclusion"] == "success"
        assert [v for v in plugin["violations"] if v["severity"] != "warning"] == []
        for suppressed in plugin.get("suppressedViolations", []):
            assert len(suppressed["reason"].strip()) > 20
            paths |= {c["constructPath"] for c in suppressed["violatingConstructs"]}
    # The start roles' one-document wildcard is acknowledged in the member stack itself.
    assert [p for p in paths if p.startswith("LambdaGuardrailsMemberRemediation/")]
