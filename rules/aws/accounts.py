"""The accounts of an organization and a role's sessions in them, for ``scan`` at organization
scale.

- ``active_accounts`` / ``accounts_under_ou``: ``organizations:ListAccounts``, or the accounts
  under an OU and its child OUs (``ListAccountsForParent`` + ``ListOrganizationalUnitsForParent``),
  keeping only ACTIVE ones. The account's ``State`` is read (AWS retires ``Status`` on
  2026-09-09); ``Status`` is read only from a response that has no ``State``.
- ``MemberSessions``: one ``AssumeRole`` per account and Region through that Region's STS
  endpoint, 900 s sessions (the shortest STS grants), a ``RoleSessionName`` naming the scan;
  reused for the rest of the scan and assumed again before they expire (botocore's
  ``RefreshableCredentials``: a scan of hundreds of accounts outlasts 900 s). A role that cannot
  be assumed raises ``RoleUnavailableError`` with STS's cause, also from a refresh.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError

from rules.aws.clients import ASSUMED_SESSION_SECONDS, ClientOptions, Clients, role_arn
from rules.aws.errors import AccessDeniedError
from rules.errors import GuardrailsError

ACCOUNT_ID = re.compile(r"\d{12}")
# Organizations' OU id pattern: ou-<root id part 4-32>-<8-32>.
OU_ID = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")
# Region names as AWS spells them: us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ...
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
# IAM role names (optionally with a path): letters, digits and +=,.@_- .
ROLE_NAME = re.compile(r"(/?[\w+=,.@-]+/)*[\w+=,.@-]{1,64}")
ACTIVE = "ACTIVE"
SESSION_PREFIX = "lambda-guardrails-scan"
# Assume the role again when a session has less than this left (botocore's defaults, 15 and 10
# minutes, exceed a 900 s session: every call would assume the role again). Advisory: one
# thread refreshes while the others keep signing; mandatory: every caller waits for it.
ADVISORY_REFRESH_SECONDS = 5 * 60
MANDATORY_REFRESH_SECONDS = 2 * 60

# The current time, timezone-aware (botocore compares it with STS's Expiration).
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class InvalidScanInputError(GuardrailsError):
    """An account id, OU id, Region or role name that AWS would reject."""


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    state: str


class RoleUnavailableError(GuardrailsError):
    """The scan role cannot be assumed in an account (missing role, trust or permission): the
    account gets no verdicts and is reported, never skipped silently."""

    def __init__(self, account_id: str, region: str, role: str, cause: str) -> None:
        self.account_id = account_id
        self.region = region
        self.role = role
        self.cause = cause
        super().__init__(f"cannot assume {role} (regional STS in {region}): {cause}")


def account_ids(text: str) -> tuple[str, ...]:
    """``--accounts 111122223333,444455556666``: 12-digit ids, each once, in order."""
    ids = [part.strip() for part in text.split(",") if part.strip()]
    if not ids:
        raise InvalidScanInputError("--accounts names no account")
    bad = [value for value in ids if not ACCOUNT_ID.fullmatch(value)]
    if bad:
        raise InvalidScanInputError(
            f"not an AWS account id (12 digits): {', '.join(repr(b) for b in bad)}"
        )
    return tuple(dict.fromkeys(ids))


def ou_id(text: str) -> str:
    value = text.strip()
    if not OU_ID.fullmatch(value):
        raise InvalidScanInputError(f"not an organizational unit id (ou-xxxx-xxxxxxxx): {text!r}")
    return value


def region_names(values: Iterable[str]) -> tuple[str, ...]:
    """Region names from repeated / comma-separated options, each once, in order."""
    names = [part.strip() for value in values for part in value.split(",") if part.strip()]
    bad = [name for name in names if not REGION.fullmatch(name)]
    if bad:
        raise InvalidScanInputError(
            f"not a Region name (like us-east-1): {', '.join(repr(b) for b in bad)}"
        )
    return tuple(dict.fromkeys(names))


def role_name(text: str) -> str:
    if not ROLE_NAME.fullmatch(text):
        raise InvalidScanInputError(f"not an IAM role name (or path/name): {text!r}")
    return text


def account_state(account: dict[str, Any]) -> str:
    """``State`` (PENDING_ACTIVATION, ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED); the retired
    ``Status`` only when a response has no ``State``."""
    state = account.get("State") or account.get("Status")
    if not isinstance(state, str) or not state:
        raise GuardrailsError(f"account {account.get('Id', '?')}: Organizations gave no State")
    return state


def _accounts(pages: Iterable[dict[str, Any]]) -> list[Account]:
    return [
        Account(str(raw["Id"]), str(raw.get("Name") or ""), account_state(raw))
        for page in pages
        for raw in page.get("Accounts", [])
    ]


def active_accounts(organizations: Any) -> tuple[Account, ...]:
    """Every ACTIVE account of the organization (``ListAccounts``, every page)."""
    accounts = _accounts(organizations.get_paginator("list_accounts").paginate())
    return tuple(account for account in accounts if account.state == ACTIVE)


def accounts_under_ou(organizations: Any, ou: str) -> tuple[Account, ...]:
    """ACTIVE accounts directly in ``ou`` or in any OU below it (breadth first)."""
    found: list[Account] = []
    pending = [ou]
    seen: set[str] = set()
    while pending:
        parent = pending.pop(0)
        if parent in seen:
            continue
        seen.add(parent)
        found += _accounts(
            organizations.get_paginator("list_accounts_for_parent").paginate(ParentId=parent)
        )
        pending += [
            str(child["Id"])
            for page in organizations.get_paginator(
                "list_organizational_units_for_parent"
            ).paginate(ParentId=parent)
            for child in page.get("OrganizationalUnits", [])
        ]
    return tuple(account for account in found if account.state == ACTIVE)


def session_name(now: datetime | None = None) -> str:
    """``lambda-guardrails-scan-20261122T235959Z``: CloudTrail in the member account shows
    which scan used the role."""
    moment = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{SESSION_PREFIX}-{moment}"


class MemberSessions:
    """The scan role's ``Clients`` per account and Region, assumed once each and reused.

    ``own`` returns the caller's ``Clients`` for a Region: AssumeRole goes to that Region's
    STS endpoint. Thread-safe: a parallel scan asks from many threads."""

    def __init__(
        self,
        own: Callable[[str], Clients],
        role: str,
        name: str,
        *,
        clock: Clock = _now,
    ) -> None:
        self._own = own
        self.role = role
        self.session_name = name
        self._clock = clock
        self._clients: dict[tuple[str, str], Clients] = {}
        # A role that could not be assumed is asked once: every later ask gets the same error.
        self._failed: dict[tuple[str, str], RoleUnavailableError] = {}
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], threading.Lock] = {}

    def clients(self, account_id: str, region: str) -> Clients:
        key = (account_id, region)
        with self._lock:
            found = self._clients.get(key)
            if found is not None:
                return found
            lock = self._pending.setdefault(key, threading.Lock())
        with lock:  # one AssumeRole per key even when two threads ask at once
            with self._lock:
                found = self._clients.get(key)
                failed = self._failed.get(key)
            if failed is not None:
                raise failed
            if found is None:
                try:
                    found = self._assume(account_id, region)
                except RoleUnavailableError as error:
                    with self._lock:
                        self._failed[key] = error
                    raise
                with self._lock:
                    self._clients[key] = found
            return found

    @property
    def assumed(self) -> int:
        """How many sessions were assumed (one per account and Region at most)."""
        with self._lock:
            return len(self._clients)

    def _assume(self, account_id: str, region: str) -> Clients:
        own = self._own(region)
        arn = role_arn(own.partition, account_id, self.role)
        sts = own.client("sts")

        def fetch() -> dict[str, str]:
            """A new session's credentials in botocore's metadata shape (also its refresh)."""
            try:
                response = sts.assume_role(
                    RoleArn=arn,
                    RoleSessionName=self.session_name,
                    DurationSeconds=ASSUMED_SESSION_SECONDS,
                )
            except AccessDeniedError as error:
                raise RoleUnavailableError(account_id, region, arn, error.aws_message) from None
            except ClientError as error:
                raise RoleUnavailableError(account_id, region, arn, _describe(error)) from None
            except BotoCoreError as error:
                raise RoleUnavailableError(account_id, region, arn, str(error)) from None
            credentials = response["Credentials"]
            return {
                "access_key": credentials["AccessKeyId"],
                "secret_key": credentials["SecretAccessKey"],
                "token": credentials["SessionToken"],
                "expiry_time": _expiry(credentials["Expiration"]),
            }

        first = fetch()  # now: a role that cannot be assumed fails here, not on a later call
        credentials = RefreshableCredentials(
            first["access_key"],
            first["secret_key"],
            first["token"],
            datetime.fromisoformat(first["expiry_time"]),
            fetch,
            "assume-role",
            time_fetcher=self._clock,
            advisory_timeout=ADVISORY_REFRESH_SECONDS,
            mandatory_timeout=MANDATORY_REFRESH_SECONDS,
        )
        return Clients(
            _session_with(own.session, credentials),
            ClientOptions(region, own.options.retry_mode, own.options.max_attempts),
            principal=arn,
            account_id=account_id,
        )


def _expiry(value: Any) -> str:
    """STS's Expiration (a datetime from botocore) as the ISO text botocore's metadata takes."""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _session_with(session: Any, credentials: RefreshableCredentials) -> Any:
    """``session`` (its endpoint, config, event hooks and loaded service models shared) whose
    clients sign with ``credentials``. botocore's ``create_client`` only takes static keys, which
    would expire with the 900 s session; a client created without keys asks the session, so
    the copy holds the refreshable credentials instead."""
    assumed = copy.copy(session)
    assumed._credentials = credentials
    return assumed


def _describe(error: ClientError) -> str:
    details = error.response.get("Error", {})
    code, message = details.get("Code", "?"), details.get("Message", "")
    return f"{code}: {message}" if message else str(code)


def places(accounts: Sequence[str], regions: Sequence[str]) -> list[tuple[str, str]]:
    """Every (account, Region) pair a fan-out scans, accounts first."""
    return [(account, region) for account in accounts for region in regions]
