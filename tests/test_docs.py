"""docs/rules.md is generated from the registry and checked in: stale means a failing test."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from rules.docs import REFERENCE, main, render_reference, render_summary_table
from rules.permissions import grants_for
from rules.registry import RULES
from rules.rule import Rule

README = (Path(__file__).parent.parent / "README.md").read_text()
TEXT = render_reference(RULES)


def test_the_checked_in_reference_is_fresh() -> None:
    assert REFERENCE.read_text() == TEXT, "docs/rules.md is stale: run python -m rules.docs"


def _section(rule_id: str) -> str:
    start = TEXT.index(f"## `{rule_id}`")
    end = TEXT.find("\n## ", start + 1)
    return TEXT[start : end if end != -1 else None]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_every_rule_has_its_section_with_what_the_registry_says(rule: Rule) -> None:
    section = _section(rule.id)
    assert rule.title in section and rule.severity.value in section
    assert rule.description in section
    assert rule.remediation in section and rule.documentation_url in section
    for spec in rule.parameters:
        assert f"| `{spec.name}` | {spec.kind.value} |" in section
        assert (f"`{spec.default}`" if spec.default else "unset") in section
    for grant in grants_for(rule):
        for action in grant.actions:
            assert f"`{action}`" in section
    assert ("Exemptible: yes" if rule.exemptible else "Exemptible: no") in section
    if rule.default_periodic_frequency:
        assert rule.default_periodic_frequency in section
    assert f"| [`{rule.id}`](#{rule.id}) |" in TEXT  # the contents table


def test_a_registry_change_makes_the_reference_stale(tmp_path: Path) -> None:
    changed = replace(RULES[0], exemptible=not RULES[0].exemptible)
    assert render_reference((changed, *RULES[1:])) != TEXT
    output = tmp_path / "rules.md"
    output.write_text(render_reference((changed, *RULES[1:])))
    assert main(["--check", "--output", str(output)]) == 1
    assert main(["--output", str(output)]) == 0
    assert main(["--check", "--output", str(output)]) == 0
    assert output.read_text() == TEXT


def test_the_reference_documents_the_exemption_grammar() -> None:
    assert "rules=<rule id>[+<rule id>...] reason=<free text> [until=YYYY-MM-DD]" in TEXT
    assert "`+ - = . _ : / @`" in TEXT and "`all` is refused" in TEXT


def test_the_readme_keeps_a_short_table_linking_to_the_reference() -> None:
    assert render_summary_table(RULES) in README
    assert "(docs/rules.md)" in README
    for rule in RULES:
        assert f"(docs/rules.md#{rule.id})" in README
        # the long descriptions live in the reference, not in the README's table
        assert f"| {rule.description} |" not in README
