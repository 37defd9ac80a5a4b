"""``deploymentMode=organization``: one admin stack per target region with the central functions
and one organization Config rule per rule, the member role StackSet once, the member role's
trust and actions, the invoke permissions and what our own public-access rule says of them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file

from app import build_app
from infra.organization import (
    ACCOUNTS_WITHOUT_ROLE_WARNING,
    CENTRAL_ACCOUNT_PARAMETER,
    CENTRAL_CONCURRENCY_WARNING,
    CENTRAL_REGION_PARAMETER,
    MEMBER_REMEDIATION_STAGE,
    MEMBER_ROLE_STAGE,
    ORGANIZATION_STACK,
    OrganizationStack,
)
from infra.rule_construct import DLQ_ACTIONS, KMS_ACTIONS, LOG_ACTIONS, XRAY_ACTIONS
from infra.settings import SettingsError
from rules.adapters.cloudformation import functions_from_template
from rules.model import Compliance
from rules.parameters import NO_PARAMETERS
from rules.permissions import actions_for
from rules.registry import DEFAULT_RULES, get_rule
from tests.infra.conftest import Synth, cdk_json_context, synthesize
from tests.infra.test_checks import CFN_LINT_IGNORED, CFN_LINT_REGIONS
from tests.moto_gaps import answer_moto_gaps

ORG_ID = "o-a1b2c3d4e5"
OU = "ou-ab12-cdef3456"
REGIONS = ("eu-west-1", "us-east-1")
MEMBERS = ("111122223333", "444455556666")
EXCLUDED = "999988887777"
PUBLIC = "lambda-function-public-access-prohibited"
# The same rule context in both modes (parameters, sweeps), so their rules can be compared.
RULE_CONTEXT: dict[str, Any] = {
    "ruleParameters": json.dumps(
        {
            "lambda-concurrency-check": {"ConcurrencyLimitLow": 1, "ConcurrencyLimitHigh": "10"},
            "lambda-dlq-check": {"dlqArns": "arn:aws:sqs:eu-west-1:111122223333:dlq"},
        }
    ),
    "periodicFrequency": "Six_Hours",
    "rulePeriodicFrequency": json.dumps({"lambda-inside-vpc": "off"}),
}
ORGANIZATION: dict[str, Any] = {
    "deploymentMode": "organization",
    "organizationId": ORG_ID,
    "targetOuIds": OU,
}


@dataclass(frozen=True)
class OrgSynth:
    outdir: Path
    stacks: dict[str, dict[str, Any]]  # artifact id -> template (the organization stacks)
    member: dict[str, Any]  # the member role's template
    member_path: Path
    code_stacks: dict[str, dict[str, Any]]  # the runbooks' attachment buckets (remediation)
    remediation: dict[str, Any] | None  # the member accounts' runbooks (remediation)
    remediation_path: Path | None

    def of_type(self, stack: str, resource_type: str) -> dict[str, dict[str, Any]]:
        resources = self.stacks[stack]["Resources"]
        return {k: v for k, v in resources.items() if v["Type"] == resource_type}

    def stack_set(self, stack: str, name: str = "MemberRole") -> dict[str, Any]:
        """The StackSet of ``stack`` named ``<stack name>-<name>``."""
        [stack_set] = [
            s
            for s in self.of_type(stack, "AWS::CloudFormation::StackSet").values()
            if s["Properties"]["StackSetName"].endswith(f"-{name}")
        ]
        return stack_set


def synth_organization(outdir: Path, overrides: dict[str, Any]) -> OrgSynth:
    context = {**cdk_json_context(), **ORGANIZATION, **overrides}
    build_app(context, str(outdir)).synth()  # cdk-nag runs here: a finding raises
    templates = {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in outdir.glob("*.template.json")
    }
    [member_path] = list(outdir.glob(f"assembly-{MEMBER_ROLE_STAGE}/*.template.json"))
    remediation_paths = list(outdir.glob(f"assembly-{MEMBER_REMEDIATION_STAGE}/*.template.json"))
    remediation_path = remediation_paths[0] if remediation_paths else None
    return OrgSynth(
        outdir,
        {k: v for k, v in templates.items() if "-Code" not in k},
        json.loads(member_path.read_text()),
        member_path,
        {k: v for k, v in templates.items() if "-Code" in k},
        json.loads(remediation_path.read_text()) if remediation_path else None,
        remediation_path,
    )


@pytest.fixture(scope="module")
def regional(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrgSynth]:
    """Two regions, a member account list, a delegated administrator, excluded accounts."""
    yield synth_organization(
        tmp_path_factory.mktemp("cdk-org-regions"),
        {
            **RULE_CONTEXT,
            "targetRegions": ",".join(REGIONS),
            "memberAccountIds": ",".join(MEMBERS),
            "delegatedAdmin": "true",
            "excludedAccounts": EXCLUDED,
            "failureTolerancePercentage": "5",
            "maxConcurrentPercentage": "50",
        },
    )


@pytest.fixture(scope="module")
def default(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrgSynth]:
    """The acceptance command's context: organizationId and targetOuIds only."""
    yield synth_organization(tmp_path_factory.mktemp("cdk-org-default"), {})


