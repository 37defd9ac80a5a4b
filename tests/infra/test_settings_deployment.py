"""The deployment-mode context keys: each mode asks for what it needs, and bad ids fail the
synth with the key's name."""

from __future__ import annotations

from typing import Any

import pytest

from infra.settings import Settings, SettingsError, load_settings

ORG = {"organizationId": "o-a1b2c3d4e5", "targetOuIds": "ou-ab12-cdef3456"}


def settings(**context: Any) -> Settings:
    return load_settings(context.get)


def test_account_mode_is_the_default_and_needs_no_organization() -> None:
    loaded = settings()
    assert loaded.deployment_mode == "account"
    assert loaded.organization_id is None
    assert loaded.execution_role_name == "guardrails-member"


def test_stacksets_needs_organization_ous_and_regions() -> None:
    with pytest.raises(SettingsError, match="organizationId"):
        settings(deploymentMode="stacksets", targetRegions="eu-west-1")
    with pytest.raises(SettingsError, match="targetOuIds"):
        settings(deploymentMode="stacksets", organizationId="o-a1b2c3d4e5")
    with pytest.raises(SettingsError, match="targetRegions"):
        settings(deploymentMode="stacksets", **ORG)
    loaded = settings(deploymentMode="stacksets", targetRegions="eu-west-1,us-east-1", **ORG)
    assert loaded.target_regions == ("eu-west-1", "us-east-1")
    assert loaded.target_ou_ids == ("ou-ab12-cdef3456",)


def test_organization_mode_role_name_follows_the_prefix_unless_given() -> None:
    loaded = settings(deploymentMode="organization", ruleNamePrefix="team-a-", **ORG)
    assert loaded.execution_role_name == "team-a-member"
    named = settings(deploymentMode="organization", executionRoleName="AuditRead", **ORG)
    assert named.execution_role_name == "AuditRead"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("deploymentMode", "org"),
        ("organizationId", "o-short"),
        ("targetOuIds", "ou-123"),
        ("targetRegions", "eu-west"),
        ("targetRegions", "eu-west-1,eu-west-1"),
        ("excludedAccounts", "12345"),
        ("failureTolerancePercentage", "101"),
        ("maxConcurrentPercentage", "0"),
        ("executionRoleName", "role/with/slashes"),
        ("delegatedAdmin", "yes"),
    ],
)
def test_bad_values_name_their_key(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        settings(**{key: value})
