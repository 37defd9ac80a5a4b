"""The dead-letter-queue runbook script against moto. moto drops DeadLetterConfig on update and
never returns it: ``moto_lambda_config`` (conftest) keeps it. moto lacks SimulatePrincipalPolicy:
``simulated`` answers it."""

from __future__ import annotations

import json
import re

import boto3
import pytest

from rules.aws.clients import Clients
from rules.remediation import dead_letter_queue
from rules.remediation.common import RemediationError, run
from rules.remediation.runbooks import (
    DEAD_LETTER_TAG_KEY,
    DEFAULT_QUEUE_NAME_PREFIX,
    QUEUE_KEY_USE,
    QUEUE_PREFIX_PATTERN,
    dead_letter_queue_prefix,
)
from tests.aws.fixtures import ACCOUNT, REGION, CallLog, create_function, setup_clients
from tests.remediation.conftest import (
    ROLE_NAME,
    answer,
    configuration,
    dlq_events,
    events,
    send_policy,
    simulated,
    tag,
)

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


def _attached() -> list[str]:
    iam = setup_clients()["iam"]
    policies = iam.list_attached_role_policies(RoleName=ROLE_NAME)["AttachedPolicies"]
    return [policy["PolicyArn"] for policy in policies]


def _queues() -> list[str]:
    return list(boto3.client("sqs", region_name=REGION).list_queues().get("QueueUrls", []))


def _key() -> str:
    return str(boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"])


def test_the_queue_name_is_valid_bounded_and_collision_safe() -> None:
    long_name = "a" * 64
    prefix = DEFAULT_QUEUE_NAME_PREFIX
    one = dead_letter_queue.queue_name(
        prefix, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{long_name}"
    )
    two = dead_letter_queue.queue_name(
        prefix, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{long_name[:-1]}b"
    )
    other_account = dead_letter_queue.queue_name(
        prefix, f"arn:aws:lambda:{REGION}:444455556666:function:{long_name}"
    )
    longest_prefix = dead_letter_queue.queue_name(
        dead_letter_queue_prefix("p" * 88),
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{long_name}",
    )
    for name in (one, two, other_account, longest_prefix):
        assert len(name) <= 80
        assert re.fullmatch(r"[A-Za-z0-9_-]+", name)
    assert all(name.startswith("guardrails-dlq-") for name in (one, two, other_account))
    assert len({one, two, other_account}) == 3


def test_the_queue_prefix_derives_from_the_deployment() -> None:
    assert DEFAULT_QUEUE_NAME_PREFIX == "guardrails-dlq-"
    assert dead_letter_queue_prefix("team-b-") == "team-b-dlq-"
    long_one, long_two = dead_letter_queue_prefix("x" * 60), dead_letter_queue_prefix("x" * 61)
    assert long_one != long_two
    for prefix in (long_one, long_two, dead_letter_queue_prefix("team-b-")):
        assert re.fullmatch(QUEUE_PREFIX_PATTERN, prefix)
        assert prefix.endswith("dlq-")


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
    result = run(dead_letter_queue.SCRIPT, dlq_events("orders-api", DryRun=True), clients)
    assert result["status"] == "DRY_RUN"
    assert [change.split(" ")[0] for change in result["changes"]] == ["create", "attach", "attach"]
    assert "a real run would fail" not in result["message"]
    assert _target("orders-api") is None
    assert _queues() == []
    assert _attached() == [] and _role_policies() == {}


def test_without_a_target_a_tagged_queue_is_created_the_send_policy_attached_and_the_queue_set(
    clients: Clients, calls: CallLog
) -> None:
    arn = create_function("orders-api")
    policy = send_policy()
    result = run(dead_letter_queue.SCRIPT, dlq_events("orders-api"), clients)
    name = dead_letter_queue.queue_name(DEFAULT_QUEUE_NAME_PREFIX, arn)
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
    assert result["status"] == "CHANGED"
    assert result["verdict"] == "COMPLIANT"
    assert _target("orders-api") == queue_arn
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["KmsMasterKeyId"] == "alias/aws/sqs"
    assert "Policy" not in attributes
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {DEAD_LETTER_TAG_KEY: arn}
    # The role gets the stack's one send policy attached; nothing is written into it.
    assert _attached() == [policy]
    assert _role_policies() == {}
    assert calls.of("iam:AttachRolePolicy") == [{"RoleName": ROLE_NAME, "PolicyArn": policy}]
    assert not calls.of("iam:PutRolePolicy")
    # The AWS managed aws/sqs key needs no KMS right and no check.
    assert not [action for action in calls.actions() if action.startswith("kms:")]


def test_the_queue_prefix_comes_from_the_parameter(clients: Clients) -> None:
    arn = create_function("orders-api")
    result = run(
        dead_letter_queue.SCRIPT,
        events(
            "orders-api",
            QueueNamePrefix="team-b-dlq-",
            DeadLetterPolicyArn=send_policy("team-b-dlq-"),
        ),
        clients,
    )
    name = dead_letter_queue.queue_name("team-b-dlq-", arn)
    assert name.startswith("team-b-dlq-orders-api-")
    assert result["after"] == {"deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"}


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"DeadLetterPolicyArn": ""}, "DeadLetterPolicyArn \\(empty\\) is not a policy"),
        (
            {"DeadLetterPolicyArn": "arn:aws:iam::444455556666:policy/guardrails-dlq-send"},
            "is not a policy of account 123456789012",
        ),
        ({"QueueNamePrefix": "bad prefix!"}, "QueueNamePrefix 'bad prefix!' does not match"),
    ],
)
def test_without_the_deployment_values_nothing_is_created(
    clients: Clients, given: dict[str, str], problem: str
) -> None:
    create_function("orders-api")
    with pytest.raises(RemediationError, match=problem):
        run(dead_letter_queue.SCRIPT, dlq_events("orders-api", **given), clients)
    assert _queues() == [] and _attached() == []