@pytest.fixture(scope="module")
def account_mode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    yield synthesize(tmp_path_factory.mktemp("cdk-org-account"), RULE_CONTEXT)


def stack_id(region: str) -> str:
    return f"{ORGANIZATION_STACK}-{region}"


def organization_rules(synth: OrgSynth, stack: str) -> dict[str, dict[str, Any]]:
    rules = synth.of_type(stack, "AWS::Config::OrganizationConfigRule").values()
    return {rule["Properties"]["OrganizationConfigRuleName"]: rule["Properties"] for rule in rules}


# --- stacks and regions ---------------------------------------------------------------------


def test_one_admin_stack_per_target_region_and_one_without(
    regional: OrgSynth, default: OrgSynth
) -> None:
    assert set(regional.stacks) == {stack_id(region) for region in REGIONS}
    assert set(default.stacks) == {ORGANIZATION_STACK}


def test_the_member_role_stack_set_is_deployed_once_into_one_region(regional: OrgSynth) -> None:
    first, second = (stack_id(region) for region in REGIONS)
    assert regional.of_type(second, "AWS::CloudFormation::StackSet") == {}
    stack_set = regional.stack_set(first)
    props = stack_set["Properties"]
    assert props["PermissionModel"] == "SERVICE_MANAGED"
    assert props["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    assert props["CallAs"] == "DELEGATED_ADMIN"
    assert props["OperationPreferences"] == {
        "FailureTolerancePercentage": 5,
        "MaxConcurrentPercentage": 50,
        "ConcurrencyMode": "SOFT_FAILURE_TOLERANCE",
        "RegionConcurrencyType": "PARALLEL",
    }
    assert props["ManagedExecution"] == {"Active": True}
    assert props["StackInstancesGroup"] == [
        {
            "DeploymentTargets": {
                "OrganizationalUnitIds": [OU],
                "Accounts": [EXCLUDED],
                "AccountFilterType": "DIFFERENCE",
            },
            "Regions": [REGIONS[0]],
        }
    ]
    assert props["Capabilities"] == ["CAPABILITY_NAMED_IAM"]
    assert props["Parameters"] == [
        {"ParameterKey": CENTRAL_ACCOUNT_PARAMETER, "ParameterValue": {"Ref": "AWS::AccountId"}}
    ]
    # The template body is the member role stack's synthesized template.
    assert json.loads(props["TemplateBody"]) == regional.member


def test_without_target_regions_the_region_reaches_the_member_role_as_a_parameter(
    default: OrgSynth,
) -> None:
    stack_set = default.stack_set(ORGANIZATION_STACK)
    props = stack_set["Properties"]
    assert props["CallAs"] == "SELF"
    assert props["StackInstancesGroup"][0]["Regions"] == [{"Ref": "AWS::Region"}]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in props["Parameters"]} == {
        CENTRAL_ACCOUNT_PARAMETER: {"Ref": "AWS::AccountId"},
        CENTRAL_REGION_PARAMETER: {"Ref": "AWS::Region"},
    }
    assert set(default.member["Parameters"]) == {
        CENTRAL_ACCOUNT_PARAMETER,
        CENTRAL_REGION_PARAMETER,
    }


# --- organization rules ---------------------------------------------------------------------


