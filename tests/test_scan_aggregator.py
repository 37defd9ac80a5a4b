"""``scan --aggregator``: the organization's functions from an AWS Config aggregator.

moto gap: moto 5.2.5 creates aggregators but implements none of
``ListAggregateDiscoveredResources``, ``BatchGetAggregateResourceConfig`` or
``DescribeConfigurationAggregatorSourcesStatus`` (and records no Lambda items). botocore's
Stubber answers them here with AWS's documented shapes (samples in tests/events/aggregate_*.json);
the code makes the real calls. The member account's Lambda reads of the ``--role-name`` path run
on moto (in process).
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber

import rules.scan
from demo.config_events import configuration_item, now
from rules.aws.aggregate_scan import evaluate_recorded, with_role_peers_by_place
from rules.aws.aggregator import (
    BACKOFF_CAP_SECONDS,
    UNPROCESSED_ATTEMPTS,
    AggregateInventory,
    FunctionKey,
    SourceFreshness,
    Unread,
    backoff_delays,
    read_aggregate,
)
from rules.aws.clients import Clients
from rules.checks import dlq, env_vars_cmk, inside_vpc, public_access, unique_role
from rules.cli import main
from rules.engine import evaluate_function
from rules.errors import InvalidInputError
from rules.model import Compliance
from rules.parameters import NO_PARAMETERS
from rules.registry import DEFAULT_RULES
from tests.aggregate_items import asked, base_item, identifier, succeeded
from tests.aws.fixtures import MEMBER, REGION, CallLog, _zip
from tests.conftest import load_event
from tests.factories import function, with_policy
from tests.moto_gaps import answer_moto_gaps

AGGREGATOR = "org-aggregator"
A, B = "111122223333", "444455556666"
SCAN_ROLE = "GuardrailsScan"


def config_client() -> Any:
    return botocore.session.get_session().create_client(
        "config",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def item(name: str, account: str = A, region: str = "us-east-1") -> dict[str, Any]:
    raw = copy.deepcopy(load_event("lambda_ci_compliant.json"))
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    raw.update(awsAccountId=account, awsRegion=region, ARN=arn, resourceId=name, resourceName=name)
    raw["configuration"].update(functionName=name, functionArn=arn)
    return base_item(raw)


def expect_status(stubber: Stubber, response: dict[str, Any]) -> None:
    stubber.add_response(
        "describe_configuration_aggregator_sources_status",
        response,
        {"ConfigurationAggregatorName": AGGREGATOR},
    )


def expect_list(
    stubber: Stubber,
    items: list[dict[str, Any]],
    token: str | None = None,
    next_token: str | None = None,
) -> None:
    params: dict[str, Any] = {
        "ConfigurationAggregatorName": AGGREGATOR,
        "ResourceType": "AWS::Lambda::Function",
        "Limit": 100,
    }
    if token:
        params["NextToken"] = token
    response: dict[str, Any] = {"ResourceIdentifiers": [identifier(i) for i in items]}
    if next_token:
        response["NextToken"] = next_token
    stubber.add_response("list_aggregate_discovered_resources", response, params)


def expect_batch(
    stubber: Stubber,
    ask: list[dict[str, Any]],
    give: list[dict[str, Any]],
    unprocessed: list[dict[str, Any]] = (),
) -> None:  # type: ignore[assignment]
    stubber.add_response(
        "batch_get_aggregate_resource_config",
        {
            "BaseConfigurationItems": give,
            "UnprocessedResourceIdentifiers": [asked(i) for i in unprocessed],
        },
        {"ConfigurationAggregatorName": AGGREGATOR, "ResourceIdentifiers": [asked(i) for i in ask]},
    )


def test_pages_retries_and_stale_sources_never_drop_a_function() -> None:
    """Two list pages; one identifier processed on the second try, one never, one answered with
    neither; one source OUTDATED: every listed function is read or named with its cause."""
    client = config_client()
    orders, payments, inventory, ghost = (
        item(n) for n in ("orders", "payments", "inventory", "ghost")
    )
    billing = item("billing-worker", B, "eu-west-1")
    sleeps: list[float] = []
    with Stubber(client) as stubber:
        expect_status(stubber, load_event("aggregator_sources_status.json"))
        expect_list(stubber, [orders, billing], next_token="page-2")
        expect_list(stubber, [payments, inventory, ghost], token="page-2")
        # billing-worker's source is OUTDATED: not even asked for.
        expect_batch(stubber, [orders, payments, inventory, ghost], [orders], [payments, inventory])
        expect_batch(stubber, [payments, inventory], [inventory], [payments])
        for _ in range(UNPROCESSED_ATTEMPTS - 2):
            expect_batch(stubber, [payments], [], [payments])
        inventory_read = read_aggregate(
            client, AGGREGATOR, "aws", sleep=sleeps.append, jitter=lambda: 0.5
        )
        stubber.assert_no_pending_responses()
    assert [f.name for f in inventory_read.functions] == ["orders", "inventory"]
    assert inventory_read.listed == 5
    causes = {u.key.name: u.cause for u in inventory_read.unread}
    assert set(causes) == {"billing-worker", "payments", "ghost"}
    assert "OUTDATED" in causes["billing-worker"] and "AccessDenied" in causes["billing-worker"]
    assert f"unprocessed after {UNPROCESSED_ATTEMPTS} attempts" in causes["payments"]
    assert "neither its item nor an unprocessed identifier" in causes["ghost"]
    assert {u.arn for u in inventory_read.unread} >= {
        "arn:aws:lambda:eu-west-1:444455556666:function:billing-worker"
    }
    assert sleeps == list(backoff_delays(UNPROCESSED_ATTEMPTS, lambda: 0.5))
    assert inventory_read.stale_sources == ("444455556666/eu-west-1: OUTDATED",)


def test_unprocessed_retries_back_off_for_up_to_about_30_seconds_capped_and_jittered() -> None:
    """Config leaves identifiers unprocessed when it throttles: the retries must outlast a
    throttling burst (the old 0.1..0.8 s gave up after 1.5 s), each wait capped, and jittered so
    parallel scans do not retry in step."""
    least = list(backoff_delays(UNPROCESSED_ATTEMPTS, lambda: 0.0))
    most = list(backoff_delays(UNPROCESSED_ATTEMPTS, lambda: 0.999999))
    assert len(least) == UNPROCESSED_ATTEMPTS - 1
    assert sum(least) >= 15 and 25 <= sum(most) <= 32
    assert max(most) <= BACKOFF_CAP_SECONDS
    assert least == sorted(least) and all(a < b for a, b in zip(least, most, strict=True))
    # Two scans drawing different numbers wait different times.
    assert list(backoff_delays(3, lambda: 0.1)) != list(backoff_delays(3, lambda: 0.9))


def test_batches_hold_at_most_100_identifiers_and_a_source_without_status_is_stale() -> None:
    client = config_client()
    items = [item(f"fn-{i:03d}") for i in range(150)]
    unknown = item("elsewhere", B)
    with Stubber(client) as stubber:
        expect_status(stubber, succeeded([(A, "us-east-1")]))
        expect_list(stubber, [*items[:100]], next_token="t")
        expect_list(stubber, [*items[100:], unknown], token="t")
        expect_batch(stubber, items[:100], items[:100])
        expect_batch(stubber, items[100:], items[100:])
        read = read_aggregate(client, AGGREGATOR, "aws")
        stubber.assert_no_pending_responses()
    assert len(read.functions) == 150
    [unread] = read.unread
    assert unread.key == FunctionKey(B, "us-east-1", "elsewhere")
    assert "no status for source 444455556666/us-east-1" in unread.cause


def test_an_organization_source_covers_every_account_of_its_region() -> None:
    from rules.aws.aggregator import SourceFreshness

    freshness = SourceFreshness(
        [
            {
                "SourceId": "o-abc",
                "SourceType": "ORGANIZATION",
                "AwsRegion": "us-east-1",
                "LastUpdateStatus": "SUCCEEDED",
            },
            {
                "SourceId": "o-abc",
                "SourceType": "ORGANIZATION",
                "AwsRegion": "eu-west-1",
                "LastUpdateStatus": "FAILED",
                "LastErrorCode": "OrganizationAccessDenied",
            },
        ]
    )
    assert freshness.stale_reason(A, "us-east-1") is None
    stale = freshness.stale_reason(B, "eu-west-1")
    assert stale is not None and "FAILED" in stale and "OrganizationAccessDenied" in stale
    assert freshness.stale_reason(A, "ap-south-1") is not None


@pytest.mark.parametrize(
    ("rule", "subject", "gap"),
    [
        # No key and variables unknown: only the variables could make it COMPLIANT.
        (env_vars_cmk.RULE, function(), "environment variables"),
        # The function's own policy is private: an alias's or version's could be public.
        (public_access.RULE, function(), "alias and version resource policies"),
    ],
)
def test_a_gap_that_decides_the_verdict_fails_closed_and_names_it(
    rule: Any, subject: Any, gap: str
) -> None:
    evaluation = evaluate_recorded(rule, subject, NO_PARAMETERS)
    assert evaluation.compliance is Compliance.NON_COMPLIANT
    assert gap in evaluation.annotation
    assert "--role-name" in evaluation.annotation


@pytest.mark.parametrize(
    ("rule", "subject"),
    [
        (
            public_access.RULE,
            with_policy(
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "lambda:InvokeFunction",
                    "Sid": "open",
                }
            ),
        ),
        (env_vars_cmk.RULE, function(environment_variable_names=())),
        (dlq.RULE, function()),
        (inside_vpc.RULE, function(subnet_ids=("subnet-1",), security_group_ids=("sg-1",))),
    ],
)
def test_a_verdict_the_gaps_cannot_change_stands(rule: Any, subject: Any) -> None:
    assert evaluate_recorded(rule, subject, NO_PARAMETERS) == evaluate_function(
        rule, subject, NO_PARAMETERS
    )


def test_functions_share_a_role_only_within_their_account_and_region() -> None:
    """The unique-role view from the aggregator's items: peers are the other functions of the
    same account and Region with the same role (ARNs compared case-insensitively); a function
    of that place the aggregator could not read leaves no peer found undecided."""
    role_a = f"arn:aws:iam::{A}:role/shared"
    role_b = f"arn:aws:iam::{B}:role/shared"

    def at(name: str, account: str, region: str, role: str) -> Any:
        arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
        return function(name=name, arn=arn, account_id=account, region=region, role=role)

    functions = (
        at("one", A, "us-east-1", role_a),
        at("two", A, "us-east-1", f"arn:aws:iam::{A}:role/Shared"),  # IAM: case-insensitive
        at("elsewhere", A, "eu-west-1", role_a),
        at("other-account", B, "us-east-1", role_b),
        at("beside-unread", B, "eu-west-1", role_b),
    )
    unread_key = FunctionKey(B, "eu-west-1", "unreadable")
    inventory = AggregateInventory(
        functions,
        (Unread(unread_key, unread_key.arn("aws"), "stale"),),
        len(functions) + 1,
        (),
        SourceFreshness([]),
    )
    result = with_role_peers_by_place(inventory).functions
    assert [f.name for f in result] == [f.name for f in functions]  # order kept
    peered = {f.name: f for f in result}
    verdicts = {
        name: unique_role.check_unique_role(peered[name], NO_PARAMETERS)
        for name in ("one", "two", "elsewhere", "other-account")
    }
    assert verdicts["one"].compliance is Compliance.NON_COMPLIANT
    assert "shared with 1 other function(s) of the account and Region: two" in (
        verdicts["one"].annotation
    )
    assert verdicts["two"].compliance is Compliance.NON_COMPLIANT
    for alone in ("elsewhere", "other-account"):
        assert verdicts[alone].compliance is Compliance.COMPLIANT, alone
    with pytest.raises(InvalidInputError, match="1 function"):
        unique_role.check_unique_role(peered["beside-unread"], NO_PARAMETERS)


# The CLI, with the aggregator's Config client stubbed and member reads on moto ----------------
@pytest.fixture
def aggregate_config(mocked: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The aggregator account's Config client (its own ``Clients``, account_id None) is a
    stubbed one; every other client (member accounts' Lambda, STS) is moto's, with canned
    answers for the Lambda APIs moto lacks (ListFunctionUrlConfigs: no URL; tests/moto_gaps.py)
    on the scan's session, which the member sessions share."""
    client = config_client()
    original = Clients.client
    original_session = rules.scan.make_session

    def client_for(self: Clients, service: str) -> Any:
        if service == "config" and self.account_id is None:
            return client
        return original(self, service)

    def make_session(*args: Any, **kwargs: Any) -> botocore.session.Session:
        session = original_session(*args, **kwargs)
        answer_moto_gaps(session)
        return session

    monkeypatch.setattr(Clients, "client", client_for)
    monkeypatch.setattr(rules.scan, "make_session", make_session)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> CallLog:
    log = CallLog()
    original = rules.scan.make_session

    def make_session(*args: Any, **kwargs: Any) -> botocore.session.Session:
        session = original(*args, **kwargs)
        session.register("before-parameter-build", log)
        return session

    monkeypatch.setattr(rules.scan, "make_session", make_session)
    return log


