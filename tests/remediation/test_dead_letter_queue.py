"""The dead-letter-queue runbook script against moto. moto drops DeadLetterConfig on update and
never returns it: ``moto_lambda_config`` (conftest) keeps it."""

from __future__ import annotations

import json
import re

import boto3
import pytest

from rules.aws.clients import Clients
from rules.remediation import dead_letter_queue
from rules.remediation.common import RemediationError, run
from tests.aws.fixtures import ACCOUNT, REGION, create_function, setup_clients
from tests.remediation.conftest import ROLE_NAME, configuration, events, tag

GIVEN_QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:team-dlq"


def _target(name: str) -> str | None:
    return configuration(name).get("DeadLetterConfig", {}).get("TargetArn")


def _role_policies() -> dict[str, dict[str, object]]:
    iam = setup_clients()["iam"]
    names = iam.list_role_policies(RoleName=ROLE_NAME)["PolicyNames"]
    return {
        name: iam.get_role_policy(RoleName=ROLE_NAME, PolicyName=name)["PolicyDocument"]
        for name in names
    }


def test_the_queue_name_is_valid_bounded_and_collision_safe() -> None:
    long_name = "a" * 64
    one = dead_letter_queue.queue_name(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{long_name}")
    two = dead_letter_queue.queue_name(
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{long_name[:-1]}b"
    )
    other_account = dead_letter_queue.queue_name(
        f"arn:aws:lambda:{REGION}:444455556666:function:{long_name}"
    )
    for name in (one, two, other_account):
        assert len(name) <= 80
        assert re.fullmatch(r"guardrails-dlq-[A-Za-z0-9_-]+", name)
    assert len({one, two, other_account}) == 3


def test_a_given_target_is_attached(clients: Clients) -> None:
    create_function("orders-api")
    result = run(
        dead_letter_queue.SCRIPT, events("orders-api", DeadLetterTargetArn=GIVEN_QUEUE), clients
    )
    assert result["status"] == "CHANGED"
    assert result["verdict"] == "COMPLIANT"
    assert result["after"] == {"deadLetterTargetArn": GIVEN_QUEUE}
    assert _target("orders-api") == GIVEN_QUEUE
    assert _role_policies() == {}  # a given target's permissions are the owner's business


def test_a_dry_run_creates_nothing(clients: Clients) -> None:
    create_function("orders-api")
    result = run(dead_letter_queue.SCRIPT, events("orders-api", DryRun=True), clients)
    assert result["status"] == "DRY_RUN"
    assert [change.split(" ")[0] for change in result["changes"]] == ["create", "allow", "attach"]
    assert _target("orders-api") is None
    assert boto3.client("sqs", region_name=REGION).list_queues().get("QueueUrls", []) == []
    assert _role_policies() == {}


def test_without_a_target_a_kms_encrypted_queue_is_created_granted_and_attached(
    clients: Clients,
) -> None:
    arn = create_function("orders-api")
    result = run(dead_letter_queue.SCRIPT, events("orders-api"), clients)
    name = dead_letter_queue.queue_name(arn)
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
    assert result["status"] == "CHANGED"
    assert result["verdict"] == "COMPLIANT"
    assert _target("orders-api") == queue_arn
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["KmsMasterKeyId"])
    assert attributes["Attributes"]["KmsMasterKeyId"] == "alias/aws/sqs"
    policies = _role_policies()
    assert list(policies.values()) == [
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DeadLetterQueue",
                    "Effect": "Allow",
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                }
            ],
        }
    ]


def test_a_customer_managed_queue_key_is_granted_to_the_role_too(clients: Clients) -> None:
    create_function("orders-api")
    key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    run(dead_letter_queue.SCRIPT, events("orders-api", QueueKmsKeyId=key), clients)
    (policy,) = _role_policies().values()
    statements = policy["Statement"]
    assert isinstance(statements, list)
    assert statements[1]["Resource"] == key
    assert statements[1]["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]


def test_a_second_run_reuses_the_queue_and_changes_nothing(clients: Clients) -> None:
    create_function("orders-api")
    run(dead_letter_queue.SCRIPT, events("orders-api"), clients)
    again = run(dead_letter_queue.SCRIPT, events("orders-api"), clients)
    assert again["status"] == "ALREADY_COMPLIANT"
    queues = boto3.client("sqs", region_name=REGION).list_queues()["QueueUrls"]
    assert len(queues) == 1


def test_a_role_of_another_account_is_refused(clients: Clients) -> None:
    setup = setup_clients()
    create_function("orders-api")
    setup["lambda"].update_function_configuration(
        FunctionName="orders-api", Role="arn:aws:iam::444455556666:role/elsewhere"
    )
    with pytest.raises(RemediationError, match="not a role of account 123456789012"):
        run(dead_letter_queue.SCRIPT, events("orders-api"), clients)
    assert _target("orders-api") is None


def test_the_rules_dlq_list_is_honoured(clients: Clients) -> None:
    create_function("orders-api")
    allowed = json.dumps({"dlqArns": GIVEN_QUEUE})
    with pytest.raises(RemediationError, match="give one as DeadLetterTargetArn"):
        run(dead_letter_queue.SCRIPT, events("orders-api", RuleParameters=allowed), clients)
    other = f"arn:aws:sqs:{REGION}:{ACCOUNT}:other"
    with pytest.raises(RemediationError, match="not in the rule's dlqArns"):
        run(
            dead_letter_queue.SCRIPT,
            events("orders-api", RuleParameters=allowed, DeadLetterTargetArn=other),
            clients,
        )
    run(
        dead_letter_queue.SCRIPT,
        events("orders-api", RuleParameters=allowed, DeadLetterTargetArn=GIVEN_QUEUE),
        clients,
    )
    assert _target("orders-api") == GIVEN_QUEUE


def test_a_fifo_queue_is_refused(clients: Clients) -> None:
    create_function("orders-api")
    with pytest.raises(RemediationError, match="FIFO"):
        run(
            dead_letter_queue.SCRIPT,
            events("orders-api", DeadLetterTargetArn=GIVEN_QUEUE + ".fifo"),
            clients,
        )


def test_an_exempt_function_is_skipped(clients: Clients) -> None:
    arn = create_function("orders-api")
    tag(arn, **{"guardrails:exempt": ""})
    result = run(dead_letter_queue.SCRIPT, events("orders-api"), clients)
    assert result["status"] == "SKIPPED_EXEMPT"
    assert _target("orders-api") is None
    assert boto3.client("sqs", region_name=REGION).list_queues().get("QueueUrls", []) == []
