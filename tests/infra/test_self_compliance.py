"""The stack's own functions, read back from the synthesized template by the engine's
CloudFormation adapter, pass the rules they deploy."""

from __future__ import annotations

import json

from rules.adapters.cloudformation import functions_from_template
from rules.model import Compliance
from rules.parameters import NO_PARAMETERS, Parameters, parse_parameters
from rules.registry import DEFAULT_RULES, RULES, get_rule
from tests.infra.conftest import Synth
from tests.infra.helpers import rule_resource

INSIDE_VPC = "lambda-inside-vpc"


def verdicts(synth: Synth) -> dict[tuple[str, str], Compliance]:
    template = json.loads(next(synth.outdir.glob("*.template.json")).read_text())
    functions = functions_from_template(template)
    assert functions, "no functions read from the template"
    return {
        (name, rule.id): rule.check(function, NO_PARAMETERS).compliance
        for name, function in functions.items()
        for rule in RULES
    }


MULTI_AZ = "lambda-vpc-multi-az"
# Off by default, and not met by our own functions: the CDK asset is not signed (AWS Signer
# needs a signing profile the deployer owns). Pinned so a change is seen.
CODE_SIGNING = "lambda-code-signing-enforced"
# A template holds only some of the account's functions: a role no other function of it uses
# may be used elsewhere, so the synth-time verdict is NOT_APPLICABLE (the sweep decides).
UNIQUE_ROLE = "lambda-unique-execution-role"
AT_SYNTH = {CODE_SIGNING: Compliance.NON_COMPLIANT, UNIQUE_ROLE: Compliance.NOT_APPLICABLE}


def test_default_stack_passes_every_rule_but_inside_vpc(default_synth: Synth) -> None:
    results = verdicts(default_synth)
    # Every rule (lambda-tagged too: the stack tags its resources) on each deployed function.
    assert len(results) == len(DEFAULT_RULES) * len(RULES)
    for (name, rule_id), compliance in results.items():
        expected = {
            **AT_SYNTH,
            INSIDE_VPC: Compliance.NON_COMPLIANT,
            MULTI_AZ: Compliance.NOT_APPLICABLE,  # outside a VPC
        }.get(rule_id, Compliance.COMPLIANT)
        assert compliance is expected, (name, rule_id)


def test_stack_with_subnets_passes_every_rule(full_synth: Synth) -> None:
    results = verdicts(full_synth)
    # The context gives subnets by id: their zones are known only to ec2:DescribeSubnets, so at
    # synth time lambda-vpc-multi-az cannot count them (the deployed rule reads them).
    zones = {key: value for key, value in results.items() if key[1] == MULTI_AZ}
    assert set(zones.values()) == {Compliance.NON_COMPLIANT}
    for (name, rule_id), compliance in results.items():
        if rule_id != MULTI_AZ:
            assert compliance is AT_SYNTH.get(rule_id, Compliance.COMPLIANT), (name, rule_id)
    # The deployed parameters hold too: its subnets are the allowed ones.
    rule = get_rule(INSIDE_VPC)
    template = json.loads(next(full_synth.outdir.glob("*.template.json")).read_text())
    for function in functions_from_template(template).values():
        assert rule.check(function, parameters_of(full_synth, INSIDE_VPC)).compliance is (
            Compliance.COMPLIANT
        )


def parameters_of(synth: Synth, rule_id: str) -> Parameters:
    _, config_rule = rule_resource(synth.resources, rule_id, "Rule")
    return parse_parameters(get_rule(rule_id), config_rule["Properties"]["InputParameters"])