def test_one_organization_rule_per_rule_as_the_account_mode_configures_it(
    regional: OrgSynth, account_mode: Synth
) -> None:
    account_rules = {
        rule["Properties"]["ConfigRuleName"]: rule["Properties"]
        for rule in account_mode.of_type("AWS::Config::ConfigRule").values()
    }
    for region in REGIONS:
        org_rules = organization_rules(regional, stack_id(region))
        assert set(org_rules) == set(account_rules)  # the same names, one per rule
        for name, org_rule in org_rules.items():
            account = account_rules[name]
            metadata = org_rule["OrganizationCustomRuleMetadata"]
            details = account["Source"]["SourceDetails"]
            assert metadata["OrganizationConfigRuleTriggerTypes"] == [
                d["MessageType"] for d in details
            ]
            frequencies = {d.get("MaximumExecutionFrequency") for d in details} - {None}
            assert {metadata.get("MaximumExecutionFrequency")} - {None} == frequencies
            assert metadata["ResourceTypesScope"] == account["Scope"]["ComplianceResourceTypes"]
            parameters = json.loads(metadata["InputParameters"])
            assert parameters.pop("ExecutionRoleName") == "guardrails-member"
            assert parameters == account.get("InputParameters", {})
            assert org_rule["ExcludedAccounts"] == [EXCLUDED]
            # The function of this region's stack.
            arn = metadata["LambdaFunctionArn"]["Fn::GetAtt"]
            assert regional.stacks[stack_id(region)]["Resources"][arn[0]]["Type"] == (
                "AWS::Lambda::Function"
            )


def test_a_prefix_too_long_for_organization_rule_names_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"ruleNamePrefix.*64"):
        synth_organization(tmp_path, {"ruleNamePrefix": "p" * 30})


# --- central functions ----------------------------------------------------------------------


def function_roles(synth: OrgSynth, stack: str) -> list[dict[str, Any]]:
    """The rule functions' roles (Lambda assumes them; the aggregator's is Config's)."""
    return [
        role
        for role in synth.of_type(stack, "AWS::IAM::Role").values()
        if role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        == {"Service": "lambda.amazonaws.com"}
    ]


def central_roles(synth: OrgSynth, stack: str) -> dict[str, Any]:
    """Role name -> the role's managed policy document."""
    resources = synth.stacks[stack]["Resources"]
    result = {}
    for role in function_roles(synth, stack):
        [policy_ref] = role["Properties"]["ManagedPolicyArns"]
        result_name = role["Properties"]["RoleName"]
        document = resources[policy_ref["Ref"]]["Properties"]["PolicyDocument"]
        result[json.dumps(result_name)] = document
    return result


def test_central_functions_may_only_assume_the_member_role_within_the_organization(
    regional: OrgSynth,
) -> None:
    platform = {*LOG_ACTIONS, *XRAY_ACTIONS, *DLQ_ACTIONS, *KMS_ACTIONS}
    for region in REGIONS:
        roles = central_roles(regional, stack_id(region))
        assert len(roles) == len(DEFAULT_RULES)
        for document in roles.values():
            actions: set[str] = set()
            for statement in document["Statement"]:
                listed = statement["Action"]
                actions |= {listed} if isinstance(listed, str) else set(listed)
                if "sts:AssumeRole" in actions and statement["Action"] == "sts:AssumeRole":
                    assert statement["Condition"] == {"StringEquals": {"aws:ResourceOrgID": ORG_ID}}
                    resource = statement["Resource"]["Fn::Join"][1]
                    assert resource[-1] == ":iam::*:role/guardrails-member"
            # No read or write in the admin account itself: everything goes through the role.
            assert actions == platform | {"sts:AssumeRole"}


def test_central_role_names_are_per_region_and_prefix(regional: OrgSynth) -> None:
    names = {
        region: {
            role["Properties"]["RoleName"] for role in function_roles(regional, stack_id(region))
        }
        for region in REGIONS
    }
    assert names["eu-west-1"] == {
        f"guardrails-{rule.id.removeprefix('lambda-')}-eu-west-1" for rule in DEFAULT_RULES
    }
    assert not names["eu-west-1"] & names["us-east-1"]


# --- member role ----------------------------------------------------------------------------


