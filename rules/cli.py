"""``python -m rules``: evaluate configuration items locally, and list the rules."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Mapping, Sequence, TextIO

from rules import __version__, json_text
from rules.check_template import add_check_template_parser, run_check_template
from rules.engine import evaluate_item_offline
from rules.errors import GuardrailsError
from rules.fail_on import add_fail_on_argument, fails
from rules.inputs import InputProblem, Source, read_sources
from rules.model import Evaluation
from rules.parameters import Parameters, parse_parameters
from rules.registry import ENABLED_BY_DEFAULT, RULES, RULES_BY_ID
from rules.reports.common import Result
from rules.reports.csv_export import render_csv
from rules.reports.jsonl import as_json
from rules.rule import Rule
from rules.scan_cli import add_scan_parser, run_scan
from rules.table import render_evaluations, render_rules, render_rules_markdown

EXIT_NON_COMPLIANT = 1
EXIT_INPUT_ERROR = 2
# "json" is the historical name of evaluate's output; it is JSON lines, as scan's "jsonl" is.
JSON_LINES = ("json", "jsonl")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rules", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    evaluate = commands.add_parser(
        "evaluate",
        help="evaluate configuration items or whole Config rule events from files",
        description=(
            "Each FILE holds a configuration item, a list of them, a GetResourceConfigHistory/"
            "BatchGetResourceConfig response, or a whole Config rule invoking event (its "
            "ruleParameters apply unless --parameters is given; eventLeftScope is honoured). "
            "Use - for standard input."
        ),
    )
    evaluate.add_argument(
        "--rule",
        action="append",
        required=True,
        metavar="RULE_ID",
        help="rule to run; repeat for several, or 'all' (with several rules each gets the "
        "parameters it declares)",
    )
    evaluate.add_argument("--parameters", metavar="JSON", help="rule parameters as a JSON object")
    evaluate.add_argument(
        "--format",
        choices=(*JSON_LINES, "table", "csv"),
        default="jsonl",
        help="jsonl (default; json is the same: one JSON object per line), table, or csv "
        "(with account_id and region from the item's ARN)",
    )
    add_fail_on_argument(evaluate)
    evaluate.add_argument("files", nargs="+", metavar="FILE")

    add_scan_parser(commands)
    add_check_template_parser(commands)

    listing = commands.add_parser("list", help="list the rules and their parameters")
    listing.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    return parser


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    args = build_parser().parse_args(argv)
    if args.command == "list":
        return _list(args.format, out)
    if args.command == "scan":
        return _scan(args, out)
    if args.command == "check-template":
        return _check_template(args, out)
    try:
        rules = _select_rules(args.rule)
        cli_parameters = _decode_parameters(args.parameters)
        if cli_parameters is not None:
            _parameters_for(rules, cli_parameters)  # fail before reading any file
    except (GuardrailsError, ValueError) as error:
        print(f"rules evaluate: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    failed = False
    evaluations: list[tuple[str, Evaluation]] = []
    results: list[Result] = []  # the evaluations with the item's ARN (account, Region)
    for path in args.files:
        for source in read_sources(path):
            if isinstance(source, InputProblem):
                _report(source.origin, source.message)
                failed = True
                continue
            parameters = source.rule_parameters if cli_parameters is None else cli_parameters
            for evaluation in _evaluate_source(rules, source, parameters or {}):
                if evaluation is None:
                    failed = True
                    continue
                result = Result(evaluation, source.item.arn)
                if args.format in JSON_LINES:
                    out.write(json.dumps(as_json(result)) + "\n")
                evaluations.append((source.origin, evaluation))
                results.append(result)
    out.write(_collected_output(args.format, evaluations, results))
    if failed:
        return EXIT_INPUT_ERROR
    return EXIT_NON_COMPLIANT if fails(args.fail_on, (e for _, e in evaluations)) else 0


def _collected_output(
    fmt: str, evaluations: list[tuple[str, Evaluation]], results: list[Result]
) -> str:
    """The formats written once every file is read (JSON lines stream as they come)."""
    if fmt == "table":
        return render_evaluations(_row_labels(evaluations))
    if fmt == "csv":
        return render_csv(results)
    return ""


def _scan(args: argparse.Namespace, out: TextIO) -> int:
    try:
        rules = _select_rules(args.rule or ["all"])
        parameters = _parameters_for(rules, _decode_parameters(args.parameters) or {})
    except (GuardrailsError, ValueError) as error:
        print(f"rules scan: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    return run_scan(args, rules, parameters, out)


def _check_template(args: argparse.Namespace, out: TextIO) -> int:
    try:
        rules = _select_rules(args.rule or ["all"])
        parameters = _parameters_for(rules, _decode_parameters(args.parameters) or {})
    except (GuardrailsError, ValueError) as error:
        print(f"rules check-template: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    return run_check_template(args, rules, parameters, out)


def _evaluate_source(
    rules: Sequence[Rule], source: Source, raw_parameters: Mapping[str, Any]
) -> list[Evaluation | None]:
    """One evaluation per rule; None (after reporting why) where a rule gives no verdict."""
    try:
        parameters = _parameters_for(rules, raw_parameters)
    except GuardrailsError as error:
        _report(source.origin, str(error))
        return [None]
    results: list[Evaluation | None] = []
    for rule in rules:
        try:
            results.append(
                evaluate_item_offline(
                    rule,
                    source.item,
                    parameters[rule.id],
                    event_left_scope=source.event_left_scope,
                )
            )
        except GuardrailsError as error:
            _report(source.origin, f"rule {rule.id}: {error}")
            results.append(None)
    return results


def _select_rules(rule_ids: Sequence[str]) -> list[Rule]:
    """``all`` is every rule on by default (``Rule.enabled_by_default``); a rule off by default
    runs only when named (``--rule all --rule lambda-code-signing-enforced``)."""
    if "all" in rule_ids:
        named = [RULES_BY_ID[i] for i in rule_ids if i != "all" and i in RULES_BY_ID]
        unknown_ids = [i for i in rule_ids if i != "all" and i not in RULES_BY_ID]
        if not unknown_ids:
            chosen = {rule.id for rule in (*ENABLED_BY_DEFAULT, *named)}
            return [rule for rule in RULES if rule.id in chosen]
    unknown = [rule_id for rule_id in rule_ids if rule_id not in RULES_BY_ID and rule_id != "all"]
    if unknown:
        raise ValueError(f"unknown rule {', '.join(unknown)} (known: {', '.join(RULES_BY_ID)})")
    return [RULES_BY_ID[rule_id] for rule_id in dict.fromkeys(rule_ids)]


def _decode_parameters(text: str | None) -> Mapping[str, Any] | None:
    if text is None:
        return None
    try:
        value = json_text.loads(text)
    except ValueError as error:
        raise ValueError(f"--parameters is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise ValueError("--parameters must be a JSON object")
    return value


def _parameters_for(rules: Sequence[Rule], raw: Mapping[str, Any]) -> dict[str, Parameters]:
    if len(rules) == 1:
        return {rules[0].id: parse_parameters(rules[0], raw)}
    declared = {spec.name for rule in rules for spec in rule.parameters}
    result = {}
    for rule in rules:
        own = {spec.name for spec in rule.parameters}
        # A name no selected rule declares still reaches (and fails) every rule's validation.
        result[rule.id] = parse_parameters(
            rule,
            {name: value for name, value in raw.items() if name in own or name not in declared},
        )
    return result


def _row_labels(evaluations: list[tuple[str, Evaluation]]) -> list[tuple[str, Evaluation]]:
    """Label rows by resource id, adding the file where one id comes from several files."""
    origins: dict[str, set[str]] = {}
    for origin, evaluation in evaluations:
        origins.setdefault(evaluation.resource_id, set()).add(origin)
    return [
        (e.resource_id if len(origins[e.resource_id]) == 1 else f"{e.resource_id} ({origin})", e)
        for origin, e in evaluations
    ]


def _report(origin: str, message: str) -> None:
    print(f"rules evaluate: {origin}: {message}", file=sys.stderr)


def _list(output_format: str, out: TextIO) -> int:
    if output_format == "json":
        out.write(json.dumps([rule_summary(rule) for rule in RULES], indent=2) + "\n")
    elif output_format == "markdown":
        out.write(render_rules_markdown(RULES))
    else:
        out.write(render_rules(RULES))
    return 0


def rule_summary(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "title": rule.title,
        "severity": rule.severity.value,
        "description": rule.description,
        "remediation": rule.remediation,
        "documentation_url": rule.documentation_url,
        "parameters": [
            {
                "name": spec.name,
                "type": spec.kind.value,
                "default": spec.default,
                "description": spec.description,
            }
            for spec in rule.parameters
        ],
    }