@pytest.fixture
def member_function(mocked: None) -> dict[str, Any]:
    """A function in the member account (no variables, no policy, no alias), and its item."""
    sts = boto3.client("sts", region_name=REGION)
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{MEMBER}:role/setup", RoleSessionName="setup"
    )["Credentials"]
    member = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )
    role = member.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")
    lam = member.client("lambda")
    lam.create_function(
        FunctionName="member-fn",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": _zip()},
    )
    return base_item(configuration_item(lam, "member-fn", capture_time=now()))


def aggregate_scan(*arguments: str) -> tuple[int, list[dict[str, Any]]]:
    out = io.StringIO()
    code = main(
        ["scan", "--aggregator", AGGREGATOR, "--region", REGION, "--format", "jsonl", *arguments],
        out,
    )
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def expect_aggregator(stubber: Stubber, aggregator: dict[str, Any]) -> None:
    stubber.add_response(
        "describe_configuration_aggregators",
        {"ConfigurationAggregators": [{"ConfigurationAggregatorName": AGGREGATOR, **aggregator}]},
        {"ConfigurationAggregatorNames": [AGGREGATOR]},
    )


def expect_counts(stubber: Stubber, region: str, counts: dict[str, int]) -> None:
    """GetAggregateDiscoveredResourceCounts in ``region`` by account (every resource type)."""
    stubber.add_response(
        "get_aggregate_discovered_resource_counts",
        {
            "TotalDiscoveredResources": sum(counts.values()),
            "GroupByKey": "ACCOUNT_ID",
            "GroupedResourceCounts": [
                {"GroupName": account, "ResourceCount": count} for account, count in counts.items()
            ],
        },
        {
            "ConfigurationAggregatorName": AGGREGATOR,
            "Filters": {"Region": region},
            "GroupByKey": "ACCOUNT_ID",
            "Limit": 1000,
        },
    )


