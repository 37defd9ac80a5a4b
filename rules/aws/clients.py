"""AWS clients: created lazily, once per credentials, with botocore's standard/adaptive retries.

``Clients`` holds the clients of one principal (the function's own role, or a role assumed in a
member account). ``Accounts`` picks the ``Clients`` for an account during one invocation: in
organization mode it assumes the execution role there through the regional STS endpoint with a
short session, and caches the result for the invocation.

Every client names denied calls: an ``AccessDenied`` answer becomes ``AccessDeniedError`` with the
IAM action and the principal, whatever the call site.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.config import Config

from rules.aws.errors import AccessDeniedError

RETRY_MODES = ("standard", "adaptive")
DEFAULT_MAX_ATTEMPTS = 8
ASSUMED_SESSION_SECONDS = 900  # the shortest session STS grants
ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
)
# "User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: lambda:GetPolicy on ..."
DENIAL_MESSAGE = re.compile(r"User: (arn:\S+) is not authorized to perform: ([\w-]+:\w+)")


@dataclass(frozen=True, slots=True)
class ClientOptions:
    region: str
    retry_mode: str = "standard"
    max_attempts: int = DEFAULT_MAX_ATTEMPTS

    def __post_init__(self) -> None:
        if self.retry_mode not in RETRY_MODES:
            raise ValueError(f"retry mode {self.retry_mode!r} is not one of {RETRY_MODES}")

    def botocore_config(self) -> Config:
        return Config(
            retries={"mode": self.retry_mode, "max_attempts": self.max_attempts},
            connect_timeout=5,
            read_timeout=30,
        )


def new_session() -> botocore.session.Session:
    session = botocore.session.get_session()
    # AssumeRole must go to the Region's STS endpoint, never the global one.
    session.set_config_variable("sts_regional_endpoints", "regional")
    return session


class Clients:
    """The clients of one principal in one Region, each created on first use and then reused."""

    def __init__(
        self,
        session: botocore.session.Session,
        options: ClientOptions,
        *,
        credentials: dict[str, str] | None = None,
        principal: str | None = None,
        account_id: str | None = None,
    ) -> None:
        self.session = session
        self.options = options
        self.region = options.region
        self.account_id = account_id
        self.principal = principal or _own_principal()
        self._credentials = credentials or {}
        self._clients: dict[str, Any] = {}
        self._config = options.botocore_config()

    def client(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is None:
            client = self.session.create_client(
                service, region_name=self.region, config=self._config, **self._credentials
            )
            client.meta.events.register("after-call.*.*", self._name_denial)
            self._clients[service] = client
        return client

    @property
    def partition(self) -> str:
        return str(self.session.get_partition_for_region(self.region))

    def _name_denial(self, parsed: Any, model: Any, **_: Any) -> None:
        error = parsed.get("Error") if isinstance(parsed, dict) else None
        if not error or error.get("Code") not in ACCESS_DENIED_CODES:
            return
        message = str(error.get("Message", ""))
        action = f"{model.service_model.signing_name}:{model.name}"
        principal = self.principal
        stated = DENIAL_MESSAGE.search(message)
        if stated:
            principal, action = stated.group(1), stated.group(2)
        raise AccessDeniedError(action, principal, message)


def _own_principal() -> str:
    function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
    return f"the execution role of Lambda function {function}" if function else "the caller"


class Accounts:
    """The ``Clients`` for each account during one invocation (organization mode assumes a role)."""

    def __init__(self, own: Clients, session_name: str) -> None:
        self.own = own
        self.session_name = _session_name(session_name)
        self._assumed: dict[str, Clients] = {}

    def clients_for(self, role_arn: str | None) -> Clients:
        """``own`` without a role; otherwise the role's clients, assumed once per invocation."""
        if role_arn is None:
            return self.own
        clients = self._assumed.get(role_arn)
        if clients is None:
            response = self.own.client("sts").assume_role(
                RoleArn=role_arn,
                RoleSessionName=self.session_name,
                DurationSeconds=ASSUMED_SESSION_SECONDS,
            )
            credentials = response["Credentials"]
            clients = Clients(
                self.own.session,
                self.own.options,
                credentials={
                    "aws_access_key_id": credentials["AccessKeyId"],
                    "aws_secret_access_key": credentials["SecretAccessKey"],
                    "aws_session_token": credentials["SessionToken"],
                },
                principal=role_arn,
                account_id=role_arn.split(":")[4],
            )
            self._assumed[role_arn] = clients
        return clients


def role_arn(partition: str, account_id: str, role_name: str) -> str:
    """The ARN of ``role_name`` (a name or ``path/name``) in ``account_id``."""
    return f"arn:{partition}:iam::{account_id}:role/{role_name.strip('/')}"


def is_service_linked_role(arn: str) -> bool:
    return ":role/aws-service-role/" in arn


def _session_name(name: str) -> str:
    cleaned = re.sub(r"[^\w+=,.@-]", "-", name)[:64]
    return cleaned if len(cleaned) >= 2 else "lambda-guardrails"
