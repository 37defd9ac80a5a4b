"""Dogfooding: the pack on this project's own stacks in every deployment mode, and
``check-template`` on the templates they synthesize.

What the pack flags on our own stacks, and why it stays:
- Without ``subnetIds`` the rule functions run outside a VPC (the stack warns, the README
  recommends subnets): ``lambda-inside-vpc`` flags each of them, and nothing else. With subnets
  every stack passes. ``stacksets`` refuses subnets (one template for every account), so its
  member template's functions are flagged, as is aws-cdk-lib's BucketDeployment handler (a
  custom resource the stack acknowledges to cdk-nag for the same reasons).
- ``organization`` without ``memberAccountIds``: the central functions' invoke permission
  (config.amazonaws.com, no condition) is flagged by our public-access rule by design (README,
  "The invoke permission"); it is acknowledged with that reason, never by weakening the rule.
  With ``memberAccountIds`` it passes.
- In a VPC, ``lambda-vpc-multi-az`` cannot tell at synth time which zones the context's
  ``subnetIds`` lie in (only ec2:DescribeSubnets knows): a value known only at deploy time,
  NON_COMPLIANT and named. The runs in a VPC acknowledge it with that reason
  (``MULTI_AZ_REASON``): the deployed rule checks the zones.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from app import STACK_NAME, build_app
from infra.organization import ORGANIZATION_STACK
from infra.pack import PACK_NAME, LambdaGuardrailsChecks, acknowledgment_id
from infra.stack import construct_id
from rules.cli import main
from rules.registry import DEFAULT_RULES
from tests.infra.conftest import SUBNETS, VPC, cdk_json_context

PUBLIC = "lambda-function-public-access-prohibited"
INSIDE_VPC = "lambda-inside-vpc"
ORGANIZATION = {
    "deploymentMode": "organization",
    "organizationId": "o-a1b2c3d4e5",
    "targetOuIds": "ou-ab12-cdef3456",
    "targetRegions": "eu-west-1",
}
STACKSETS = {**ORGANIZATION, "deploymentMode": "stacksets"}
IN_VPC = {"vpcId": VPC, "subnetIds": ",".join(SUBNETS)}
ORG_IN_VPC = {"subnetIds": ",".join(SUBNETS), "securityGroupIds": "sg-0123456789abcdef0"}
INVOKE_REASON = (
    "Without memberAccountIds AWS Config of any account may invoke the central functions: the "
    "only statement that covers an organization whose accounts are not listed (README, The "
    "invoke permission); compensated by aws:ResourceOrgID on the member role and reserved "
    "concurrency"
)
FUNCTIONS = [f"{construct_id(rule.id)}/Function/Resource" for rule in DEFAULT_RULES]
MULTI_AZ = "lambda-vpc-multi-az"
MULTI_AZ_REASON = (
    "subnetIds are given by id: their zones are known only to ec2:DescribeSubnets, which the "
    "deployed lambda-vpc-multi-az rule reads"
)


@dataclass(frozen=True)
class Dogfood:
    outdir: Path
    report: dict[str, Any]  # the pack's entry of validation-report.json

    def flagged(self, key: str = "violations") -> set[tuple[str, str]]:
        return {
            (construct["constructPath"], violation["ruleName"])
            for violation in self.report.get(key, [])
            for construct in violation["violatingConstructs"]
        }

    def templates(self) -> list[Path]:
        return sorted(self.outdir.glob("**/*.template.json"))


def dogfood(
    outdir: Path, overrides: dict[str, Any], *, acknowledge_invoke: bool = False
) -> Dogfood:
    app = build_app({**cdk_json_context(), **overrides}, str(outdir))
    if overrides.get("subnetIds"):
        cdk.Validations.of(app).acknowledge(
            cdk.Acknowledgment(id=acknowledgment_id(MULTI_AZ), reason=MULTI_AZ_REASON)
        )
    if acknowledge_invoke:
        for child in app.node.children:
            if child.node.id.startswith(ORGANIZATION_STACK):
                cdk.Validations.of(child).acknowledge(
                    cdk.Acknowledgment(id=acknowledgment_id(PUBLIC), reason=INVOKE_REASON)
                )
    cdk.Validations.of(app).add_plugins(LambdaGuardrailsChecks(app))
    try:
        app.synth()
    except RuntimeError as error:
        assert "ValidationFailed" in str(error)
    report = json.loads((outdir / "validation-report.json").read_text())
    ours = [r for r in report["pluginReports"] if r["pluginName"] == PACK_NAME]
    return Dogfood(outdir, ours[0] if ours else {"conclusion": "success"})


def check_templates(*paths: Path) -> tuple[int, list[dict[str, Any]]]:
    out = io.StringIO()
    status = main(
        ["check-template", "--fail-on", "non-compliant", "--format", "jsonl", *map(str, paths)],
        stdout=out,
    )
    return status, [json.loads(line) for line in out.getvalue().splitlines()]


def non_compliant(rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(r["logical_id"], r["rule"]) for r in rows if r["compliance"] == "NON_COMPLIANT"}


def assert_only_multi_az_acknowledged(dogfood: Dogfood) -> None:
    """In a VPC: no violation but the code stacks' upload handler; the zones of the subnets
    given by id acknowledged, with why."""
    assert only_the_code_stacks_upload_handler(dogfood.flagged())
    suppressed = [
        v for v in dogfood.report.get("suppressedViolations", []) if v["ruleName"] == MULTI_AZ
    ]
    assert suppressed
    for violation in suppressed:
        assert violation["reason"] == MULTI_AZ_REASON
        assert "AvailabilityZone of subnet" in violation["description"]


@pytest.fixture(scope="module")
def account_in_vpc(tmp_path_factory: pytest.TempPathFactory) -> Dogfood:
    return dogfood(tmp_path_factory.mktemp("dogfood-account-vpc"), IN_VPC)


@pytest.fixture(scope="module")
def account_default(tmp_path_factory: pytest.TempPathFactory) -> Dogfood:
    return dogfood(tmp_path_factory.mktemp("dogfood-account"), {})


@pytest.fixture(scope="module")
def stacksets(tmp_path_factory: pytest.TempPathFactory) -> Dogfood:
    return dogfood(tmp_path_factory.mktemp("dogfood-stacksets"), STACKSETS)


@pytest.fixture(scope="module")
def organization_open(tmp_path_factory: pytest.TempPathFactory) -> Dogfood:
    return dogfood(
        tmp_path_factory.mktemp("dogfood-org"),
        {**ORGANIZATION, **ORG_IN_VPC},
        acknowledge_invoke=True,
    )


@pytest.fixture(scope="module")
def organization_members(tmp_path_factory: pytest.TempPathFactory) -> Dogfood:
    return dogfood(
        tmp_path_factory.mktemp("dogfood-org-members"),
        {**ORGANIZATION, **ORG_IN_VPC, "memberAccountIds": "111122223333,444455556666"},
    )


def test_account_mode_in_a_vpc_passes_the_pack_and_check_template(account_in_vpc: Dogfood) -> None:
    assert_only_multi_az_acknowledged(account_in_vpc)
    assert account_in_vpc.flagged("suppressedViolations") == {
        (f"{STACK_NAME}/{f}", MULTI_AZ) for f in FUNCTIONS
    }
    (template,) = account_in_vpc.templates()
    status, rows = check_templates(template)
    assert len(rows) == len(DEFAULT_RULES) * len(DEFAULT_RULES)  # every rule on every function
    # check-template has no acknowledgments: only the zones known at deploy time fail.
    assert status == 1
    assert {rule for _, rule in non_compliant(rows)} == {MULTI_AZ}


def test_account_mode_outside_a_vpc_is_flagged_only_by_lambda_inside_vpc(
    account_default: Dogfood,
) -> None:
    assert account_default.report["conclusion"] == "failure"
    assert account_default.flagged() == {(f"{STACK_NAME}/{f}", INSIDE_VPC) for f in FUNCTIONS}
    (template,) = account_default.templates()
    status, rows = check_templates(template)
    assert status == 1
    assert {rule for _, rule in non_compliant(rows)} == {INSIDE_VPC}
    assert len(non_compliant(rows)) == len(DEFAULT_RULES)


def test_stacksets_mode_flags_only_what_runs_outside_a_vpc_by_design(stacksets: Dogfood) -> None:
    member = {(f"{STACK_NAME}Member/{STACK_NAME}/{f}", INSIDE_VPC) for f in FUNCTIONS}
    flagged = stacksets.flagged()
    assert member <= flagged
    # The rest: aws-cdk-lib's BucketDeployment handler in the code stack, a custom resource.
    others = flagged - member
    assert others and all(
        "/Custom::CDKBucketDeployment" in path and path.startswith(f"{STACK_NAME}-Code-")
        for path, _ in others
    )
    assert {rule for _, rule in others} <= {r.id for r in DEFAULT_RULES} - {PUBLIC}
    # check-template on the member template (the StackSet's) says the same.
    (member_template,) = [p for p in stacksets.templates() if "Member" in p.name]
    status, rows = check_templates(member_template)
    assert status == 1
    assert {rule for _, rule in non_compliant(rows)} == {INSIDE_VPC}
    assert len(non_compliant(rows)) == len(DEFAULT_RULES)


def only_the_code_stacks_upload_handler(flagged: set[tuple[str, str]]) -> bool:
    """aws-cdk-lib's BucketDeployment handler in a code stack (the runbooks' attachment in the
    organization mode, the code too in the stacksets mode): a custom resource, by design."""
    return all(
        "/Custom::CDKBucketDeployment" in path and "-Code" in path.split("/")[0]
        for path, _ in flagged
    )


def rule_templates(dogfood: Dogfood) -> list[Path]:
    """Every template but the code stacks' (their one function is that upload handler)."""
    return [p for p in dogfood.templates() if "-Code" not in p.name]


