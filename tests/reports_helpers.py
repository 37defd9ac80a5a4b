"""Evaluations from the real engine over a few hand-built functions, for the report tests."""

from __future__ import annotations

from rules.engine import evaluate_function
from rules.model import LambdaFunction
from rules.parameters import NO_PARAMETERS
from rules.policy import parse_policy
from rules.registry import RULES
from rules.reports.common import Result

ACCOUNT = "111122223333"


def function(name: str, region: str = "eu-west-1", **fields: object) -> LambdaFunction:
    arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"
    defaults: dict[str, object] = {"environment_variable_names": ()}
    defaults.update(fields)
    return LambdaFunction(name=name, arn=arn, account_id=ACCOUNT, region=region, **defaults)  # type: ignore[arg-type]


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