def test_a_customer_managed_queue_key_the_role_cannot_use_is_refused_before_any_change(
    clients: Clients,
) -> None:
    create_function("orders-api")
    key = _key()
    simulated(clients, "implicitDeny", QUEUE_KEY_USE)
    with pytest.raises(
        RemediationError, match=f"role arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME} may not use key"
    ):
        run(dead_letter_queue.SCRIPT, dlq_events("orders-api", QueueKmsKeyId=key), clients)
    assert _queues() == [] and _attached() == [] and _target("orders-api") is None


def test_a_grant_with_only_decrypt_is_not_enough_for_a_queue_key(clients: Clients) -> None:
    create_function("orders-api")
    key = _key()
    boto3.client("kms", region_name=REGION).create_grant(
        KeyId=key,
        GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}",
        Operations=["Decrypt"],
    )
    simulated(clients, "implicitDeny", QUEUE_KEY_USE)
    with pytest.raises(RemediationError, match="no grant gives the role GenerateDataKey, Decrypt"):
        run(dead_letter_queue.SCRIPT, dlq_events("orders-api", QueueKmsKeyId=key), clients)


def test_a_customer_managed_queue_key_the_role_can_use_is_used_and_granted_nothing(
    clients: Clients,
) -> None:
    arn = create_function("orders-api")
    key = _key()
    simulated(clients, "allowed", QUEUE_KEY_USE)
    result = run(dead_letter_queue.SCRIPT, dlq_events("orders-api", QueueKmsKeyId=key), clients)
    assert result["status"] == "CHANGED"
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=dead_letter_queue.queue_name(DEFAULT_QUEUE_NAME_PREFIX, arn))
    attributes = sqs.get_queue_attributes(QueueUrl=url["QueueUrl"], AttributeNames=["All"])
    assert attributes["Attributes"]["KmsMasterKeyId"] == key
    assert _attached() == [send_policy()] and _role_policies() == {}


def test_a_disabled_queue_key_is_refused(clients: Clients) -> None:
    create_function("orders-api")
    key = _key()
    boto3.client("kms", region_name=REGION).disable_key(KeyId=key.rsplit("/", 1)[1])
    with pytest.raises(RemediationError, match="KeyState 'Disabled', not Enabled"):
        run(dead_letter_queue.SCRIPT, dlq_events("orders-api", QueueKmsKeyId=key), clients)
    assert _queues() == []


