"""The organization's accounts and the scan role's sessions (``rules.aws.accounts``)."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from rules.aws.accounts import (
    InvalidScanInputError,
    MemberSessions,
    RoleUnavailableError,
    account_ids,
    active_accounts,
    ou_id,
    places,
    region_names,
    session_name,
)
from rules.aws.clients import ClientOptions, Clients, new_session
from rules.cli import main
from tests.aws.fixtures import CallLog


def test_account_ids_are_12_digits_each_once() -> None:
    assert account_ids(" 111122223333,444455556666,111122223333 ") == (
        "111122223333",
        "444455556666",
    )
    for bad in ("11112222333", "1111222233334", "abc", ",", "111122223333,x"):
        with pytest.raises(InvalidScanInputError):
            account_ids(bad)


def test_ou_ids_and_region_names_are_validated() -> None:
    assert ou_id("ou-ab12-cdef3456") == "ou-ab12-cdef3456"
    for bad in ("r-ab12", "ou-", "OU-AB12-CDEF3456", "ou-ab12"):
        with pytest.raises(InvalidScanInputError):
            ou_id(bad)
    assert region_names(["us-east-1,eu-west-1", "us-east-1", "us-gov-west-1"]) == (
        "us-east-1",
        "eu-west-1",
        "us-gov-west-1",
    )
    for bad in ("useast1", "us-east", "US-EAST-1", "us-east-1; rm"):
        with pytest.raises(InvalidScanInputError):
            region_names([bad])


def test_only_active_accounts_by_state_and_status_only_without_state() -> None:
    client = botocore.session.get_session().create_client(
        "organizations", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    accounts: list[dict[str, Any]] = [
        {"Id": "111111111111", "Name": "a", "State": "ACTIVE", "Status": "ACTIVE"},
        # State says closed; the retired Status lags behind: State wins.
        {"Id": "222222222222", "Name": "b", "State": "CLOSED", "Status": "ACTIVE"},
        {"Id": "333333333333", "Name": "c", "State": "PENDING_ACTIVATION"},
        {"Id": "444444444444", "Name": "d", "Status": "ACTIVE"},  # an older answer
        {"Id": "555555555555", "Name": "e", "State": "SUSPENDED"},
    ]
    with Stubber(client) as stubber:
        stubber.add_response("list_accounts", {"Accounts": accounts[:2], "NextToken": "n"}, {})
        stubber.add_response("list_accounts", {"Accounts": accounts[2:]}, {"NextToken": "n"})
        found = active_accounts(client)
    assert [a.id for a in found] == ["111111111111", "444444444444"]


def test_session_name_identifies_the_scan() -> None:
    assert session_name(datetime(2026, 11, 22, 23, 59, 1, tzinfo=UTC)) == (
        "lambda-guardrails-scan-20261122T235901Z"
    )
    assert places(["1", "2"], ["a", "b"]) == [("1", "a"), ("1", "b"), ("2", "a"), ("2", "b")]


def test_one_session_per_account_and_region_through_that_regions_sts(
    mocked: None, calls: CallLog
) -> None:
    session = new_session()
    session.register("before-parameter-build", calls)
    endpoints: list[str] = []

    def own(region: str) -> Clients:
        clients = Clients(session, ClientOptions(region, "adaptive"))
        endpoints.append(clients.client("sts").meta.endpoint_url)
        return clients

    members = MemberSessions(own, "Scanner", "lambda-guardrails-scan-x")
    threads = [
        threading.Thread(target=members.clients, args=(account, region))
        for account in ("111122223333", "444455556666")
        for region in ("us-east-1", "eu-west-1")
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assumed = calls.of("sts:AssumeRole")
    assert len(assumed) == members.assumed == 4
    assert {a["DurationSeconds"] for a in assumed} == {900}
    assert set(endpoints) == {
        "https://sts.us-east-1.amazonaws.com",
        "https://sts.eu-west-1.amazonaws.com",
    }
    clients = members.clients("444455556666", "eu-west-1")
    assert (clients.account_id, clients.region) == ("444455556666", "eu-west-1")
    assert clients.principal == "arn:aws:iam::444455556666:role/Scanner"


class FakeClock:
    """The time MemberSessions' credentials see; tests move it forward."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def session_credentials(key: str, expiration: datetime) -> dict[str, Any]:
    return {
        "Credentials": {
            "AccessKeyId": key,
            "SecretAccessKey": "x" * 40,
            "SessionToken": f"token-{key}",
            "Expiration": expiration,
        }
    }


