"""Evaluations from the real engine over a few hand-built functions, for the report tests."""

from __future__ import annotations

from typing import Sequence

from rules.engine import evaluate_function, evaluate_item
from rules.model import (
    LAMBDA_FUNCTION,
    CodeSigning,
    ConfigurationItem,
    Evaluation,
    LambdaFunction,
    RolePeers,
)
from rules.parameters import NO_PARAMETERS
from rules.policy import parse_policy
from rules.registry import RULES
from rules.reports.common import Result
from rules.rule import Rule

ACCOUNT = "111122223333"


def function(
    name: str, region: str = "eu-west-1", account: str = ACCOUNT, **fields: object
) -> LambdaFunction:
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    # Everything a check may need known (the reports render verdicts, not reads).
    defaults: dict[str, object] = {
        "environment_variable_names": (),
        "function_urls": (),
        "code_signing": CodeSigning(None),
        "environment_secrets": (),
        "role_peers": RolePeers((), "the account and Region", True),
    }
    defaults.update(fields)
    # What the handler reads for lambda-vpc-multi-az (ec2:DescribeSubnets): one zone each.
    defaults.setdefault(
        "subnet_zones",
        {subnet: f"{region}a" for subnet in fields.get("subnet_ids", ())},  # type: ignore[attr-defined]
    )
    return LambdaFunction(name=name, arn=arn, account_id=account, region=region, **defaults)  # type: ignore[arg-type]


PUBLIC_POLICY = parse_policy(
    '{"Statement":[{"Sid":"open","Effect":"Allow","Principal":"*",'
    '"Action":"lambda:InvokeFunction","Resource":"*"}]}'
)


def sample_results() -> list[Result]:
    functions = [
        function(
            "good",
            subnet_ids=("subnet-0a1b2c3d",),
            dead_letter_target_arn=(f"arn:aws:sqs:eu-west-1:{ACCOUNT}:dlq"),
            reserved_concurrency=5,
        ),
        function(
            "<script>alert(1)</script>",
            policy=PUBLIC_POLICY,
            environment_variable_names=("SECRET",),
        ),
    ]
    return [
        Result(evaluate_function(rule, fn, NO_PARAMETERS), fn.arn)
        for fn in functions
        for rule in RULES
    ]


def organization_results(
    accounts: Sequence[str],
    regions: Sequence[str],
    per_place: int,
    rules: Sequence[Rule] = RULES,
) -> list[Result]:
    """Every rule over ``per_place`` functions in each account x Region, listed Region-major (not
    in the report's order): a public policy on every 7th function, a reserved concurrency on every
    5th, and every 11th deleted (NOT_APPLICABLE), so each compliance appears in every group."""
    results = []
    for region in regions:
        for account in accounts:
            for index in range(per_place):
                fn = function(
                    f"fn-{index:04d}",
                    region,
                    account,
                    policy=PUBLIC_POLICY if index % 7 == 0 else None,
                    reserved_concurrency=5 if index % 5 == 0 else None,
                )
                results += [Result(_evaluate(rule, fn, index % 11 == 10), fn.arn) for rule in rules]
    return results


def _evaluate(rule: Rule, fn: LambdaFunction, deleted: bool) -> Evaluation:
    if not deleted:
        return evaluate_function(rule, fn, NO_PARAMETERS)
    item = ConfigurationItem(
        resource_type=LAMBDA_FUNCTION,
        resource_id=fn.name,
        status="ResourceDeleted",
        capture_time=None,
        account_id=fn.account_id,
        region=fn.region,
        arn=fn.arn,
        function=None,
    )
    return evaluate_item(rule, item, NO_PARAMETERS)