def account_source(*accounts: str, regions: tuple[str, ...] = (REGION,)) -> dict[str, Any]:
    return {
        "AccountAggregationSources": [{"AccountIds": list(accounts), "AwsRegions": list(regions)}]
    }


def expect_coverage(stubber: Stubber, counts: dict[str, int]) -> None:
    """An aggregator of the account sources in ``counts``, in REGION, holding that much."""
    expect_aggregator(stubber, account_source(*counts))
    expect_counts(stubber, REGION, counts)


def serve(stubber: Stubber, items: list[dict[str, Any]], status: dict[str, Any]) -> None:
    expect_status(stubber, status)
    expect_list(stubber, items)
    expect_batch(stubber, items, items)
    expect_coverage(stubber, {MEMBER: 7})


def test_without_role_the_gaps_fail_closed(
    aggregate_config: Stubber,
    member_function: dict[str, Any],
    calls: CallLog,
    capsys: pytest.CaptureFixture[str],
) -> None:
    serve(aggregate_config, [member_function], succeeded([(MEMBER, REGION)]))
    code, rows = aggregate_scan()
    assert code == 0
    verdicts = {r["rule"]: r for r in rows}
    # The aggregate scan runs the rules that are on by default (lambda-tagged is off).
    assert set(verdicts) == {rule.id for rule in DEFAULT_RULES}
    # What Config's items do not carry (variable names and values, alias policies, URLs).
    unrecorded = (
        "lambda-env-vars-cmk-encrypted",
        "lambda-function-public-access-prohibited",
        "lambda-function-url-auth-required",
        "lambda-no-secrets-in-env-vars",
    )
    for rule_id in unrecorded:
        assert verdicts[rule_id]["compliance"] == "NON_COMPLIANT"
        assert "counted as non-compliant until they are read" in verdicts[rule_id]["annotation"]
    assert f"{len(unrecorded)} verdict(s) decided by what Config does not record" in (
        capsys.readouterr().err
    )
    # Config records each function's role: the account and Region's items are the view the
    # unique-role rule compares, no gap.
    unique = verdicts["lambda-unique-execution-role"]
    assert (unique["compliance"], unique["annotation"]) == (
        "COMPLIANT",
        "no other function of the account and Region uses execution role fn",
    )
    # From one account: no role assumed, no Lambda read anywhere.
    assert not {"sts:AssumeRole", "lambda:GetFunctionConfiguration"} & calls.actions()


