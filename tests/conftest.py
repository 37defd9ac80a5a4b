from __future__ import annotations

import json
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
