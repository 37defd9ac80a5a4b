from __future__ import annotations

from pathlib import Path

from rules.registry import RULES
from rules.table import render_rules_markdown

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_readme_rule_table_is_generated_from_the_registry() -> None:
    assert render_rules_markdown(RULES) in README


def test_readme_starts_with_the_two_commands() -> None:
    head = README[: README.index("## The rules")]
    assert "make demo" in head and "make test" in head
