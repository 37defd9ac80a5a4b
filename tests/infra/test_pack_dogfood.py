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
from rules.registry import ENABLED_BY_DEFAULT as RULES  # the rules `enabledRules: all` deploys
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
FUNCTIONS = [f"{construct_id(rule.id)}/Function/Resource" for rule in RULES]


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
    return {(r["logical_id"], r["rule"]) for r in rows if r["compliance"] != "COMPLIANT"}


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
    assert account_in_vpc.report == {"conclusion": "success"}
    (template,) = account_in_vpc.templates()
    status, rows = check_templates(template)
    assert status == 0
    assert len(rows) == len(RULES) * len(RULES)  # every rule on every rule function
    assert non_compliant(rows) == set()


def test_account_mode_outside_a_vpc_is_flagged_only_by_lambda_inside_vpc(
    account_default: Dogfood,
) -> None:
    assert account_default.report["conclusion"] == "failure"
    assert account_default.flagged() == {(f"{STACK_NAME}/{f}", INSIDE_VPC) for f in FUNCTIONS}
    (template,) = account_default.templates()
    status, rows = check_templates(template)
    assert status == 1
    assert {rule for _, rule in non_compliant(rows)} == {INSIDE_VPC}
    assert len(non_compliant(rows)) == len(RULES)


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
    assert {rule for _, rule in others} <= {r.id for r in RULES} - {PUBLIC}
    # check-template on the member template (the StackSet's) says the same.
    (member_template,) = [p for p in stacksets.templates() if "Member" in p.name]
    status, rows = check_templates(member_template)
    assert status == 1
    assert {rule for _, rule in non_compliant(rows)} == {INSIDE_VPC}
    assert len(non_compliant(rows)) == len(RULES)


def test_organization_without_member_accounts_is_flagged_and_acknowledged_with_the_reason(
    organization_open: Dogfood,
) -> None:
    stack = f"{ORGANIZATION_STACK}-eu-west-1"
    assert organization_open.report.get("violations", []) == []
    assert organization_open.flagged("suppressedViolations") == {
        (f"{stack}/{f}", PUBLIC) for f in FUNCTIONS
    }
    for violation in organization_open.report["suppressedViolations"]:
        assert violation["reason"] == INVOKE_REASON
        assert "config.amazonaws.com" in violation["description"]
    templates = organization_open.templates()
    assert any("MemberRole" in p.name for p in templates)  # the member role stack too
    status, rows = check_templates(*templates)
    assert status == 1
    assert {rule for _, rule in non_compliant(rows)} == {PUBLIC}
    assert len(non_compliant(rows)) == len(RULES)


def test_organization_with_member_accounts_passes(organization_members: Dogfood) -> None:
    assert organization_members.report == {"conclusion": "success"}
    status, rows = check_templates(*organization_members.templates())
    assert status == 0
    assert rows and non_compliant(rows) == set()
