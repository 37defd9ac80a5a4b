"""``lambda-runtime-supported``: the runtime is not deprecated, nor about to be.

The runtimes and AWS's dates come from one data file, ``rules/data/runtimes.json``, which names
the AWS page it was taken from and when. The evaluation date is ``Parameters.today`` (the
caller's clock): the check reads none.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from rules.model import Compliance, LambdaFunction, Verdict
from rules.parameters import ParameterKind, Parameters, ParameterSpec, ValueFormat
from rules.rule import Rule, Severity

RUNTIMES_FILE = Path(__file__).resolve().parent.parent / "data" / "runtimes.json"
DEFAULT_DAYS_BEFORE_DEPRECATION = 90
IMAGE = "Image"


@dataclass(frozen=True, slots=True)
class RuntimeDates:
    deprecation: date
    block_function_create: date | None
    block_function_update: date | None


@dataclass(frozen=True, slots=True)
class RuntimeTable:
    source: str
    taken: date
    runtimes: Mapping[str, RuntimeDates]


def _date(value: Any, what: str) -> date:
    if not isinstance(value, str):
        raise ValueError(f"{what} is not an ISO date")
    return date.fromisoformat(value)


def load_runtime_table(path: Path = RUNTIMES_FILE) -> RuntimeTable:
    """The table as the data file states it; a malformed file fails at import, loudly."""
    document = json.loads(path.read_text(encoding="utf-8"))
    runtimes = {
        identifier: RuntimeDates(
            deprecation=_date(entry["deprecation"], f"{identifier}.deprecation"),
            block_function_create=(
                _date(entry["blockFunctionCreate"], identifier)
                if entry.get("blockFunctionCreate")
                else None
            ),
            block_function_update=(
                _date(entry["blockFunctionUpdate"], identifier)
                if entry.get("blockFunctionUpdate")
                else None
            ),
        )
        for identifier, entry in document["runtimes"].items()
    }
    return RuntimeTable(
        source=str(document["source"]),
        taken=_date(document["taken"], "taken"),
        runtimes=MappingProxyType(runtimes),
    )


RUNTIME_TABLE = load_runtime_table()

RUNTIME_IDENTIFIER = ValueFormat(
    re.compile(r"[a-z][a-z0-9.-]*"), "a Lambda runtime identifier like python3.13 or nodejs22.x"
)
RUNTIMES = ParameterSpec(
    "runtime",
    ParameterKind.CSV,
    "Comma-separated runtime identifiers the function may use (as AWS's "
    "lambda-function-settings-check); a listed runtime must still not be deprecated.",
    RUNTIME_IDENTIFIER,
)
DAYS_BEFORE_DEPRECATION = ParameterSpec(
    "daysBeforeDeprecation",
    ParameterKind.INTEGER,
    "A runtime this many days or fewer before AWS's deprecation date is NON_COMPLIANT "
    "already (0: only deprecated runtimes).",
    minimum=0,
    default=str(DEFAULT_DAYS_BEFORE_DEPRECATION),
)


def check_runtime_supported(function: LambdaFunction, parameters: Parameters) -> Verdict:
    """NOT_APPLICABLE for image-packaged functions (the image brings its runtime). Otherwise
    NON_COMPLIANT when the runtime is not in ``runtime`` (when set), is deprecated or within
    ``daysBeforeDeprecation`` days of it on ``parameters.today``, or is not in the runtime
    table: a runtime whose dates are unknown cannot be shown supported (fail closed; the
    annotation names the table's source and date). No runtime given for a .zip function fails
    closed too."""
    if function.package_type == IMAGE:
        return Verdict(
            Compliance.NOT_APPLICABLE, "container image function: the image brings its runtime"
        )
    runtime = function.runtime
    if not runtime:
        # Lambda requires a runtime for a .zip function: a source without one cannot show it
        # supported (fail closed).
        return Verdict(
            Compliance.NON_COMPLIANT,
            f"no runtime is given for the {function.package_type or 'Zip'} package: whether it "
            "is supported is unknown, counted as non-compliant",
        )
    today = parameters.today
    allowed = parameters.csv(RUNTIMES.name)
    if allowed is not None and runtime not in allowed:
        return Verdict(
            Compliance.NON_COMPLIANT,
            f"runtime {runtime} is not in runtime ({', '.join(allowed)})",
        )
    dates = RUNTIME_TABLE.runtimes.get(runtime)
    if dates is None:
        return Verdict(
            Compliance.NON_COMPLIANT,
            f"runtime {runtime} is not in the runtime table (taken {RUNTIME_TABLE.taken} from "
            f"{RUNTIME_TABLE.source}): whether AWS supports it is unknown, counted as "
            "non-compliant until the table lists it",
        )
    days = parameters.integer(DAYS_BEFORE_DEPRECATION.name)
    window = DEFAULT_DAYS_BEFORE_DEPRECATION if days is None else days
    left = (dates.deprecation - today).days
    if left <= 0:
        return Verdict(
            Compliance.NON_COMPLIANT,
            f"runtime {runtime} is deprecated since {dates.deprecation}{_blocks(dates, today)}",
        )
    if left <= window:
        return Verdict(
            Compliance.NON_COMPLIANT,
            f"runtime {runtime} is deprecated on {dates.deprecation}, in {left} day(s) "
            f"(daysBeforeDeprecation {window})",
        )
    return Verdict(
        Compliance.COMPLIANT,
        f"runtime {runtime} is supported until {dates.deprecation} ({left} days)",
    )


def _blocks(dates: RuntimeDates, today: date) -> str:
    """What AWS blocks already, or when it will."""
    parts = []
    for what, when in (
        ("function creation", dates.block_function_create),
        ("function updates", dates.block_function_update),
    ):
        if when is not None:
            parts.append(f"{what} {'blocked since' if when <= today else 'blocked from'} {when}")
    return f" ({'; '.join(parts)})" if parts else ""


RULE_ID = "lambda-runtime-supported"
RULE = Rule(
    id=RULE_ID,
    title="Lambda functions use a supported runtime",
    description=(
        "Checks that a .zip function's runtime is not deprecated nor within "
        "daysBeforeDeprecation days (default 90) of AWS's deprecation date (from "
        "rules/data/runtimes.json) and, when runtime is set, is listed. Image functions are "
        "NOT_APPLICABLE."
    ),
    severity=Severity.MEDIUM,
    check=check_runtime_supported,
    remediation=(
        "Move the function to a supported runtime of its language (update the code for the new "
        "version, then aws lambda update-function-configuration --runtime ...)."
    ),
    documentation_url="https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html",
    parameters=(RUNTIMES, DAYS_BEFORE_DEPRECATION),
    # A runtime nears its deprecation date with no configuration change: only a periodic
    # evaluation notices.
    default_periodic_frequency="TwentyFour_Hours",
)
