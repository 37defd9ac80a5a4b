from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

EVENTS = Path(__file__).parent / "events"


def load_event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


@pytest.fixture
def compliant_item() -> dict[str, Any]:
    return load_event("lambda_ci_compliant.json")


@pytest.fixture
def noncompliant_item() -> dict[str, Any]:
    return load_event("lambda_ci_noncompliant.json")


pytest_plugins = ["tests.aws.fixtures"]


@pytest.fixture(autouse=True)
def _forget_key_managers() -> Iterator[None]:
    """The KMS key-manager cache lives as long as the process; moto's keys live one test."""
    from rules.aws.kms import KEY_MANAGERS

    KEY_MANAGERS.clear()
    yield
    KEY_MANAGERS.clear()
