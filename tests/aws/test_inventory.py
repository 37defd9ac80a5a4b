from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from rules.aws.clients import Clients
from rules.aws.inventory import (
    RecorderHealth,
    UnhealthyRecorderError,
    history_item,
    read_functions,
    recorder_health,
)
from rules.errors import GuardrailsError
from rules.registry import get_rule
from tests.aws.fixtures import CallLog, create_function, setup_clients
from tests.test_handler_sweep import _recorded

CONCURRENCY = get_rule("lambda-concurrency-check")
PUBLIC = get_rule("lambda-function-public-access-prohibited")
LAMBDA = "AWS::Lambda::Function"


ROLE = "arn:aws:iam::123456789012:role/config"


def recorder(name: str = "default", **fields: Any) -> dict[str, Any]:
    """A DescribeConfigurationRecorders entry (AWS's shape; recordingGroup all supported)."""
    return {"name": name, "roleARN": ROLE, "recordingGroup": {"allSupported": True}, **fields}


def status(name: str = "default", **fields: Any) -> dict[str, Any]:
    """A DescribeConfigurationRecorderStatus entry: recording, last status Success by default."""
    return {"name": name, "recording": True, "lastStatus": "Success", **fields}


def health(
    clients: Clients, recorders: list[dict[str, Any]], statuses: list[dict[str, Any]] | None
) -> RecorderHealth:
    """recorder_health over AWS's answers (moto drops recordingMode and cannot fail a recorder,
    so Stubber plays Config); ``statuses`` None: the status call must not be made."""
    config = clients.client("config")
    with Stubber(config) as stub:
        stub.add_response("describe_configuration_recorders", {"ConfigurationRecorders": recorders})
        if statuses is not None:
            stub.add_response(
                "describe_configuration_recorder_status",
                {"ConfigurationRecordersStatus": statuses},
                {},
            )
        result = recorder_health(config)
        stub.assert_no_pending_responses()
    return result


DAILY_LAMBDA = {
    "recordingFrequency": "CONTINUOUS",
    "recordingModeOverrides": [
        {
            "description": "cheap lambda",
            "resourceTypes": ["AWS::S3::Bucket", LAMBDA],
            "recordingFrequency": "DAILY",
        }
    ],
}
DAILY_OTHER = {
    "recordingFrequency": "CONTINUOUS",
    "recordingModeOverrides": [
        {"resourceTypes": ["AWS::S3::Bucket"], "recordingFrequency": "DAILY"}
    ],
}
EXCLUDES_LAMBDA = {
    "allSupported": False,
    "exclusionByResourceTypes": {"resourceTypes": [LAMBDA]},
    "recordingStrategy": {"useOnly": "EXCLUSION_BY_RESOURCE_TYPES"},
}
EXCLUDES_S3 = {
    "allSupported": False,
    "exclusionByResourceTypes": {"resourceTypes": ["AWS::S3::Bucket"]},
    "recordingStrategy": {"useOnly": "EXCLUSION_BY_RESOURCE_TYPES"},
}


