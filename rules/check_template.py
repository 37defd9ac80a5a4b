"""``python -m rules check-template TEMPLATE...``: the rules on CloudFormation templates.

JSON or YAML (CDK output, SAM after its transform, hand-written), read with each resource's line
(``rules.template_file``), judged by ``rules.template_eval``, written in ``scan``'s formats. Every
result keeps the template, the resource's logical id and line: in JSON lines as ``template``,
``logical_id``, ``line``; in SARIF as a real file location (the template's path relative to the
working directory, ``region.startLine`` the resource's line) so GitHub code scanning shows each
result on the template. Exit status as ``scan``'s: 2 when a template could not be judged (it is
named on stderr), else 1 when ``--fail-on`` is met, else 0.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from rules.adapters.cloudformation import UNKNOWN_REGION, StackEnvironment
from rules.errors import GuardrailsError
from rules.fail_on import add_fail_on_argument, fails
from rules.model import Compliance
from rules.parameters import Parameters
from rules.reports import TEXT_FORMATS, render
from rules.reports.common import Result
from rules.reports.jsonl import as_json
from rules.reports.sarif import render_sarif_log
from rules.rule import Rule
from rules.template_eval import UNKNOWN_LEVEL, TemplateResult, evaluate_template
from rules.template_file import TemplateFile, read_template_file

COMMAND = "check-template"
FORMAT_ALIASES = {"json": "jsonl"}
EXIT_NON_COMPLIANT = 1
EXIT_INCOMPLETE = 2
UNKNOWN_CHOICES = ("non-compliant", "unknown")
UNKNOWN_PREFIX = "UNKNOWN until deploy time: "
ACCOUNT_DIGITS = 12


def add_check_template_parser(commands: Any) -> None:
    check = commands.add_parser(
        COMMAND,
        help="evaluate the Lambda functions of CloudFormation templates (JSON or YAML)",
        description=(
            "Runs the rules on every AWS::Lambda::Function of each TEMPLATE, with the "
            "permissions, URLs, aliases and versions that target it (CDK output, SAM after its "
            "transform, hand-written; YAML short forms such as !Ref, !GetAtt and !Sub are read). "
            "A permission or URL on a function outside the template is judged on its own grant."
        ),
    )
    check.add_argument(
        "--rule",
        action="append",
        metavar="RULE_ID",
        help="rule to run; repeat for several (default: the rules on by default; 'all': "
        "every rule)",
    )
    check.add_argument("--parameters", metavar="JSON", help="rule parameters as a JSON object")
    check.add_argument(
        "--format",
        choices=(*TEXT_FORMATS, *FORMAT_ALIASES),
        help="table (default on a terminal), jsonl (default otherwise; json is the same), "
        "sarif (file and line of each resource), html, csv",
    )
    check.add_argument("--output", "-o", metavar="FILE", help="write the report there, not stdout")
    add_fail_on_argument(check)
    check.add_argument(
        "--unknown",
        choices=UNKNOWN_CHOICES,
        default="non-compliant",
        help="a verdict decided by a value known only at deploy time (a parameter, Fn::If, an "
        "imported value): non-compliant (default), or unknown (reported as UNKNOWN, which "
        "--fail-on does not count)",
    )
    check.add_argument(
        "--account",
        metavar="ID",
        help="the account the templates are deployed to (default: any, as CDK's "
        "environment-agnostic stacks)",
    )
    check.add_argument(
        "--region",
        help="the Region they are deployed to (default: any, known only at deploy time: an ARN "
        "built from AWS::Region then matches no dlqArns/kmsKeyArns entry, and a verdict it "
        "decides is named as an unresolved value)",
    )
    check.add_argument("templates", nargs="+", metavar="TEMPLATE")


@dataclass(frozen=True, slots=True)
class Located:
    """A result with where it is written."""

    template: str
    line: int
    result: TemplateResult
    unknown: bool  # reported at level UNKNOWN

    @property
    def logical_id(self) -> str:
        return self.result.logical_id

    @property
    def compliance(self) -> str:
        return UNKNOWN_LEVEL if self.unknown else self.result.evaluation.compliance.value


def run_check_template(
    args: argparse.Namespace,
    rules: Sequence[Rule],
    parameters: Mapping[str, Parameters],
    out: TextIO,
) -> int:
    if args.account is not None and not (
        len(args.account) == ACCOUNT_DIGITS and args.account.isdigit()
    ):
        return _fail(f"--account {args.account!r} is not a 12-digit account id")
    environment = StackEnvironment(account=args.account, region=args.region or UNKNOWN_REGION)
    located: list[Located] = []
    problems: list[str] = []
    for path in args.templates:
        try:
            located += _check_file(read_template_file(path), rules, parameters, environment, args)
        except GuardrailsError as error:
            message = str(error)
            problems.append(message if message.startswith(path) else f"{path}: {message}")
    fmt = FORMAT_ALIASES.get(args.format, args.format) or (
        "table" if _is_terminal(out) and not args.output else "jsonl"
    )
    document = render_document(fmt, located, problems, several=len(args.templates) > 1)
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as handle:
            handle.write(document)
        print(f"rules {COMMAND}: wrote {fmt} report to {args.output}", file=sys.stderr)
    else:
        out.write(document)
    for problem in problems:
        print(f"rules {COMMAND}: {problem}", file=sys.stderr)
    if problems:
        return EXIT_INCOMPLETE
    counted = (item.result.evaluation for item in located if not item.unknown)
    return EXIT_NON_COMPLIANT if fails(args.fail_on, counted) else 0


def _check_file(
    loaded: TemplateFile,
    rules: Sequence[Rule],
    parameters: Mapping[str, Parameters],
    environment: StackEnvironment,
    args: argparse.Namespace,
) -> list[Located]:
    results = evaluate_template(loaded.template, rules, parameters, environment)
    return [
        Located(
            loaded.path,
            loaded.lines.get(result.logical_id, 1),
            result,
            unknown=result.decided_by_unknown and args.unknown == "unknown",
        )
        for result in results
    ]


def render_document(
    fmt: str, located: Sequence[Located], problems: Sequence[str], *, several: bool
) -> str:
    """The report in ``fmt``; with ``several`` templates, rows are labelled ``file:logical id``."""
    results = [_report_result(item, several) for item in located]
    if fmt == "jsonl":
        lines = [
            {
                **as_json(result),
                "compliance": item.compliance,
                "template": item.template,
                "logical_id": item.logical_id,
                "line": item.line,
            }
            for item, result in zip(located, results, strict=True)
        ]
        lines += [{"error": problem} for problem in problems]
        return "".join(json.dumps(line) + "\n" for line in lines)
    if fmt == "sarif":
        return json.dumps(_sarif(located, results, problems), indent=2) + "\n"
    notes = [f"Templates: {', '.join(dict.fromkeys(item.template for item in located))}."]
    document = render(fmt, results, notes=[*notes, *(f"No verdict: {p}" for p in problems)])
    if fmt == "table" and problems:
        document += f"No verdict ({len(problems)}):\n" + "".join(f"  {p}\n" for p in problems)
    return document


def _report_result(item: Located, several: bool) -> Result:
    evaluation = item.result.evaluation
    label = f"{item.template}:{item.logical_id}" if several else item.logical_id
    annotation = (UNKNOWN_PREFIX if item.unknown else "") + evaluation.annotation
    return Result(replace(evaluation, resource_id=label, annotation=annotation))


def _sarif(
    located: Sequence[Located], results: Sequence[Result], problems: Sequence[str]
) -> dict[str, Any]:
    """scan's SARIF log, each result located on its template's line."""
    log = render_sarif_log(results)
    run = log["runs"][0]
    failing = [
        item for item in located if item.result.evaluation.compliance is Compliance.NON_COMPLIANT
    ]
    for item, sarif_result in zip(failing, run["results"], strict=True):
        uri = _uri(item.template)
        evaluation = item.result.evaluation
        key = f"{evaluation.rule_id}|{uri}|{item.logical_id}"
        sarif_result["locations"] = [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": {"startLine": item.line},
                },
                "logicalLocations": [
                    {
                        "name": item.logical_id,
                        "fullyQualifiedName": f"{uri}#/Resources/{item.logical_id}",
                        "kind": "resource",
                    }
                ],
            }
        ]
        sarif_result["message"] = {"text": f"{item.logical_id}: {evaluation.annotation}"}
        sarif_result["partialFingerprints"] = {
            "guardrailsTemplateResource/v1": hashlib.sha256(key.encode()).hexdigest()
        }
        properties = sarif_result["properties"]
        properties.update(logicalId=item.logical_id, compliance=item.compliance)
        if item.unknown:
            sarif_result["level"] = "note"
    run["artifacts"] = [
        {"location": {"uri": uri}} for uri in dict.fromkeys(_uri(i.template) for i in located)
    ]
    if problems:
        run["invocations"] = [
            {
                "executionSuccessful": False,
                "toolExecutionNotifications": [
                    {"level": "error", "message": {"text": problem}} for problem in problems
                ],
            }
        ]
    return log


def _uri(path: str) -> str:
    """The template's path relative to the working directory (the repository root in CI), as
    code scanning matches it to the checkout; an absolute file URI when it is outside."""
    absolute = Path(path).resolve()
    try:
        return absolute.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return absolute.as_uri()


def _fail(message: str) -> int:
    print(f"rules {COMMAND}: {message}", file=sys.stderr)
    return EXIT_INCOMPLETE


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