def test_role_name_reads_the_gaps_in_the_functions_account(
    aggregate_config: Stubber, member_function: dict[str, Any], calls: CallLog
) -> None:
    serve(aggregate_config, [member_function], succeeded([(MEMBER, REGION)]))
    code, rows = aggregate_scan("--role-name", SCAN_ROLE)
    assert code == 0
    verdicts = {r["rule"]: r for r in rows}
    cmk = verdicts["lambda-env-vars-cmk-encrypted"]
    assert (cmk["compliance"], cmk["annotation"]) == (
        "COMPLIANT",
        "function has no environment variables",
    )
    public = verdicts["lambda-function-public-access-prohibited"]
    assert public["compliance"] == "COMPLIANT"
    assert "and its 0 alias(es)" in public["annotation"]
    [assume] = calls.of("sts:AssumeRole")
    assert assume["RoleArn"] == f"arn:aws:iam::{MEMBER}:role/{SCAN_ROLE}"
    assert assume["DurationSeconds"] == 900
    assert assume["RoleSessionName"].startswith("lambda-guardrails-scan-")
    unique = verdicts["lambda-unique-execution-role"]
    assert unique["compliance"] == "COMPLIANT"
    assert verdicts["lambda-function-url-auth-required"]["compliance"] == "COMPLIANT"
    # In the member account: one read of the variables' names (CMK rule), one of their values
    # (secrets rule, which keeps them inside that read), one of the function URLs.
    read = [{"FunctionName": member_function["arn"]}]
    assert calls.of("lambda:GetFunctionConfiguration") == read * 2
    assert calls.of("lambda:ListFunctionUrlConfigs") == read