@pytest.mark.parametrize(
    ("recorders", "statuses", "usable", "reason"),
    [
        pytest.param(
            [recorder()],
            [status(recording=False, lastStatus="Success")],
            False,
            "Config recorder 'default' is not recording",
            id="stopped",
        ),
        pytest.param(
            [recorder()],
            [status(recording=False)],
            False,
            "Config recorder 'default' is not recording",
            id="never-started",
        ),
        pytest.param(
            [recorder()],
            [
                status(
                    lastStatus="Failure",
                    lastErrorCode="AccessDenied",
                    lastErrorMessage="role cannot describe functions",
                )
            ],
            False,
            "Config recorder 'default' is failing: last status Failure "
            "(AccessDenied: role cannot describe functions)",
            id="failure",
        ),
        pytest.param(
            [recorder()],
            [status(lastStatus="Pending")],
            True,
            f"Config recorder 'default' records {LAMBDA} continuously (last status Pending)",
            id="pending",
        ),
        pytest.param(
            [recorder()],
            [status(lastStatus="PENDING")],  # moto's spelling
            True,
            f"Config recorder 'default' records {LAMBDA} continuously (last status PENDING)",
            id="pending-moto",
        ),
        pytest.param(
            [recorder()],
            [status()],
            True,
            f"Config recorder 'default' records {LAMBDA} continuously (last status Success)",
            id="success",
        ),
        pytest.param(
            [recorder()],
            [status(lastStatus="NotApplicable")],
            False,
            "Config recorder 'default' is recording but its last status is 'NotApplicable', "
            "not Success or Pending",
            id="not-applicable",
        ),
        pytest.param(
            [recorder()],
            [{"name": "default", "recording": True}],
            False,
            "Config recorder 'default' is recording but its last status is none, "
            "not Success or Pending",
            id="no-last-status",
        ),
        pytest.param(
            [recorder()],
            [status("another")],
            False,
            "Config recorder 'default' has no status (DescribeConfigurationRecorderStatus)",
            id="status-missing",
        ),
        pytest.param(
            [recorder(recordingMode={"recordingFrequency": "DAILY"})],
            None,
            False,
            f"Config recorder 'default' records {LAMBDA} only daily (recordingFrequency DAILY)",
            id="daily",
        ),
        pytest.param(
            [recorder(recordingMode=DAILY_LAMBDA)],
            None,
            False,
            f"Config recorder 'default' records {LAMBDA} only daily "
            "(recordingModeOverrides 'cheap lambda': DAILY)",
            id="daily-override-for-lambda",
        ),
        pytest.param(
            [
                recorder(
                    recordingMode={
                        "recordingFrequency": "DAILY",
                        "recordingModeOverrides": [
                            {"resourceTypes": [LAMBDA], "recordingFrequency": "CONTINUOUS"}
                        ],
                    }
                )
            ],
            [status()],
            True,
            f"Config recorder 'default' records {LAMBDA} continuously (last status Success)",
            id="continuous-override-for-lambda-on-daily",
        ),
        pytest.param(
            [recorder(recordingMode=DAILY_OTHER)],
            [status()],
            True,
            f"Config recorder 'default' records {LAMBDA} continuously (last status Success)",
            id="daily-override-for-another-type",
        ),
        pytest.param(
            [recorder(recordingGroup=EXCLUDES_LAMBDA)],
            None,
            False,
            f"Config recorder 'default' does not record {LAMBDA}",
            id="excludes-lambda",
        ),
        pytest.param(
            [recorder(recordingGroup=EXCLUDES_S3)],
            [status()],
            True,
            f"Config recorder 'default' records {LAMBDA} continuously (last status Success)",
            id="excludes-another-type",
        ),
        pytest.param(
            [
                recorder(
                    recordingGroup={"allSupported": False, "resourceTypes": ["AWS::S3::Bucket"]}
                )
            ],
            None,
            False,
            f"Config recorder 'default' does not record {LAMBDA}",
            id="includes-another-type",
        ),
        pytest.param(
            [
                recorder(
                    recordingGroup={
                        "allSupported": False,
                        "resourceTypes": [LAMBDA],
                        "recordingStrategy": {"useOnly": "INCLUSION_BY_RESOURCE_TYPES"},
                    }
                )
            ],
            [status()],
            True,
            f"Config recorder 'default' records {LAMBDA} continuously (last status Success)",
            id="includes-lambda",
        ),
        pytest.param([], None, False, "no AWS Config recorder in this Region", id="no-recorder"),
        pytest.param(
            [
                recorder(
                    "AWSConfigurationRecorderForExample",
                    servicePrincipal="example.amazonaws.com",
                    recordingScope="INTERNAL",
                )
            ],
            None,
            False,
            "service-linked Config recorder 'AWSConfigurationRecorderForExample' "
            "(for example.amazonaws.com) records for that service (recordingScope INTERNAL)",
            id="service-linked-internal",
        ),
        pytest.param(
            [
                recorder(
                    "AWSConfigurationRecorderForExample",
                    servicePrincipal="example.amazonaws.com",
                    recordingScope="PAID",
                )
            ],
            [status("AWSConfigurationRecorderForExample", recording=False)],
            False,
            "service-linked Config recorder 'AWSConfigurationRecorderForExample' "
            "(for example.amazonaws.com) is not recording",
            id="service-linked-paid-stopped",
        ),
    ],
)
def test_recorder_health_for_every_recorder_state(
    clients: Clients,
    recorders: list[dict[str, Any]],
    statuses: list[dict[str, Any]] | None,
    usable: bool,
    reason: str,
) -> None:
    result = health(clients, recorders, statuses)
    assert (result.usable, result.reason) == (usable, reason)


