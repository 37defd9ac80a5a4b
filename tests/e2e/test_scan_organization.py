"""``scan --organization --role-name`` on moto_server: an organization of four accounts (the
management account and three members) in two Regions, one member without the scan role.

moto gap: moto's STS ``AssumeRole`` does not check that the role exists (it hands out
credentials for any role ARN). The ``sts_checks_roles`` fixture adds the check STS makes: before
each AssumeRole of the scan it looks the role up in moto's IAM of the target account and, when
it is missing, answers AccessDenied with the message STS gives. Everything else (Organizations,
the assumed sessions, Lambda in each account and Region) is moto_server's own.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse

import rules.scan
from demo.server import MotoServer, pointed_at
from rules.cli import main
from rules.registry import DEFAULT_RULES, RULES

REGIONS = ("us-east-1", "eu-west-1")
SCAN_ROLE = "GuardrailsScan"
MANAGEMENT = "123456789012"


@dataclass(frozen=True)
class Organization:
    scanned: tuple[str, ...]  # accounts with the scan role
    missing_role: str
    functions: dict[str, tuple[str, str, bool]]  # ARN -> (account, region, public)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'ok'\n")
    return buffer.getvalue()


def _in_account(account: str, region: str = "us-east-1") -> boto3.Session:
    """A session in ``account`` (moto hands out credentials for any role: setup only)."""
    sts = boto3.client("sts", region_name=region)
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/test-setup", RoleSessionName="test-setup"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def _seed_account(account: str, with_scan_role: bool) -> dict[str, tuple[str, str, bool]]:
    iam = _in_account(account).client("iam")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                }
            ],
        }
    )
    role = iam.create_role(RoleName="fn-exec", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    if with_scan_role:
        iam.create_role(RoleName=SCAN_ROLE, AssumeRolePolicyDocument=trust)
    functions = {}
    for region in REGIONS:
        lam = _in_account(account, region).client("lambda")
        for public in (True, False):
            name = f"fn-{account[-4:]}-{region}-{'public' if public else 'private'}"
            arn = lam.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role,
                Handler="app.handler",
                Code={"ZipFile": _zip()},
            )["FunctionArn"]
            if public:
                lam.add_permission(
                    FunctionName=name,
                    StatementId="public",
                    Action="lambda:InvokeFunction",
                    Principal="*",
                )
            functions[arn] = (account, region, public)
    return functions


@pytest.fixture(scope="module")
def organization(moto_server: MotoServer) -> Organization:
    with pointed_at(moto_server):
        moto_server.reset()
        org = boto3.client("organizations", region_name="us-east-1")
        org.create_organization(FeatureSet="ALL")
        members = [
            org.create_account(Email=f"m{i}@example.com", AccountName=f"member-{i}")[
                "CreateAccountStatus"
            ]["AccountId"]
            for i in range(3)
        ]
        missing = members[2]
        functions: dict[str, tuple[str, str, bool]] = {}
        for account in (MANAGEMENT, *members):
            functions |= _seed_account(account, with_scan_role=account != missing)
    return Organization((MANAGEMENT, members[0], members[1]), missing, functions)


@pytest.fixture
def sts_checks_roles(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every AssumeRole of the scan first checks moto's IAM of the target account (see the module
    docstring); returns the role ARNs STS was asked for."""
    asked: list[str] = []
    original = rules.scan.make_session

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["role_arn"] = params["RoleArn"]

    def check(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        arn = context["role_arn"]
        asked.append(arn)
        account, name = arn.split(":")[4], arn.rsplit("/", 1)[1]
        with pointed_at(moto_server):
            iam = _in_account(account).client("iam")
            try:
                iam.get_role(RoleName=name)
            except iam.exceptions.NoSuchEntityException:
                pass
            else:
                return None
        message = (
            f"User: arn:aws:sts::{MANAGEMENT}:assumed-role/auditor/scan is not authorized to "
            f"perform: sts:AssumeRole on resource: {arn}"
        )
        parsed = {"Error": {"Code": "AccessDenied", "Message": message, "Type": "Sender"}}
        return AWSResponse(arn, 403, {}, None), parsed

    def make_session(*args: Any, **kwargs: Any) -> botocore.session.Session:
        session = original(*args, **kwargs)
        session.register("before-parameter-build.sts.AssumeRole", remember)
        session.register("before-call.sts.AssumeRole", check)
        return session

    monkeypatch.setattr(rules.scan, "make_session", make_session)
    return asked


def scan(server: MotoServer, *arguments: str) -> tuple[int, str]:
    out = io.StringIO()
    argv = ["scan", "--endpoint-url", server.url, "--region", "us-east-1", *arguments]
    return main(argv, out), out.getvalue()


@pytest.fixture
def asff(
    organization: Organization,
    moto_server: MotoServer,
    sts_checks_roles: list[str],
    capsys: pytest.CaptureFixture[str],
) -> Iterator[tuple[int, list[dict[str, Any]], str, list[str]]]:
    code, text = scan(
        moto_server,
        "--organization",
        "--role-name",
        SCAN_ROLE,
        "--regions",
        ",".join(REGIONS),
        "--format",
        "asff",
    )
    yield code, json.loads(text)["Findings"], capsys.readouterr().err, sts_checks_roles


def test_every_account_and_region_is_scanned_and_the_missing_role_exits_2(
    organization: Organization, asff: tuple[int, list[dict[str, Any]], str, list[str]]
) -> None:
    code, findings, err, asked = asff
    assert code == 2
    scanned = {
        arn: place
        for arn, place in organization.functions.items()
        if place[0] != organization.missing_role
    }
    # One finding per rule and function of every scanned place, filed where the function lives.
    by_resource: dict[str, set[str]] = {}
    for finding in findings:
        [resource] = finding["Resources"]
        account, region, _ = scanned[resource["Id"]]
        assert (finding["AwsAccountId"], resource["Region"]) == (account, region)
        by_resource.setdefault(resource["Id"], set()).add(finding["GeneratorId"])
    assert by_resource == {arn: {rule.id for rule in DEFAULT_RULES} for arn in scanned}
    # Public functions fail the public-access rule in every account and Region.
    public = {
        f["Resources"][0]["Id"]: f["Compliance"]["Status"]
        for f in findings
        if f["GeneratorId"] == "lambda-function-public-access-prohibited"
    }
    assert public == {arn: "FAILED" if place[2] else "PASSED" for arn, place in scanned.items()}
    # The missing role: reported with STS's cause for each Region, never skipped silently.
    for region in REGIONS:
        assert f"{organization.missing_role}/{region}: not scanned: cannot assume" in err
    assert "AccessDenied" in err or "not authorized to perform: sts:AssumeRole" in err
    # One session per account and Region, each through the scan role.
    expected = {
        f"arn:aws:iam::{account}:role/{SCAN_ROLE}"
        for account in (*organization.scanned, organization.missing_role)
    }
    assert set(asked) == expected
    assert len(asked) == len(expected) * len(REGIONS)
    for account in organization.scanned:
        for region in REGIONS:
            assert f"{account}/{region}: 2 function(s) read from the Lambda API" in err


def test_jsonl_reports_the_unscanned_account_in_the_output(
    organization: Organization, moto_server: MotoServer, sts_checks_roles: list[str]
) -> None:
    code, text = scan(
        moto_server, "--organization", "--role-name", SCAN_ROLE, "--regions", ",".join(REGIONS)
    )
    assert code == 2
    rows = [json.loads(line) for line in text.splitlines()]
    errors = [row for row in rows if "error" in row]
    assert {(e["account_id"], e["region"]) for e in errors} == {
        (organization.missing_role, region) for region in REGIONS
    }
    assert all(SCAN_ROLE in e["error"] for e in errors)
    evaluations = [row for row in rows if "rule" in row]
    assert len(evaluations) == len(DEFAULT_RULES) * (
        len(organization.functions) - 2 * len(REGIONS)
    )


def test_results_carry_account_and_region_from_the_arn(
    organization: Organization, moto_server: MotoServer, sts_checks_roles: list[str]
) -> None:
    from rules.aws.accounts import MemberSessions, places, session_name
    from rules.aws.fanout import scan_places
    from rules.parameters import NO_PARAMETERS

    session = rules.scan.make_session(endpoint_url=moto_server.url)
    members = MemberSessions(
        lambda region: rules.scan.region_clients(session, region), SCAN_ROLE, session_name()
    )
    accounts = (*organization.scanned[1:], organization.missing_role)
    fanout = scan_places(
        members,
        places(accounts, REGIONS),
        RULES,
        {rule.id: NO_PARAMETERS for rule in RULES},
    )
    assert [(s.account_id, s.region) for s in fanout.scans] == [
        (organization.scanned[1], region) for region in REGIONS
    ] + [(organization.scanned[2], region) for region in REGIONS]
    for place in fanout.scans:
        assert {(r.account_id, r.region) for r in place.results} == {
            (place.account_id, place.region)
        }
    assert [(p.account_id, p.region) for p in fanout.problems] == [
        (organization.missing_role, region) for region in REGIONS
    ]


def test_accounts_and_ou_select_the_accounts(
    organization: Organization,
    moto_server: MotoServer,
    sts_checks_roles: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    member = organization.scanned[1]
    code, _ = scan(moto_server, "--accounts", member, "--role-name", SCAN_ROLE)
    assert code == 0
    assert set(sts_checks_roles) == {f"arn:aws:iam::{member}:role/{SCAN_ROLE}"}
    with pointed_at(moto_server):
        org = boto3.client("organizations", region_name="us-east-1")
        root = org.list_roots()["Roots"][0]["Id"]
        parent = org.create_organizational_unit(ParentId=root, Name="workloads")
        child = org.create_organizational_unit(
            ParentId=parent["OrganizationalUnit"]["Id"], Name="team"
        )
        org.move_account(
            AccountId=member,
            SourceParentId=root,
            DestinationParentId=child["OrganizationalUnit"]["Id"],
        )
    sts_checks_roles.clear()
    capsys.readouterr()
    code, _ = scan(
        moto_server, "--ou", parent["OrganizationalUnit"]["Id"], "--role-name", SCAN_ROLE
    )
    assert code == 0, capsys.readouterr().err
    assert set(sts_checks_roles) == {f"arn:aws:iam::{member}:role/{SCAN_ROLE}"}