def test_organization_without_member_accounts_is_flagged_and_acknowledged_with_the_reason(
    organization_open: Dogfood,
) -> None:
    stack = f"{ORGANIZATION_STACK}-eu-west-1"
    assert_only_multi_az_acknowledged(organization_open)
    assert {
        flagged
        for flagged in organization_open.flagged("suppressedViolations")
        if flagged[1] == PUBLIC
    } == {(f"{stack}/{f}", PUBLIC) for f in FUNCTIONS}
    for violation in organization_open.report["suppressedViolations"]:
        if violation["ruleName"] == PUBLIC:
            assert violation["reason"] == INVOKE_REASON
            assert "config.amazonaws.com" in violation["description"]
    templates = rule_templates(organization_open)
    assert any("MemberRole" in p.name for p in templates)  # the member role stack too
    assert any("MemberRemediation" in p.name for p in templates)  # and the member runbooks
    status, rows = check_templates(*templates)
    assert status == 1
    assert {rule for _, rule in non_compliant(rows)} == {PUBLIC, MULTI_AZ}
    assert len(non_compliant(rows)) == 2 * len(DEFAULT_RULES)


def test_organization_with_member_accounts_passes(organization_members: Dogfood) -> None:
    assert_only_multi_az_acknowledged(organization_members)
    status, rows = check_templates(*rule_templates(organization_members))
    assert status == 1
    assert rows and {rule for _, rule in non_compliant(rows)} == {MULTI_AZ}
