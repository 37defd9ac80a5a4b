"""One moto_server (``demo.moto_patched``) on a free 127.0.0.1 port for the whole session.

Tests that need a clean account reset it (``POST /moto-api/reset``) and seed it again."""

from __future__ import annotations

from typing import Iterator

import boto3
import pytest

from demo.seed import SeededAccount, retire, seed
from demo.server import MotoServer, pointed_at


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture(autouse=True)
def session(moto_server: MotoServer) -> Iterator[boto3.Session]:
    """boto3 (and every client the handler creates) pointed at the server, for this test only:
    tests elsewhere use moto in-process and must not see AWS_ENDPOINT_URL."""
    with pointed_at(moto_server):
        yield boto3.Session(region_name="us-east-1")


@pytest.fixture(scope="module")
def seeded(moto_server: MotoServer) -> SeededAccount:
    """The sample account after ``retire`` (read-only: shared by the module's tests)."""
    with pointed_at(moto_server):
        moto_server.reset()
        session = boto3.Session(region_name="us-east-1")
        account = seed(session)
        retire(session, account)
    return account


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)
