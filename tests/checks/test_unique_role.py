from __future__ import annotations

import pytest

from rules.checks.unique_role import RULE, check_unique_role
from rules.errors import InvalidInputError, UnknownFieldError
from rules.model import Compliance, LambdaFunction, RolePeers
from rules.parameters import NO_PARAMETERS, parse_parameters
from rules.role_index import with_role_peers

ROLE = "arn:aws:iam::111122223333:role/service/shared-role"
ACCOUNT = "the account and Region"


def fn(name: str, role: str | None = ROLE, peers: RolePeers | None = None) -> LambdaFunction:
    arn = f"arn:aws:lambda:us-east-1:111122223333:function:{name}"
    return LambdaFunction(name, arn, "111122223333", "us-east-1", role=role, role_peers=peers)


@pytest.mark.parametrize(
    ("peers", "parameters", "compliance", "annotation"),
    [
        (RolePeers((), ACCOUNT, True), {}, Compliance.COMPLIANT, "no other function"),
        (
            RolePeers(("b", "c", "d", "e", "f"), ACCOUNT, True),
            {},
            Compliance.NON_COMPLIANT,
            "shared-role is shared with 5 other function(s) of the account and Region: b, c, d "
            "and 2 more",
        ),
        (
            RolePeers(("b",), ACCOUNT, True),
            {"sharedRoles": "shared-role"},
            Compliance.COMPLIANT,
            "",
        ),
        (RolePeers(("b",), ACCOUNT, True), {"sharedRoles": ROLE}, Compliance.COMPLIANT, ""),
        (
            RolePeers((), "the template", False),
            {},
            Compliance.NOT_APPLICABLE,
            "compared by the periodic evaluation",
        ),
    ],
)
def test_unique_role_table(peers, parameters, compliance, annotation) -> None:
    verdict = check_unique_role(fn("a", peers=peers), parse_parameters(RULE, parameters))
    assert verdict.compliance is compliance and annotation in verdict.annotation
    assert len(verdict.annotation) <= 256


def test_without_the_inventory_view_no_verdict() -> None:
    with pytest.raises(UnknownFieldError):
        check_unique_role(fn("a"), NO_PARAMETERS)


def test_unread_functions_may_share_the_role() -> None:
    with pytest.raises(InvalidInputError, match="2 function"):
        check_unique_role(fn("a", peers=RolePeers((), ACCOUNT, True, unread=2)), NO_PARAMETERS)


def test_the_index_names_the_other_functions_of_the_same_role() -> None:
    functions = [fn("a"), fn("b", role=ROLE.upper()), fn("c", role="arn:aws:iam::1:role/other")]
    indexed = {
        f.name: f.role_peers for f in with_role_peers(functions, scope=ACCOUNT, whole_account=True)
    }
    assert indexed["a"] == RolePeers(("b",), ACCOUNT, True)
    assert indexed["c"] == RolePeers((), ACCOUNT, True)


def test_periodic_only() -> None:
    assert RULE.change_triggered is False and RULE.default_periodic_frequency