def test_a_stale_source_gives_no_verdict_and_exits_2(
    aggregate_config: Stubber,
    member_function: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    expect_status(
        aggregate_config,
        {
            "AggregatedSourceStatusList": [
                {
                    "SourceId": MEMBER,
                    "SourceType": "ACCOUNT",
                    "AwsRegion": REGION,
                    "LastUpdateStatus": "FAILED",
                    "LastErrorCode": "AccessDenied",
                }
            ]
        },
    )
    expect_list(aggregate_config, [member_function])
    expect_coverage(aggregate_config, {MEMBER: 7})
    code, rows = aggregate_scan()
    assert code == 2
    assert [r for r in rows if "rule" in r] == []
    [error] = rows
    assert (error["account_id"], error["region"], error["resource"]) == (
        MEMBER,
        REGION,
        member_function["arn"],
    )
    assert "FAILED" in error["error"]
    assert f"{member_function['arn']}: no verdict" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--organization", "--role-name", "R"], "not allowed with argument"),
        (["--accounts", "111122223333"], "drop --accounts/--ou"),
        (["--regions", "eu-west-1"], "not --regions"),
        (["--publish"], "--publish"),
        (["--source", "lambda"], "--source does not apply"),
        (["--role-name", "bad role"], "not an IAM role name"),
    ],
)
def test_flags_that_do_not_go_with_aggregator_are_refused(
    aws_env: None, arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(
            ["scan", "--aggregator", AGGREGATOR, "--region", REGION, *arguments], io.StringIO()
        )
    except SystemExit as exit_:  # argparse's own mutual exclusion
        code = int(exit_.code or 0)
    assert code == 2
    assert message in capsys.readouterr().err


# Coverage: accounts and Regions the aggregator holds nothing of, or no function of ----------
def in_account(account: str) -> boto3.Session:
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def start_recorder(account: str, group: dict[str, Any]) -> None:
    session = in_account(account)
    session.client("s3").create_bucket(Bucket=f"config-{account}")
    config = session.client("config")
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{account}:role/config",
            "recordingGroup": group,
        }
    )
    config.put_delivery_channel(
        DeliveryChannel={"name": "default", "s3BucketName": f"config-{account}"}
    )
    config.start_configuration_recorder(ConfigurationRecorderName="default")