def _precreate(arn: str, **attributes: str) -> str:
    sqs = boto3.client("sqs", region_name=REGION)
    name = dead_letter_queue.queue_name(DEFAULT_QUEUE_NAME_PREFIX, arn)
    return str(
        sqs.create_queue(
            QueueName=name, Attributes={"KmsMasterKeyId": "alias/aws/sqs", **attributes}
        )["QueueUrl"]
    )


def test_a_queue_someone_created_first_with_a_policy_is_not_adopted(clients: Clients) -> None:
    arn = create_function("orders-api")
    open_policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "sqs:ReceiveMessage",
                    "Resource": "*",
                }
            ],
        }
    )
    _precreate(arn, Policy=open_policy)
    with pytest.raises(RemediationError, match="has a queue policy: it is not the runbook's own"):
        run(dead_letter_queue.SCRIPT, dlq_events("orders-api"), clients)
    assert _attached() == [] and _target("orders-api") is None


def test_a_queue_without_the_runbooks_tag_is_not_adopted(clients: Clients) -> None:
    """moto applies CreateQueue's tags to an existing queue it returns; whether SQS does is not
    documented, so the script reads the tags back. ListQueueTags answers what a queue created
    by someone else, without the tag, would."""
    arn = create_function("orders-api")
    _precreate(arn)
    answer(clients, "sqs", "ListQueueTags", {"Tags": {"owner": "someone"}})
    with pytest.raises(RemediationError, match=f"does not carry the tag {DEAD_LETTER_TAG_KEY}="):
        run(dead_letter_queue.SCRIPT, dlq_events("orders-api"), clients)
    assert _attached() == [] and _target("orders-api") is None


def test_a_second_run_reuses_the_queue_and_changes_nothing(clients: Clients) -> None:
    create_function("orders-api")
    run(dead_letter_queue.SCRIPT, dlq_events("orders-api"), clients)
    again = run(dead_letter_queue.SCRIPT, dlq_events("orders-api"), clients)
    assert again["status"] == "ALREADY_COMPLIANT"
    assert len(_queues()) == 1


def test_a_run_after_a_failed_attachment_reuses_its_own_queue(clients: Clients) -> None:
    create_function("orders-api")
    arn = configuration("orders-api")["FunctionArn"]
    _precreate(arn)  # as a first run interrupted after CreateQueue (with its tag) leaves it
    boto3.client("sqs", region_name=REGION).tag_queue(
        QueueUrl=_queues()[0], Tags={DEAD_LETTER_TAG_KEY: arn}
    )
    result = run(dead_letter_queue.SCRIPT, dlq_events("orders-api"), clients)
    assert result["status"] == "CHANGED" and len(_queues()) == 1


def test_a_role_of_another_account_is_refused(clients: Clients) -> None:
    setup = setup_clients()
    create_function("orders-api")
    setup["lambda"].update_function_configuration(
        FunctionName="orders-api", Role="arn:aws:iam::444455556666:role/elsewhere"
    )
    with pytest.raises(RemediationError, match="not a role of account 123456789012"):
        run(dead_letter_queue.SCRIPT, dlq_events("orders-api"), clients)
    assert _target("orders-api") is None


def test_the_rules_dlq_list_is_honoured(clients: Clients) -> None:
    create_function("orders-api")
    allowed = json.dumps({"dlqArns": GIVEN_QUEUE})
    with pytest.raises(RemediationError, match="give one as DeadLetterTargetArn"):
        run(dead_letter_queue.SCRIPT, dlq_events("orders-api", RuleParameters=allowed), clients)
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
    tag(arn, **{"guardrails:exempt": "rules=lambda-dlq-check reason=accepted risk"})
    result = run(dead_letter_queue.SCRIPT, dlq_events("orders-api"), clients)
    assert result["status"] == "SKIPPED_EXEMPT"
    assert _target("orders-api") is None
    assert _queues() == [] and _attached() == []
