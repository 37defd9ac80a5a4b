from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from rules.aws.clients import Clients
from rules.aws.inventory import history_item, read_functions, recorder_records_lambda
from rules.registry import get_rule
from tests.aws.fixtures import CallLog, create_function, setup_clients
from tests.test_handler_sweep import _recorded

CONCURRENCY = get_rule("lambda-concurrency-check")
PUBLIC = get_rule("lambda-function-public-access-prohibited")
LAMBDA = "AWS::Lambda::Function"


@pytest.mark.parametrize(
    ("group", "records"),
    [
        ({"allSupported": True}, True),
        ({"allSupported": False, "resourceTypes": [LAMBDA]}, True),
        ({"allSupported": False, "resourceTypes": ["AWS::S3::Bucket"]}, False),
        (
            {
                "allSupported": False,
                "exclusionByResourceTypes": {"resourceTypes": [LAMBDA]},
                "recordingStrategy": {"useOnly": "EXCLUSION_BY_RESOURCE_TYPES"},
            },
            False,
        ),
        (
            {
                "allSupported": False,
                "exclusionByResourceTypes": {"resourceTypes": ["AWS::S3::Bucket"]},
                "recordingStrategy": {"useOnly": "EXCLUSION_BY_RESOURCE_TYPES"},
            },
            True,
        ),
    ],
)
def test_whether_the_recorder_records_lambda(
    clients: Clients, group: dict[str, Any], records: bool
) -> None:
    config = clients.client("config")
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": "arn:aws:iam::123456789012:role/config",
            "recordingGroup": group,
        }
    )
    assert recorder_records_lambda(config) is records


def test_no_recorder_records_nothing(clients: Clients) -> None:
    assert recorder_records_lambda(clients.client("config")) is False


def test_the_lambda_api_fallback_reads_only_what_the_rules_need(
    clients: Clients, calls: CallLog
) -> None:
    create_function("a")
    create_function("b")
    setup_clients()["lambda"].put_function_concurrency(
        FunctionName="a", ReservedConcurrentExecutions=7
    )
    progress: list[tuple[int, int | None]] = []
    inventory = read_functions(
        clients, [CONCURRENCY], progress=lambda done, total: progress.append((done, total))
    )
    assert inventory.source == "lambda"
    assert {f.name: f.reserved_concurrency for f in inventory.functions} == {"a": 7, "b": None}
    assert all(f.environment_variable_names == () for f in inventory.functions)
    counts = calls.counts()
    assert counts["lambda:GetFunctionConcurrency"] == 2
    assert "lambda:GetPolicy" not in counts
    assert progress[-1] == (2, None)


def test_unprocessed_keys_are_asked_again_and_then_reported(clients: Clients) -> None:
    config = clients.client("config")
    keys = [{"resourceType": LAMBDA, "resourceId": n} for n in ("a", "b")]
    with Stubber(config) as stub:
        stub.add_response(
            "list_discovered_resources",
            {
                "resourceIdentifiers": [
                    {"resourceType": LAMBDA, "resourceId": "a"},
                    {"resourceType": LAMBDA, "resourceId": "b"},
                ]
            },
        )
        stub.add_response(
            "batch_get_resource_config",
            {"baseConfigurationItems": [_recorded("a")], "unprocessedResourceKeys": [keys[1]]},
        )
        for _ in range(3):
            stub.add_response(
                "batch_get_resource_config",
                {"baseConfigurationItems": [], "unprocessedResourceKeys": [keys[1]]},
                {"resourceKeys": [keys[1]]},
            )
        inventory = read_functions(clients, [PUBLIC], source="config")
    assert [f.name for f in inventory.functions] == ["a"]
    assert [(p.resource_id, p.message) for p in inventory.problems] == [
        ("b", "BatchGetResourceConfig left it unprocessed")
    ]


def test_history_that_is_gone_is_none(clients: Clients) -> None:
    # moto really answers ResourceNotDiscoveredException here (it records no Lambda items).
    assert history_item(clients.client("config"), LAMBDA, "missing", None) is None