def covering(stubber: Stubber, item: dict[str, Any], counts: dict[str, int]) -> None:
    """The member's function, its source fresh; the aggregator covers ``counts``' accounts."""
    expect_status(stubber, succeeded([(account, REGION) for account in counts]))
    expect_list(stubber, [item])
    expect_batch(stubber, [item], [item])
    expect_coverage(stubber, counts)


def test_an_account_with_nothing_recorded_gets_no_verdict_in_every_format(
    aggregate_config: Stubber,
    member_function: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
) -> None:
    """An account whose recorder is missing or stopped lists no function: never "no functions"."""
    covering(aggregate_config, member_function, {MEMBER: 7, A: 0})
    code, rows = aggregate_scan()
    assert code == 2
    [error] = [r for r in rows if "error" in r]
    assert (error["account_id"], error["region"], error["resource"]) == (A, REGION, None)
    assert error["error"].startswith("AWS Config records nothing here that the aggregator holds")
    assert f"{A}/{REGION}: not scanned: AWS Config records nothing here" in capsys.readouterr().err
    covering(aggregate_config, member_function, {MEMBER: 7, A: 0})
    out = tmp_path / "scan.csv"
    code = main(
        ["scan", "--aggregator", AGGREGATOR, "--region", REGION, "--format", "csv", "-o", str(out)],
        io.StringIO(),
    )
    assert code == 2
    [problem] = [row for row in out.read_text().splitlines() if ",NO_VERDICT," in row]
    assert problem.startswith(f"{A},{REGION},,,NO_VERDICT,,,")
    assert "not scanned: AWS Config records nothing here" in problem


def test_without_role_a_place_with_other_resources_but_no_function_is_a_note(
    aggregate_config: Stubber,
    member_function: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    covering(aggregate_config, member_function, {MEMBER: 7, A: 12})
    code, rows = aggregate_scan()
    assert code == 0
    assert not [r for r in rows if "error" in r]
    err = capsys.readouterr().err
    assert "note: 1 account/Region(s) where AWS Config holds other resources" in err
    assert f"{A}/{REGION}" in err
    assert "not evaluated unless the recorder there records AWS::Lambda::Function" in err


@pytest.mark.parametrize(
    ("group", "problem"),
    [
        (None, "no AWS Config recorder in this Region"),
        ({"allSupported": False, "resourceTypes": ["AWS::S3::Bucket"]}, "does not record"),
        ({"allSupported": True}, None),
    ],
)
def test_with_role_the_recorder_of_a_place_without_functions_is_checked_there(
    aggregate_config: Stubber,
    member_function: dict[str, Any],
    calls: CallLog,
    group: dict[str, Any] | None,
    problem: str | None,
) -> None:
    if group is not None:
        start_recorder(A, group)
    covering(aggregate_config, member_function, {MEMBER: 7, A: 12})
    code, rows = aggregate_scan("--role-name", SCAN_ROLE)
    errors = [r for r in rows if "error" in r]
    assumed = {call["RoleArn"] for call in calls.of("sts:AssumeRole")}
    assert f"arn:aws:iam::{A}:role/{SCAN_ROLE}" in assumed
    if problem is None:
        assert (code, errors) == (0, [])
        return
    assert code == 2
    [error] = errors
    assert (error["account_id"], error["region"], error["resource"]) == (A, REGION, None)
    assert "holds other resources here but no Lambda function" in error["error"]
    assert problem in error["error"]