def test_any_healthy_recorder_covering_lambda_suffices(clients: Clients) -> None:
    recorders = [
        recorder("stopped", arn="arn:aws:config:us-east-1:123456789012:config-recorder/a"),
        recorder("good", arn="arn:aws:config:us-east-1:123456789012:config-recorder/b"),
    ]
    statuses = [  # matched by ARN, not by position
        status("good", arn="arn:aws:config:us-east-1:123456789012:config-recorder/b"),
        status(
            "stopped",
            arn="arn:aws:config:us-east-1:123456789012:config-recorder/a",
            recording=False,
        ),
    ]
    result = health(clients, recorders, statuses)
    assert result.usable
    assert result.reason == (
        f"Config recorder 'good' records {LAMBDA} continuously (last status Success)"
    )
    assert [(c.recorder, c.usable) for c in result.checks] == [("stopped", False), ("good", True)]


def test_several_unhealthy_recorders_are_each_explained(clients: Clients) -> None:
    recorders = [
        recorder("daily", recordingMode={"recordingFrequency": "DAILY"}),
        recorder("stopped"),
    ]
    result = health(clients, recorders, [status("stopped", recording=False)])
    assert not result.usable
    assert result.reason == (
        f"Config recorder 'daily' records {LAMBDA} only daily (recordingFrequency DAILY); "
        "Config recorder 'stopped' is not recording"
    )


def _start_moto_recorder(clients: Clients, group: dict[str, Any]) -> None:
    config = clients.client("config")
    config.put_configuration_recorder(
        ConfigurationRecorder={"name": "default", "roleARN": ROLE, "recordingGroup": group}
    )
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "config"})
    config.start_configuration_recorder(ConfigurationRecorderName="default")


@pytest.mark.parametrize(
    ("group", "usable"),
    [
        ({"allSupported": True}, True),
        ({"allSupported": False, "resourceTypes": [LAMBDA]}, True),
        ({"allSupported": False, "resourceTypes": ["AWS::S3::Bucket"]}, False),
        (EXCLUDES_LAMBDA, False),
        (EXCLUDES_S3, True),
    ],
)
def test_a_started_moto_recorder_is_usable_when_it_records_lambda(
    clients: Clients, group: dict[str, Any], usable: bool
) -> None:
    _start_moto_recorder(clients, group)  # moto answers lastStatus "PENDING"
    assert recorder_health(clients.client("config")).usable is usable


def test_a_stopped_moto_recorder_is_not_usable(clients: Clients) -> None:
    _start_moto_recorder(clients, {"allSupported": True})
    clients.client("config").stop_configuration_recorder(ConfigurationRecorderName="default")
    result = recorder_health(clients.client("config"))
    assert (result.usable, result.reason) == (False, "Config recorder 'default' is not recording")


def test_no_moto_recorder_is_not_usable(clients: Clients) -> None:
    assert recorder_health(clients.client("config")).usable is False


def test_auto_reads_the_lambda_api_when_the_recorder_is_stopped_and_says_why(
    clients: Clients, calls: CallLog
) -> None:
    create_function("a")
    _start_moto_recorder(clients, {"allSupported": True})
    clients.client("config").stop_configuration_recorder(ConfigurationRecorderName="default")
    inventory = read_functions(clients, [PUBLIC])
    assert inventory.source == "lambda"
    assert inventory.source_reason == "Config recorder 'default' is not recording"
    assert [f.name for f in inventory.functions] == ["a"]
    assert "config:ListDiscoveredResources" not in calls.counts()


