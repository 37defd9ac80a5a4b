"""Reading a CloudFormation template file (JSON or YAML) with the line of each resource.

cfn-lint's decoder (``cfnlint.decode``, the one ``cfn-lint`` itself reads templates with) parses
both, reads YAML's short forms (``!Ref``, ``!GetAtt A.Arn``, ``!Sub``, ``!If`` ...) into their
``Fn::`` objects, refuses duplicate keys, and keeps where every key starts. It is imported only
when a template is read: the rule functions never need it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rules.errors import InvalidInputError


class TemplateReadError(InvalidInputError):
    """The file cannot be read or is no CloudFormation template; the message says why."""


@dataclass(frozen=True, slots=True)
class TemplateFile:
    path: str
    template: dict[str, Any]
    # logical id -> 1-based line where the resource's key is written
    lines: Mapping[str, int]


def read_template_file(path: str) -> TemplateFile:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise TemplateReadError(f"{path}: not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise TemplateReadError(f"{path}: cannot read: {error.strerror or error}") from None
    return parse_template(text, path)


def parse_template(text: str, path: str) -> TemplateFile:
    try:
        from cfnlint.decode import decode_str
    except ImportError:  # pragma: no cover - requirements-dev.txt pins cfn-lint
        raise TemplateReadError(
            "reading templates needs cfn-lint (pip install -r requirements-dev.txt)"
        ) from None
    if not text.strip():
        raise TemplateReadError(f"{path}: empty file")
    decoded, problems = decode_str(text)
    if problems or decoded is None:
        details = "; ".join(
            f"line {problem.linenumber}: {problem.message}" for problem in problems[:3]
        )
        raise TemplateReadError(f"{path}: not valid JSON or YAML ({details or 'no document'})")
    if not isinstance(decoded, Mapping):
        raise TemplateReadError(f"{path}: not a CloudFormation template (not an object)")
    resources = decoded.get("Resources")
    if not isinstance(resources, Mapping):
        raise TemplateReadError(f"{path}: not a CloudFormation template (no Resources object)")
    lines = {str(key): _line(key) for key in resources}
    return TemplateFile(path, _plain(decoded), lines)


def _line(key: Any) -> int:
    mark = getattr(key, "start_mark", None)
    return int(mark.line) + 1 if mark is not None else 1


def _plain(value: Any) -> Any:
    """Plain dicts, lists and scalars: the decoder's nodes subclass them, and YAML dates or
    timestamps (an unquoted ``2010-09-09``) become the text CloudFormation reads."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return json.loads(json.dumps(value, default=str))
