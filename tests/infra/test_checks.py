"""cdk-nag (AwsSolutions + NIST 800-53 rev 5), cfn-lint and the code asset, for the default and
the everything-on configuration."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint_file

from infra.rule_construct import nag_resource
from rules.permissions import grants_for
from rules.registry import ENABLED_BY_DEFAULT as RULES  # the rules `enabledRules: all` deploys
from tests.infra.conftest import Synth

# W3005 (redundant DependsOn): CDK's Function adds DependsOn on its role, which the Role GetAtt
# already implies. Harmless, and not ours to remove.
CFN_LINT_IGNORED = ["W3005"]
CFN_LINT_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
ASSET_LIMIT = 150 * 1024  # bytes, zipped


def iam5(resource: str) -> str:
    return f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]"


# Every wildcard resource of rules.permissions is acknowledged with its grant's reason; anything
# else acknowledged must be listed here.
GRANT_WILDCARDS = {
    iam5(nag_resource(grant.resource))
    for rule in RULES
    for grant in grants_for(rule)
    if "*" in grant.resource
}
EXPECTED_ACKNOWLEDGMENTS = {
    "default": GRANT_WILDCARDS
    | {
        iam5("*"),  # X-Ray's "*" at least
        "NIST.800.53.R5::NIST.800.53.R5-LambdaInsideVPC",
        "NIST.800.53.R5::NIST.800.53.R5-CloudWatchAlarmAction",  # no alarmTopicArn
    },
    "full": GRANT_WILDCARDS
    | {
        iam5("*"),
        "NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled",
        "NIST.800.53.R5::NIST.800.53.R5-S3DefaultEncryptionKMS",
    },
}


@pytest.fixture(params=["default", "full"])
def synth(request: pytest.FixtureRequest) -> Synth:
    result: Synth = request.getfixturevalue(f"{request.param}_synth")
    return result


def test_cdk_nag_packs_pass_with_only_reasoned_acknowledgments(
    synth: Synth, request: pytest.FixtureRequest
) -> None:
    reports = {r["pluginName"]: r for r in synth.report["pluginReports"]}
    for pack in ("AwsSolutions", "NIST.800.53.R5"):
        assert reports[pack]["conclusion"] == "success"
        assert reports[pack].get("violations", []) == []
    acknowledged = {
        violation["acknowledgedId"]: violation["reason"]
        for report in reports.values()
        for violation in report.get("suppressedViolations", [])
        if not violation["acknowledgedId"].startswith("Annotation::")
    }
    assert set(acknowledged) == EXPECTED_ACKNOWLEDGMENTS[request.node.callspec.params["synth"]]
    assert all(len(reason) > 20 for reason in acknowledged.values())


def test_cfn_lint_is_clean(synth: Synth) -> None:
    template = next(synth.outdir.glob("*.template.json"))
    matches = lint_file(
        Path(template), config=ManualArgs(ignore_checks=CFN_LINT_IGNORED, regions=CFN_LINT_REGIONS)
    )
    assert [str(match) for match in matches] == []


def test_code_asset_is_only_the_rules_package(default_synth: Synth) -> None:
    (function,) = {
        f["Metadata"]["aws:asset:path"]
        for f in default_synth.of_type("AWS::Lambda::Function").values()
    }
    asset = default_synth.outdir / function
    files = sorted(str(p.relative_to(asset)) for p in asset.rglob("*") if p.is_file())
    assert files, "empty asset"
    assert all(name.startswith("rules/") and name.endswith(".py") for name in files), files
    assert "rules/__init__.py" in files
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in files:
            archive.write(asset / name, name)
    assert len(buffer.getvalue()) < ASSET_LIMIT
