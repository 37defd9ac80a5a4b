"""cdk-nag 3 as a validation plugin, and acknowledgments that always carry a reason."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks
from constructs import IConstruct

AWS_SOLUTIONS = "AwsSolutions"
NIST = "NIST.800.53.R5"


def add_checks(app: cdk.App) -> None:
    """AwsSolutions and NIST 800-53 rev 5: any unacknowledged finding fails the synth."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), NIST80053R5Checks(app))


def acknowledge(
    scope: IConstruct, rule: str, finding: str | None, reason: str, *, pack: str = AWS_SOLUTIONS
) -> None:
    """Acknowledge ``pack``'s ``rule`` (e.g. ``IAM5``) on ``scope`` and below, for one
    ``finding`` (e.g. ``Resource::*``) or all of them."""
    if not reason.strip():
        raise ValueError(f"acknowledging {pack}-{rule} needs a reason")
    rule_id = f"{pack}::{pack}-{rule}" + (f"[{finding}]" if finding else "")
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))