def member_role(synth: OrgSynth) -> dict[str, Any]:
    [role] = [r for r in synth.member["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    return role["Properties"]


def member_policy(synth: OrgSynth) -> dict[str, Any]:
    [policy] = [
        r for r in synth.member["Resources"].values() if r["Type"] == "AWS::IAM::ManagedPolicy"
    ]
    return policy["Properties"]["PolicyDocument"]


def _joined(value: Any) -> str:
    """A Fn::Join of literals and Refs, spelled ``${Ref}``."""
    if isinstance(value, str):
        return value
    separator, parts = value["Fn::Join"]
    return separator.join(p if isinstance(p, str) else "${" + p["Ref"] + "}" for p in parts)


def test_the_member_role_trusts_exactly_the_central_roles_of_every_region(
    regional: OrgSynth,
) -> None:
    role = member_role(regional)
    assert role["RoleName"] == "guardrails-member"
    [statement] = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRole"
    assert _joined(statement["Principal"]["AWS"]) == (
        "arn:${AWS::Partition}:iam::${" + CENTRAL_ACCOUNT_PARAMETER + "}:root"
    )
    conditions = statement["Condition"]
    assert conditions["StringEquals"] == {"aws:PrincipalOrgID": ORG_ID}
    trusted = {_joined(arn) for arn in conditions["ArnEquals"]["aws:PrincipalArn"]}
    central = {
        "arn:${AWS::Partition}:iam::${CentralAccountId}:role/" + name
        for region in REGIONS
        for role_ in function_roles(regional, stack_id(region))
        for name in [role_["Properties"]["RoleName"]]
    }
    assert trusted == central
    assert not [arn for arn in trusted if "*" in arn]


def test_the_member_role_trust_follows_the_region_parameter(default: OrgSynth) -> None:
    [statement] = member_role(default)["AssumeRolePolicyDocument"]["Statement"]
    trusted = {_joined(arn) for arn in statement["Condition"]["ArnEquals"]["aws:PrincipalArn"]}
    roles = function_roles(default, ORGANIZATION_STACK)
    central = {
        "arn:${AWS::Partition}:iam::${CentralAccountId}:role/"
        + _joined(r["Properties"]["RoleName"]).replace("${AWS::Region}", "${CentralRegion}")
        for r in roles
    }
    assert trusted == central
    assert all(arn.endswith("-${CentralRegion}") for arn in trusted)


def member_actions(synth: OrgSynth) -> dict[str, list[str]]:
    """action -> its resources, spelled out."""
    result: dict[str, list[str]] = {}
    for statement in member_policy(synth)["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        resources = statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            result.setdefault(action, []).extend(
                _joined(r) for r in (resources if isinstance(resources, list) else [resources])
            )
    return result


def test_member_role_resources_are_the_member_account_in_the_central_regions(
    regional: OrgSynth,
) -> None:
    for action, resources in member_actions(regional).items():
        if resources == ["*"]:
            continue
        spelled = (r.replace("${AWS::Partition}", "aws") for r in resources)
        arns = [r.replace("${AWS::AccountId}", "MEMBER").split(":") for r in spelled]
        assert {arn[3] for arn in arns} == set(REGIONS), action
        assert {arn[4] for arn in arns} == {"MEMBER"}, action


def test_without_security_hub_export_the_member_role_cannot_import(tmp_path: Path) -> None:
    synth = synth_organization(tmp_path, {"securityHubExport": "false"})
    assert "securityhub:BatchImportFindings" not in member_actions(synth)


@pytest.fixture(scope="module")
def handler_calls() -> set[str]:
    """What the handler calls, over every path of every rule (test_permissions_exact's
    scenarios), run here once for the module."""
    from rules.aws.clients import ClientOptions, Clients, new_session
    from tests.aws.fixtures import MEMBER, REGION, CallLog, create_function, setup_clients
    from tests.test_permissions_exact import SCENARIOS

    monkeypatch = pytest.MonkeyPatch()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    from moto import mock_aws

    called: set[str] = set()
    try:
        for rule in DEFAULT_RULES:
            with mock_aws():
                calls = CallLog()
                session = new_session()
                session.register("before-parameter-build.*.*", calls)
                # moto lacks the function URL and code signing reads: canned answers.
                answer_moto_gaps(session)
                clients = Clients(session, ClientOptions(REGION, max_attempts=3))
                create_function("orders-api", environment={"STAGE": "prod"})
                create_function("orders-api", account=MEMBER, environment={"STAGE": "prod"})
                setup = setup_clients()["lambda"]
                version = setup.publish_version(FunctionName="orders-api")["Version"]
                setup.create_alias(FunctionName="orders-api", Name="prod", FunctionVersion=version)
                for scenario in SCENARIOS:
                    scenario(clients, rule)
                called |= calls.actions()
    finally:
        monkeypatch.undo()
    return called


def test_the_member_role_holds_exactly_what_the_handler_calls_there(
    regional: OrgSynth, handler_calls: set[str]
) -> None:
    granted = set(member_actions(regional))
    in_member_account = handler_calls - {"sts:AssumeRole"}  # the central role's, not the member's
    assert in_member_account - granted == set(), "called but not granted to the member role"
    assert granted - in_member_account == set(), "granted to the member role but never called"
    # And derived from rules.permissions, not a copy.
    assert granted == {a for rule in DEFAULT_RULES for a in actions_for(rule)} - {"sts:AssumeRole"}


# --- invoke permissions and our public-access rule ------------------------------------------


def permissions(synth: OrgSynth, stack: str) -> list[dict[str, Any]]:
    return [p["Properties"] for p in synth.of_type(stack, "AWS::Lambda::Permission").values()]


def public_access(synth: OrgSynth, stack: str) -> dict[str, tuple[Compliance, str]]:
    functions = functions_from_template(synth.stacks[stack])
    rule = get_rule(PUBLIC)
    return {
        name: (verdict.compliance, verdict.annotation)
        for name, function in functions.items()
        for verdict in [rule.check(function, NO_PARAMETERS)]
    }


def test_without_member_accounts_any_config_may_invoke_and_our_rule_says_so(
    default: OrgSynth,
) -> None:
    granted = permissions(default, ORGANIZATION_STACK)
    assert len(granted) == len(DEFAULT_RULES)
    for permission in granted:
        assert permission["Principal"] == "config.amazonaws.com"
        assert permission["Action"] == "lambda:InvokeFunction"
        assert "SourceAccount" not in permission and "SourceArn" not in permission
    verdicts = public_access(default, ORGANIZATION_STACK)
    assert len(verdicts) == len(DEFAULT_RULES)
    for compliance, annotation in verdicts.values():
        assert compliance is Compliance.NON_COMPLIANT
        assert "config.amazonaws.com" in annotation


def test_member_accounts_get_one_source_account_statement_each(regional: OrgSynth) -> None:
    for region in REGIONS:
        granted = permissions(regional, stack_id(region))
        assert len(granted) == len(DEFAULT_RULES) * (len(MEMBERS) + 1)
        sources = [json.dumps(p["SourceAccount"]) for p in granted]
        for account in [*MEMBERS, {"Ref": "AWS::AccountId"}]:
            assert sources.count(json.dumps(account)) == len(DEFAULT_RULES)
        # Each organization rule waits for every permission of its function.
        resources = regional.stacks[stack_id(region)]["Resources"]
        org_rules = regional.of_type(stack_id(region), "AWS::Config::OrganizationConfigRule")
        for rule in org_rules.values():
            function = rule["Properties"]["OrganizationCustomRuleMetadata"]["LambdaFunctionArn"]
            mine = {
                key
                for key, value in resources.items()
                if value["Type"] == "AWS::Lambda::Permission"
                and value["Properties"]["FunctionName"]["Fn::GetAtt"][0]
                == function["Fn::GetAtt"][0]
            }
            assert set(rule["DependsOn"]) == mine
        for compliance, annotation in public_access(regional, stack_id(region)).values():
            assert compliance is Compliance.COMPLIANT, annotation


def test_too_many_member_accounts_for_the_policy_limit_are_refused(tmp_path: Path) -> None:
    accounts = ",".join(f"{n:012d}" for n in range(1, 80))
    with pytest.raises(SettingsError, match=r"memberAccountIds: 79 accounts.*20480"):
        synth_organization(tmp_path, {"memberAccountIds": accounts})


# --- names, cdk-nag, cfn-lint ---------------------------------------------------------------


def literal_names(template: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    names: dict[tuple[str, str], set[str]] = {}
    for resource in template["Resources"].values():
        for key, value in resource.get("Properties", {}).items():
            if key.endswith("Name") and isinstance(value, str) and key != "MetricName":
                names.setdefault((resource["Type"], key), set()).add(value)
    return names


def test_names_never_collide_across_regions_and_prefixes(
    regional: OrgSynth, tmp_path: Path
) -> None:
    """Regional names (organization rules, StackSet, key alias, the aggregator of the home
    region) repeat per region only; global ones (IAM roles) differ per region and prefix; the
    member role and the aggregator follow the prefix."""
    eu, us = (literal_names(regional.stacks[stack_id(region)]) for region in REGIONS)
    home_only = {
        ("AWS::CloudFormation::StackSet", "StackSetName"),
        ("AWS::Config::ConfigurationAggregator", "ConfigurationAggregatorName"),
    }
    assert set(eu) == {
        ("AWS::Config::OrganizationConfigRule", "OrganizationConfigRuleName"),
        ("AWS::IAM::Role", "RoleName"),
        ("AWS::KMS::Alias", "AliasName"),
        *home_only,
    }
    assert set(us) == set(eu) - home_only
    assert not eu[("AWS::IAM::Role", "RoleName")] & us[("AWS::IAM::Role", "RoleName")]
    team = synth_organization(tmp_path, {"ruleNamePrefix": "team-b-", "targetRegions": REGIONS[0]})
    team_names = literal_names(team.stacks[stack_id(REGIONS[0])])
    for where, values in eu.items():
        if where == ("AWS::KMS::Alias", "AliasName") or where[0] == "AWS::CloudFormation::StackSet":
            continue  # per stack name: a second instance is deployed under another stack name
        assert not values & team_names[where], where
    assert member_role(team)["RoleName"] == "team-b-member"


def test_every_template_of_the_mode_is_cfn_lint_clean(
    regional: OrgSynth, default: OrgSynth
) -> None:
    for synth in (regional, default):
        paths = [*synth.outdir.glob("*.template.json"), synth.member_path]
        assert synth.remediation_path is not None and len(synth.code_stacks) >= 1
        paths.append(synth.remediation_path)  # the member accounts' runbooks
        for path in paths:
            matches = lint_file(
                path, config=ManualArgs(ignore_checks=CFN_LINT_IGNORED, regions=CFN_LINT_REGIONS)
            )
            assert [str(match) for match in matches] == [], path


def test_cdk_nag_checked_every_stack_and_acknowledged_only_with_reasons(
    regional: OrgSynth,
) -> None:
    report = json.loads((regional.outdir / "validation-report.json").read_text())
    checked = set()
    for plugin in report["pluginReports"]:
        assert plugin["conclusion"] == "success"
        # Only our own synth warning (outside a VPC) may be reported.
        assert [v for v in plugin["violations"] if v["severity"] != "warning"] == []
        for suppressed in plugin.get("suppressedViolations", []):
            assert suppressed["reason"].strip()
            checked |= {c["constructPath"].split("/")[0] for c in suppressed["violatingConstructs"]}
    # The member role's and the member runbooks' stacks (in their nested stages) were checked
    # too, and the code stacks.
    assert {MEMBER_ROLE_STAGE, MEMBER_REMEDIATION_STAGE} <= checked
    assert {f"{ORGANIZATION_STACK}-Code-{region}" for region in REGIONS} <= checked


# --- seeing the organization ----------------------------------------------------------------


def test_every_region_has_its_dashboard_and_insights_the_home_region_the_aggregator(
    regional: OrgSynth,
) -> None:
    home, other = (stack_id(region) for region in REGIONS)
    for stack in (home, other):
        assert len(regional.of_type(stack, "AWS::CloudWatch::Dashboard")) == 1
        insights = regional.of_type(stack, "AWS::SecurityHub::Insight").values()
        assert len(insights) == 2
        for insight in insights:
            # The member accounts' copies of the organization rules write the findings.
            prefixes = {f["Value"] for f in insight["Properties"]["Filters"]["Id"]}
            assert all(
                p.startswith("lambda-guardrails/OrgConfigRule-guardrails-") for p in prefixes
            )
    assert regional.of_type(other, "AWS::Config::ConfigurationAggregator") == {}
    [aggregator] = regional.of_type(home, "AWS::Config::ConfigurationAggregator").values()
    source = aggregator["Properties"]["OrganizationAggregationSource"]
    assert source["AwsRegions"] == list(REGIONS)
    assert aggregator["Properties"]["ConfigurationAggregatorName"] == "guardrails-organization"


def test_without_target_regions_the_aggregator_covers_the_stacks_own_region(
    default: OrgSynth,
) -> None:
    [aggregator] = default.of_type(
        ORGANIZATION_STACK, "AWS::Config::ConfigurationAggregator"
    ).values()
    assert aggregator["Properties"]["OrganizationAggregationSource"]["AwsRegions"] == [
        {"Ref": "AWS::Region"}
    ]
    assert default.of_type(ORGANIZATION_STACK, "AWS::SecurityHub::FindingAggregator") == {}


def test_the_finding_aggregator_is_in_the_home_region_only(tmp_path: Path) -> None:
    synth = synth_organization(
        tmp_path,
        {
            "enabledRules": "lambda-dlq-check",
            "targetRegions": ",".join(REGIONS),
            "securityHubAggregationRegions": "ALL",
        },
    )
    home, other = (stack_id(region) for region in REGIONS)
    assert len(synth.of_type(home, "AWS::SecurityHub::FindingAggregator")) == 1
    assert synth.of_type(other, "AWS::SecurityHub::FindingAggregator") == {}


def test_every_region_alarms_on_its_functions_and_dead_letter_queue(regional: OrgSynth) -> None:
    for region in REGIONS:
        stack = stack_id(region)
        alarms = regional.of_type(stack, "AWS::CloudWatch::Alarm").values()
        errors = [a for a in alarms if a["Properties"].get("MetricName") == "Errors"]
        queue = [
            a
            for a in alarms
            if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        ]
        functions = set(regional.of_type(stack, "AWS::Lambda::Function"))
        watched = {
            dimension["Value"]["Ref"]
            for alarm in errors
            for dimension in alarm["Properties"]["Dimensions"]
            if dimension["Name"] == "FunctionName"
        }
        assert watched == functions and len(functions) == len(DEFAULT_RULES)
        assert len(queue) == 1


def test_excluded_accounts_get_no_member_role_and_silence_the_warning(
    regional: OrgSynth,
) -> None:
    stack_set = regional.stack_set(stack_id(REGIONS[0]))
    [group] = stack_set["Properties"]["StackInstancesGroup"]
    assert group["DeploymentTargets"] == {
        "OrganizationalUnitIds": [OU],
        "Accounts": [EXCLUDED],
        "AccountFilterType": "DIFFERENCE",
    }


def test_the_synth_warns_of_accounts_without_role_and_of_default_concurrency(
    tmp_path: Path,
) -> None:
    app = build_app(
        {**cdk_json_context(), **ORGANIZATION, "enabledRules": "lambda-dlq-check"},
        str(tmp_path),
    )
    [stack] = [s for s in app.node.children if isinstance(s, OrganizationStack)]
    warnings = {entry.data for entry in stack.node.metadata if entry.type == "aws:cdk:warning"}
    assert any(ACCOUNTS_WITHOUT_ROLE_WARNING in str(w) for w in warnings)
    assert any(CENTRAL_CONCURRENCY_WARNING in str(w) for w in warnings)
    sized = build_app(
        {
            **cdk_json_context(),
            **ORGANIZATION,
            "enabledRules": "lambda-dlq-check",
            "excludedAccounts": EXCLUDED,
            "reservedConcurrency": "50",
        },
        str(tmp_path / "sized"),
    )
    [quiet] = [s for s in sized.node.children if isinstance(s, OrganizationStack)]
    left = [str(e.data) for e in quiet.node.metadata if e.type == "aws:cdk:warning"]
    assert not [w for w in left if ACCOUNTS_WITHOUT_ROLE_WARNING in w]
    assert not [w for w in left if CENTRAL_CONCURRENCY_WARNING in w]