def test_config_forced_on_an_unhealthy_recorder_is_an_error_naming_the_reason(
    clients: Clients, calls: CallLog
) -> None:
    _start_moto_recorder(clients, {"allSupported": True})
    clients.client("config").stop_configuration_recorder(ConfigurationRecorderName="default")
    with pytest.raises(UnhealthyRecorderError) as raised:
        read_functions(clients, [PUBLIC], source="config")
    assert isinstance(raised.value, GuardrailsError)
    assert str(raised.value) == (
        "cannot read functions from AWS Config: Config recorder 'default' is not recording"
    )
    assert "config:ListDiscoveredResources" not in calls.counts()


def test_config_forced_with_no_recorder_is_an_error(clients: Clients) -> None:
    with pytest.raises(UnhealthyRecorderError, match="no AWS Config recorder in this Region"):
        read_functions(clients, [PUBLIC], source="config")


def test_lambda_forced_asks_config_nothing(clients: Clients, calls: CallLog) -> None:
    create_function("a")
    inventory = read_functions(clients, [PUBLIC], source="lambda")
    assert (inventory.source, inventory.source_reason) == (
        "lambda",
        "the Lambda API was asked for",
    )
    assert not [action for action in calls.actions() if action.startswith("config:")]


def test_auto_reads_config_when_a_recorder_is_healthy_and_says_which(clients: Clients) -> None:
    config = clients.client("config")
    with Stubber(config) as stub:
        stub.add_response(
            "describe_configuration_recorders", {"ConfigurationRecorders": [recorder()]}
        )
        stub.add_response(
            "describe_configuration_recorder_status", {"ConfigurationRecordersStatus": [status()]}
        )
        stub.add_response(
            "list_discovered_resources",
            {"resourceIdentifiers": [{"resourceType": LAMBDA, "resourceId": "a"}]},
        )
        stub.add_response("batch_get_resource_config", {"baseConfigurationItems": [_recorded("a")]})
        inventory = read_functions(clients, [PUBLIC])
    assert inventory.source == "config"
    assert inventory.source_reason == (
        f"Config recorder 'default' records {LAMBDA} continuously (last status Success)"
    )
    assert [f.name for f in inventory.functions] == ["a"]


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
            "describe_configuration_recorders", {"ConfigurationRecorders": [recorder()]}
        )
        stub.add_response(
            "describe_configuration_recorder_status", {"ConfigurationRecordersStatus": [status()]}
        )
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


@pytest.mark.parametrize(
    ("item_status", "problem"),
    [("ResourceNotRecorded", "no configuration for it"), ("ResourceDeletedNotRecorded", None)],
)
def test_a_listed_function_config_no_longer_records_is_unknown_not_gone(
    clients: Clients, item_status: str, problem: str | None
) -> None:
    """ResourceNotRecorded: it exists, Config just has no configuration: no verdict (dropping it
    would make the sweep call it deleted). ResourceDeletedNotRecorded: deleted, so dropped."""
    config = clients.client("config")
    item = _recorded("a")
    item["configurationItemStatus"] = item_status
    with Stubber(config) as stub:
        stub.add_response(
            "describe_configuration_recorders", {"ConfigurationRecorders": [recorder()]}
        )
        stub.add_response(
            "describe_configuration_recorder_status", {"ConfigurationRecordersStatus": [status()]}
        )
        stub.add_response(
            "list_discovered_resources",
            {"resourceIdentifiers": [{"resourceType": LAMBDA, "resourceId": "a"}]},
        )
        stub.add_response("batch_get_resource_config", {"baseConfigurationItems": [item]})
        inventory = read_functions(clients, [PUBLIC], source="config")
    assert inventory.functions == ()
    assert [(p.resource_id, problem and problem in p.message) for p in inventory.problems] == (
        [("a", True)] if problem else []
    )
