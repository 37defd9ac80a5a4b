"""cdk-nag (AwsSolutions + NIST 800-53 rev 5), cfn-lint and the code asset, for the default and
the everything-on configuration."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint_file

from infra.remediation import (
    UNKNOWN_TYPE_CHECK,
    dead_letter_queue_prefix,
    document_name,
    extra_required,
)
from infra.rule_construct import nag_resource
from rules.permissions import grants_for
from rules.registry import DEFAULT_RULES as RULES  # what enabledRules "default" deploys
from rules.remediation.runbooks import QUEUE_PREFIX, RUNBOOKS
from tests.infra.conftest import Synth

# W3005 (redundant DependsOn): CDK's Function adds DependsOn on its role, which the Role GetAtt
# already implies. Harmless, and not ours to remove.
CFN_LINT_IGNORED = ["W3005"]
CFN_LINT_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
# Bytes, zipped: a guard against the asset taking in more than the package (tests, caches,
# data). The package itself grew with the CLIs' reports, the template checks and the hook
# (about 153 KB in November 2026); modules the handler does not import cost download bytes,
# not cold-start time.
ASSET_LIMIT = 256 * 1024


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


def runbook_acknowledgments(
    rule_ids: set[str], *, custom_action: bool, prefix: str = "guardrails-"
) -> set[str]:
    """The runbooks' wildcard grants, each start role's versions of its one document (runbooks
    a click can run, with the custom action), and the ActionTarget type CDK 2.275 lacks, for
    the deployment of ruleNamePrefix ``prefix``."""
    deployed = [runbook for runbook in RUNBOOKS if runbook.rule_id in rule_ids]
    queues = dead_letter_queue_prefix(prefix)
    found = {
        iam5(nag_resource(grant.resource.replace(QUEUE_PREFIX, queues)))
        for runbook in deployed
        for grant in runbook.grants
        + (runbook.function_role_policy.grants if runbook.function_role_policy else ())
        if "*" in grant.resource
    }
    if custom_action:
        found |= {
            iam5(
                nag_resource(
                    "arn:{partition}:ssm:{region}:{account}:automation-definition/"
                    f"{document_name('guardrails-', runbook.rule_id)}:*"
                )
            )
            for runbook in deployed
            if not extra_required(runbook)
        }
        found.add(UNKNOWN_TYPE_CHECK)
    return found


EXPECTED_ACKNOWLEDGMENTS = {
    "default": GRANT_WILDCARDS
    | runbook_acknowledgments({rule.id for rule in RULES}, custom_action=False)
    | {
        iam5("*"),  # X-Ray's "*" at least
        "NIST.800.53.R5::NIST.800.53.R5-LambdaInsideVPC",
        "NIST.800.53.R5::NIST.800.53.R5-CloudWatchAlarmAction",  # no alarmTopicArn
    },
    "full": GRANT_WILDCARDS
    | {
        acknowledgment.replace("guardrails-", "acme_")
        for acknowledgment in runbook_acknowledgments(
            {rule.id for rule in RULES} - {"lambda-dlq-check"}, custom_action=False
        )
    }
    | {
        iam5("*"),
        "NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled",
        "NIST.800.53.R5::NIST.800.53.R5-S3DefaultEncryptionKMS",
    },
}
# What only the runbooks acknowledge (the stacksets member template has no runbooks yet).
RUNBOOK_ONLY = (
    runbook_acknowledgments({rule.id for rule in RULES}, custom_action=False)
    - GRANT_WILDCARDS
    - {iam5("*")}
)


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
    # Python modules, and the data the checks read (lambda-runtime-supported's runtime table).
    assert all(
        name.startswith("rules/")
        and (name.endswith(".py") or (name.startswith("rules/data/") and name.endswith(".json")))
        for name in files
    ), files
    assert "rules/__init__.py" in files
    assert "rules/data/runtimes.json" in files
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in files:
            archive.write(asset / name, name)
    assert len(buffer.getvalue()) < ASSET_LIMIT
