"""lambda-runtime-supported: AWS's dates from the one data file, an injected evaluation date."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from rules.checks.runtime_supported import (
    RULE,
    RUNTIME_TABLE,
    RUNTIMES_FILE,
    check_runtime_supported,
    load_runtime_table,
)
from rules.errors import InvalidParameterError
from rules.model import Compliance
from rules.parameters import parse_parameters
from tests.factories import function

TODAY = date(2026, 11, 22)  # the day the table was taken


def verdict(runtime: str | None, raw: dict | None = None, today: date = TODAY, **fields):
    parameters = parse_parameters(RULE, raw or {}, today=today)
    return check_runtime_supported(function(runtime=runtime, **fields), parameters)


@pytest.mark.parametrize(
    ("runtime", "raw", "today", "expected", "fragment"),
    [
        ("python3.13", {}, TODAY, Compliance.COMPLIANT, "supported until 2029-06-30"),
        # Deprecated before the table was taken.
        ("python3.10", {}, TODAY, Compliance.NON_COMPLIANT, "deprecated since 2026-10-31"),
        ("nodejs20.x", {}, TODAY, Compliance.NON_COMPLIANT, "deprecated since 2026-04-30"),
        ("dotnet8", {}, TODAY, Compliance.NON_COMPLIANT, "deprecated since 2026-11-10"),
        # Long gone: AWS already blocks creation and updates.
        ("python3.6", {}, TODAY, Compliance.NON_COMPLIANT, "function updates blocked since"),
        # nodejs22.x: deprecated 2027-04-30, 159 days after TODAY.
        ("nodejs22.x", {}, TODAY, Compliance.COMPLIANT, "159 days"),
        (
            "nodejs22.x",
            {"daysBeforeDeprecation": "159"},
            TODAY,
            Compliance.NON_COMPLIANT,
            "in 159 day(s)",
        ),
        ("nodejs22.x", {"daysBeforeDeprecation": "158"}, TODAY, Compliance.COMPLIANT, "159 days"),
        # The default window (90 days) reaches it on 2027-01-30.
        ("nodejs22.x", {}, date(2027, 1, 30), Compliance.NON_COMPLIANT, "in 90 day(s)"),
        ("nodejs22.x", {}, date(2027, 1, 29), Compliance.COMPLIANT, "91 days"),
        # The deprecation day itself is deprecated; 0 days keeps only deprecated runtimes.
        (
            "nodejs22.x",
            {"daysBeforeDeprecation": "0"},
            date(2027, 4, 30),
            Compliance.NON_COMPLIANT,
            "deprecated since",
        ),
        (
            "nodejs22.x",
            {"daysBeforeDeprecation": "0"},
            date(2027, 4, 29),
            Compliance.COMPLIANT,
            "1 days",
        ),
        # The allow-list mirrors lambda-function-settings-check; a listed runtime must still live.
        (
            "python3.13",
            {"runtime": "python3.12,python3.14"},
            TODAY,
            Compliance.NON_COMPLIANT,
            "not in runtime (python3.12, python3.14)",
        ),
        (
            "python3.14",
            {"runtime": "python3.12,python3.14"},
            TODAY,
            Compliance.COMPLIANT,
            "supported",
        ),
        ("python3.10", {"runtime": "python3.10"}, TODAY, Compliance.NON_COMPLIANT, "deprecated"),
        # Not in the table: unknown, fail closed with the table's source and date.
        (
            "python3.99",
            {},
            TODAY,
            Compliance.NON_COMPLIANT,
            "not in the runtime table (taken 2026-11-22",
        ),
        ("python3.99", {"runtime": "python3.99"}, TODAY, Compliance.NON_COMPLIANT, "unknown"),
        (None, {}, TODAY, Compliance.NON_COMPLIANT, "no runtime is given"),
    ],
)
def test_verdicts(runtime, raw, today, expected, fragment) -> None:
    result = verdict(runtime, raw, today)
    assert result.compliance is expected, result.annotation
    assert fragment in result.annotation


def test_the_evaluation_date_is_injected_not_read_from_a_clock() -> None:
    # python3.12 is deprecated on 2028-10-31: the same function, two dates, two verdicts.
    assert verdict("python3.12", today=date(2026, 11, 22)).compliance is Compliance.COMPLIANT
    late = verdict("python3.12", today=date(2028, 11, 1))
    assert late.compliance is Compliance.NON_COMPLIANT
    assert "deprecated since 2028-10-31" in late.annotation


def test_image_functions_are_not_applicable() -> None:
    result = verdict(None, package_type="Image")
    assert result.compliance is Compliance.NOT_APPLICABLE
    assert "container image" in result.annotation
    # Even an image function's runtime, were a source to give one, is not judged.
    assert verdict("python3.6", package_type="Image").compliance is Compliance.NOT_APPLICABLE


def test_the_table_names_its_source_and_date() -> None:
    document = json.loads(RUNTIMES_FILE.read_text())
    assert document["source"] == "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html"
    assert document["taken"] == "2026-11-22"
    assert RUNTIME_TABLE.taken == date(2026, 11, 22)
    # The facts the verdicts above depend on, as AWS's page states them.
    assert RUNTIME_TABLE.runtimes["python3.12"].deprecation == date(2028, 10, 31)
    assert RUNTIME_TABLE.runtimes["nodejs22.x"].deprecation == date(2027, 4, 30)
    assert RUNTIME_TABLE.runtimes["dotnet8"].block_function_create == date(2027, 2, 1)
    assert "dotnet9" not in RUNTIME_TABLE.runtimes  # container-image only: no Runtime value


def test_the_table_is_the_one_data_file(tmp_path: Path) -> None:
    document = json.loads(RUNTIMES_FILE.read_text())
    document["runtimes"]["python3.13"]["deprecation"] = "2026-12-01"
    changed = tmp_path / "runtimes.json"
    changed.write_text(json.dumps(document))
    assert load_runtime_table(changed).runtimes["python3.13"].deprecation == date(2026, 12, 1)
    document["runtimes"]["python3.13"]["deprecation"] = "soon"
    changed.write_text(json.dumps(document))
    with pytest.raises(ValueError):
        load_runtime_table(changed)


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ({"daysBeforeDeprecation": "-1"}, "daysBeforeDeprecation"),
        ({"daysBeforeDeprecation": "ninety"}, "daysBeforeDeprecation"),
        ({"runtime": "Python 3.12"}, "runtime"),
    ],
)
def test_bad_parameters_are_refused(raw: dict, name: str) -> None:
    with pytest.raises(InvalidParameterError) as error:
        parse_parameters(RULE, raw)
    assert error.value.name == name


def test_runs_periodically_by_default() -> None:
    # A runtime nears its date with no configuration change: only a sweep notices.
    assert RULE.default_periodic_frequency == "TwentyFour_Hours"
