"""Errors of the AWS edge. Each one fails the invocation loudly: nothing is dropped silently."""

from __future__ import annotations

from dataclasses import dataclass

from rules.errors import GuardrailsError


class AccessDeniedError(GuardrailsError):
    """An AWS call was denied: names the IAM action that is missing and the principal lacking it."""

    def __init__(self, action: str, principal: str, message: str) -> None:
        self.action = action
        self.principal = principal
        self.aws_message = message
        super().__init__(
            f"access denied: {principal} is missing permission {action} "
            f"(add it to the role; rules/permissions.py lists what each rule needs). AWS said: "
            f"{message}"
        )


class ReadError(GuardrailsError):
    """An AWS read a verdict depends on failed (after botocore's retries): no verdict for that
    resource, never a default value."""


@dataclass(frozen=True, slots=True)
class Failure:
    """One evaluation or finding AWS did not accept, after the retries."""

    id: str
    code: str
    message: str


class PublishError(GuardrailsError):
    """Some evaluations or findings were still rejected after the retries."""

    def __init__(self, what: str, failures: tuple[Failure, ...], accepted: int) -> None:
        self.what = what
        self.failures = failures
        self.accepted = accepted
        shown = "; ".join(f"{f.id}: {f.code} {f.message}" for f in failures[:5])
        more = f" (+{len(failures) - 5} more)" if len(failures) > 5 else ""
        super().__init__(
            f"{len(failures)} {what} rejected after retries ({accepted} accepted): {shown}{more}"
        )


class IncompleteEvaluationError(GuardrailsError):
    """Some resources got no verdict (unreadable input). The others were published; the
    invocation still fails so the event is retried / kept in the DLQ."""

    def __init__(self, problems: tuple[tuple[str, str], ...]) -> None:
        self.problems = problems
        shown = "; ".join(f"{resource}: {message}" for resource, message in problems[:5])
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{len(problems)} resource(s) got no verdict: {shown}{more}")
