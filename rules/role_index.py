"""Which functions share an execution role: an index over a set of functions, pure.

The periodic sweep builds it from the inventory it has read (``rules.aws.inventory``), the
CloudFormation adapter from the template's functions; each function's model then carries its
``RolePeers``, so the unique-role check stays a pure function of one model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from rules.model import LambdaFunction, RolePeers


def with_role_peers(
    functions: Sequence[LambdaFunction], *, scope: str, whole_account: bool, unread: int = 0
) -> list[LambdaFunction]:
    """``functions`` with ``role_peers`` set: the names of the other functions of ``functions``
    whose role is the same (IAM role ARNs compare case-insensitively, as role names do)."""
    by_role: dict[str, list[str]] = defaultdict(list)
    for function in functions:
        if function.role:
            by_role[function.role.lower()].append(function.name)
    return [
        replace(
            function,
            role_peers=RolePeers(
                tuple(
                    sorted(
                        name
                        for name in by_role.get((function.role or "").lower(), ())
                        if name != function.name
                    )
                ),
                scope,
                whole_account,
                unread,
            ),
        )
        for function in functions
    ]
