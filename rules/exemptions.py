"""Exemptions: a function's own, reviewed waiver of named rules, written in one tag.

The tag (key ``guardrails:exempt`` unless the deployment names another) holds::

    rules=<rule id>[+<rule id>...] reason=<free text> [until=YYYY-MM-DD]

for example ``rules=lambda-inside-vpc+lambda-dlq-check reason=public webhook behind WAF
until=2027-01-31``. Lambda tag values allow only letters, digits, spaces and ``+ - = . _ : / @``
(no ``,`` or ``;``), at most 256 characters, so the grammar uses nothing else:

- fields are ``name=value``; a field starts at the beginning of the value or after a space, and
  runs to the next field. Names are ``rules``, ``reason`` and ``until``, in any order, each at
  most once, case-insensitive. ``rules`` and ``reason`` are required; nothing may come before
  the first field. A reason therefore cannot contain `` rules=``, `` reason=`` or `` until=``.
- ``rules``: rule ids of the registry joined by ``+`` (case-insensitive, each once). ``all`` is
  refused on purpose: an exemption is a reviewed acceptance of named risks, and a blanket one
  would silently cover every rule added later (a secrets rule, say) that no one reviewed.
- ``reason``: free text, required, kept as written (spaces collapsed).
- ``until``: an ISO date; the exemption holds through that day (UTC) and is ignored after it.
  Without ``until`` it does not expire.

An exemption that is malformed or names an unknown rule is ignored as a whole (every rule
evaluates normally and its annotation says why); an expired one is ignored for the rules it
names. A rule may refuse exemptions (``Rule.exemptible``) and a deployment may refuse them for
chosen rules (``exemptionsDisabled``): then the annotation says the exemption is not honoured.

``exemption_for`` is the one decision: the handler, the engine and the remediation runbooks ask
it. Pure: the caller gives the date.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from rules.registry import RULES_BY_ID

DEFAULT_TAG_KEY = "guardrails:exempt"
# Lambda's limit on a tag value; a longer value cannot come from Lambda but may come from a
# template or a hand-made item, and is refused the same way.
MAX_LENGTH = 256
# Letters and digits of any script, spaces, and + - = . _ : / @ (AWS's tag value alphabet).
ALLOWED = re.compile(r"[\w +\-=.:/@]*")
FIELD = re.compile(r"(?:^| )(rules|reason|until)=", re.IGNORECASE)
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
RULE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
EXAMPLE = (
    "rules=lambda-inside-vpc+lambda-dlq-check reason=public webhook behind WAF until=2027-01-31"
)


def tag_key_problem(key: str) -> str | None:
    """Why ``key`` cannot be a Lambda tag key (1-128 characters of the tag alphabet, not
    ``aws:``, which AWS reserves); None when it can."""
    if not 1 <= len(key) <= 128:
        return "a tag key has 1 to 128 characters"
    if not ALLOWED.fullmatch(key):
        return "a tag key has letters, digits, spaces and + - = . _ : / @ only"
    if key.lower().startswith("aws:"):
        return "the aws: prefix is reserved for AWS's own tags"
    return None


class ExemptionError(ValueError):
    """A tag value that is not an exemption; the message says what is wrong and how to fix it."""


@dataclass(frozen=True, slots=True)
class Exemption:
    rule_ids: tuple[str, ...]
    reason: str
    until: date | None = None

    def expired(self, today: date) -> bool:
        return self.until is not None and today > self.until

    @property
    def summary(self) -> str:
        """The reason and the expiry, as annotations and notes show them."""
        expiry = f"until {self.until.isoformat()}" if self.until else "no expiry"
        return f"{self.reason} ({expiry})"


class Status(enum.StrEnum):
    NONE = "none"  # no tag, or a valid tag that does not name the rule
    HONOURED = "honoured"
    EXPIRED = "expired"
    INVALID = "invalid"  # malformed, or names a rule the registry does not have
    NOT_EXEMPTIBLE = "not exemptible"  # the rule never accepts exemptions
    DISABLED = "disabled"  # the deployment refuses exemptions of this rule (exemptionsDisabled)


@dataclass(frozen=True, slots=True)
class Decision:
    rule_id: str
    status: Status
    tag_key: str
    exemption: Exemption | None = None
    problem: str | None = None  # for INVALID: what is wrong with the tag

    @property
    def exempt(self) -> bool:
        """The rule must not judge (nor remediate) the function."""
        return self.status is Status.HONOURED

    @property
    def note(self) -> str | None:
        """What an annotation says about the exemption; None when there is nothing to say."""
        if self.status is Status.NONE:
            return None
        if self.status is Status.HONOURED and self.exemption is not None:
            return f"exempted by tag {self.tag_key}: {self.exemption.summary}"
        if self.status is Status.EXPIRED and self.exemption and self.exemption.until:
            return f"exemption ignored: expired {self.exemption.until.isoformat()}"
        if self.status is Status.INVALID:
            return f"exemption ignored: tag {self.tag_key}: {self.problem}"
        if self.status is Status.NOT_EXEMPTIBLE:
            return f"exemption not honoured: rule {self.rule_id} does not accept exemptions"
        return (
            f"exemption not honoured: exemptions of {self.rule_id} are disabled by policy "
            "(exemptionsDisabled)"
        )


@dataclass(frozen=True, slots=True)
class ExemptionPolicy:
    """How a deployment honours exemptions: the tag key, the rules whose exemptions it
    refuses, and the date (UTC) expiries are judged at."""

    today: date
    key: str = DEFAULT_TAG_KEY
    disabled: frozenset[str] = frozenset()

    def decide(self, tags: Mapping[str, str], rule_id: str) -> Decision:
        return exemption_for(tags, rule_id, today=self.today, key=self.key, disabled=self.disabled)


def parse_exemption(value: str, known_rules: Mapping[str, object] = RULES_BY_ID) -> Exemption:
    """The exemption ``value`` (a tag value) describes; ``ExemptionError`` says why not."""
    if not value.strip():
        raise ExemptionError(f"the value is empty; expected e.g. '{EXAMPLE}'")
    if len(value) > MAX_LENGTH:
        raise ExemptionError(
            f"the value has {len(value)} characters; a Lambda tag value has at most {MAX_LENGTH}"
        )
    if not ALLOWED.fullmatch(value):
        bad = sorted({char for char in value if not ALLOWED.fullmatch(char)})
        shown = " ".join(repr(char) for char in bad)
        raise ExemptionError(
            f"{shown} not allowed in a Lambda tag value (letters, digits, spaces and "
            f"+ - = . _ : / @ only): write e.g. '{EXAMPLE}'"
        )
    fields = _fields(value)
    if "rules" not in fields:
        raise ExemptionError("no rules= field (rule ids joined by +)")
    if "reason" not in fields:
        raise ExemptionError("no reason= field: an exemption must say why")
    reason = " ".join(fields["reason"].split())
    if not reason:
        raise ExemptionError("reason= is empty: an exemption must say why")
    return Exemption(
        _rule_ids(fields["rules"], known_rules),
        reason,
        _until(fields["until"]) if "until" in fields else None,
    )


def exemption_for(
    tags: Mapping[str, str],
    rule_id: str,
    *,
    today: date,
    key: str = DEFAULT_TAG_KEY,
    disabled: frozenset[str] = frozenset(),
) -> Decision:
    """Whether the function with ``tags`` is exempt from ``rule_id`` on ``today`` (UTC), and
    what to say about it. ``disabled`` are the rule ids whose exemptions the deployment refuses.
    The remediation runbooks must skip the function exactly when ``.exempt``."""
    value = tags.get(key)
    if value is None:
        return Decision(rule_id, Status.NONE, key)
    try:
        exemption = parse_exemption(value)
    except ExemptionError as error:
        return Decision(rule_id, Status.INVALID, key, problem=str(error))
    if rule_id not in exemption.rule_ids:
        return Decision(rule_id, Status.NONE, key, exemption)
    rule = RULES_BY_ID.get(rule_id)
    if rule is not None and not rule.exemptible:
        return Decision(rule_id, Status.NOT_EXEMPTIBLE, key, exemption)
    if rule_id in disabled:
        return Decision(rule_id, Status.DISABLED, key, exemption)
    if exemption.expired(today):
        return Decision(rule_id, Status.EXPIRED, key, exemption)
    return Decision(rule_id, Status.HONOURED, key, exemption)


def _fields(value: str) -> dict[str, str]:
    matches = list(FIELD.finditer(value))
    if not matches:
        raise ExemptionError(f"no rules=, reason= or until= field; expected e.g. '{EXAMPLE}'")
    lead = value[: matches[0].start()].strip()
    if lead:
        raise ExemptionError(f"'{lead}' comes before the first field; start with rules=")
    fields: dict[str, str] = {}
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        name = match.group(1).lower()
        if name in fields:
            raise ExemptionError(f"{name}= is given twice")
        end = following.start() if following else len(value)
        fields[name] = value[match.end() : end].strip()
    return fields


def _rule_ids(text: str, known_rules: Mapping[str, object]) -> tuple[str, ...]:
    parts = [part.strip().lower() for part in text.split("+")]
    if not text or any(not part for part in parts):
        raise ExemptionError(f"rules= '{text}' has an empty rule id (join ids with + only)")
    ids: list[str] = []
    for part in parts:
        if part == "all":
            raise ExemptionError(
                "rules=all is not accepted: name each rule, so a rule added later is never "
                "exempted by an old tag"
            )
        if not RULE_ID.fullmatch(part) or part not in known_rules:
            raise ExemptionError(f"unknown rule '{part}'")
        if part in ids:
            raise ExemptionError(f"rules= names {part} twice")
        ids.append(part)
    return tuple(ids)


def _until(text: str) -> date:
    if not DATE.fullmatch(text):
        raise ExemptionError(f"until= '{text}' is not a date YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ExemptionError(f"until= '{text}' is not a calendar date") from None
