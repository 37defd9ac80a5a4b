"""One moto_server (with the DLQ patch) on a free 127.0.0.1 port for the whole session.

Tests that need a clean account reset it (``POST /moto-api/reset``) and seed it again."""

from __future__ import annotations

from typing import Iterator

import boto3
import pytest

from demo.seed import SeededAccount, retire, seed
from demo.server import MotoServer, pointed_at


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with MotoServer() as server, pointed_at(server):
        yield server


@pytest.fixture(scope="session")
def session(moto_server: MotoServer) -> boto3.Session:
    return boto3.Session(region_name="us-east-1")


@pytest.fixture
def seeded(moto_server: MotoServer, session: boto3.Session) -> SeededAccount:
    moto_server.reset()
    account = seed(session, endpoint_url=moto_server.url)
    retire(session, account, endpoint_url=moto_server.url)
    return account


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)