def test_sessions_are_assumed_again_before_they_expire_and_calls_keep_working(
    mocked: None, calls: CallLog
) -> None:
    """A scan at organization scale outlasts the 900 s sessions: the credentials are refreshed
    (one new AssumeRole, through the same regional STS) instead of failing with ExpiredToken.
    STS is stubbed so that its expirations follow the fake clock; Lambda is moto's."""
    session = new_session()
    session.register("before-parameter-build", calls)
    clock = FakeClock()
    own = Clients(session, ClientOptions("eu-west-1"))
    expected = {
        "RoleArn": "arn:aws:iam::444455556666:role/Scanner",
        "RoleSessionName": "scan-x",
        "DurationSeconds": 900,
    }
    with Stubber(own.client("sts")) as sts:
        sts.add_response(
            "assume_role",
            session_credentials("ASIAFIRST0000000000", clock.now + timedelta(seconds=900)),
            expected,
        )
        members = MemberSessions(lambda region: own, "Scanner", "scan-x", clock=clock)
        clients = members.clients("444455556666", "eu-west-1")
        lam = clients.client("lambda")
        lam.list_functions()
        clock.now += timedelta(seconds=500)  # 400 s left: no refresh yet
        lam.list_functions()
        sts.assert_no_pending_responses()
        clock.now += timedelta(seconds=320)  # 80 s left: every caller waits for a new session
        sts.add_response(
            "assume_role",
            session_credentials("ASIASECOND000000000", clock.now + timedelta(seconds=900)),
            expected,
        )
        lam.list_functions()
        lam.list_functions()
        sts.assert_no_pending_responses()
    renewed = clients.session.get_credentials().get_frozen_credentials()
    assert renewed.access_key == "ASIASECOND000000000"
    assert len(calls.of("sts:AssumeRole")) == 2
    assert len(calls.of("lambda:ListFunctions")) == 4
    # The caller's own session keeps its own credentials.
    assert not session.get_credentials().access_key.startswith(("ASIAFIRST", "ASIASECOND"))
    assert members.clients("444455556666", "eu-west-1") is clients


def test_a_refresh_that_fails_names_the_role_and_the_cause(aws_env: None) -> None:
    session = new_session()
    own = Clients(session, ClientOptions("us-east-1"))
    clock = FakeClock()
    expiry = clock.now + timedelta(seconds=900)
    with Stubber(own.client("sts")) as stubber:
        stubber.add_response("assume_role", session_credentials("ASIAFIRSTSESSION000", expiry))
        stubber.add_client_error(
            "assume_role", "AccessDenied", "the role no longer trusts the caller", 403
        )
        members = MemberSessions(lambda region: own, "Scanner", "scan-x", clock=clock)
        clients = members.clients("444455556666", "us-east-1")
        credentials = clients.session.get_credentials()
        assert credentials.get_frozen_credentials().access_key == "ASIAFIRSTSESSION000"
        clock.now = expiry - timedelta(seconds=30)
        with pytest.raises(RoleUnavailableError) as error:
            credentials.get_frozen_credentials()
        stubber.assert_no_pending_responses()
    assert "arn:aws:iam::444455556666:role/Scanner" in str(error.value)
    assert "no longer trusts the caller" in str(error.value)


def test_a_role_that_cannot_be_assumed_is_asked_once_and_names_the_cause(
    aws_env: None,
) -> None:
    session = new_session()
    sts = Clients(session, ClientOptions("us-east-1"))
    client = sts.client("sts")
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "assume_role",
            "AccessDenied",
            "User: arn:aws:sts::123456789012:assumed-role/a/b is not authorized to perform: "
            "sts:AssumeRole on resource: arn:aws:iam::444455556666:role/Scanner",
            403,
        )
        members = MemberSessions(lambda region: sts, "Scanner", "lambda-guardrails-scan-x")
        for _ in range(2):  # the second ask reuses the failure: no second AssumeRole
            with pytest.raises(RoleUnavailableError) as error:
                members.clients("444455556666", "us-east-1")
        stubber.assert_no_pending_responses()
    assert "arn:aws:iam::444455556666:role/Scanner" in str(error.value)
    assert "not authorized to perform: sts:AssumeRole" in str(error.value)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--organization"], "need --role-name"),
        (["--accounts", "12345", "--role-name", "R"], "not an AWS account id"),
        (["--ou", "r-1234", "--role-name", "R"], "not an organizational unit id"),
        (["--organization", "--role-name", "R", "--regions", "moon-1"], "not a Region name"),
        (["--organization", "--role-name", "R", "--publish"], "--publish"),
        (["--role-name", "R"], "go with --organization"),
        (["--organization", "--role-name", "R", "--parallel", "0"], "at least 1"),
    ],
)
def test_bad_organization_flags_exit_2_before_any_call(
    aws_env: None, arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    log = CallLog()
    original = botocore.session.Session.create_client

    def no_calls(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        client.meta.events.register("before-parameter-build", log)
        return client

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session.Session, "create_client", no_calls)
        assert main(["scan", "--region", "us-east-1", *arguments], io.StringIO()) == 2
    assert message in capsys.readouterr().err
    assert log.calls == []


def test_help_documents_the_organization_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["scan", "--help"], io.StringIO())
    text = capsys.readouterr().out
    for flag in (
        "--aggregator",
        "--organization",
        "--accounts",
        "--ou",
        "--regions",
        "--role-name",
        "--parallel",
    ):
        assert flag in text


def test_one_progress_bar_covers_the_whole_fan_out(
    mocked: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rules.scan_fleet_cli
    from rules.progress import Progress

    bars: list[Progress] = []

    class Recorded(Progress):
        def __init__(self, total: int, label: str = "", **kwargs: Any) -> None:
            super().__init__(total, label, enabled=False)
            bars.append(self)

    monkeypatch.setattr(rules.scan_fleet_cli, "Progress", Recorded)
    argv = [
        "scan",
        "--accounts",
        "111122223333,444455556666",
        "--role-name",
        "R",
        "--regions",
        "us-east-1,eu-west-1",
        "--source",
        "lambda",
    ]
    assert main(argv, io.StringIO()) == 0
    [bar] = bars
    assert (bar.done, bar.total) == (4, 4)
    assert bar.label.startswith("2 account(s) x 2 Region(s)")
