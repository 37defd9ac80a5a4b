"""``rules.aws.kms``: DescribeKey's KeyManager, once per key per process, failures named.

moto gap: moto's DescribeKey reports ``KeyManager: CUSTOMER`` for every key (even the one behind
``alias/aws/lambda``), so AWS's other answers come from botocore's Stubber.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.stub import Stubber

from rules.aws.clients import Clients
from rules.aws.errors import AccessDeniedError
from rules.aws.kms import KeyManagerError, KeyManagers, describe_key_manager
from rules.model import KeyManager
from tests.aws.fixtures import ACCOUNT, KEY_ARN, CallLog

OTHER_KEY = KEY_ARN.replace("1234abcd", "9999abcd")


def _metadata(manager: Any, key: str = KEY_ARN) -> dict[str, Any]:
    metadata: dict[str, Any] = {"KeyId": key.rsplit("/", 1)[1], "Arn": key}
    if manager is not None:
        metadata["KeyManager"] = manager
    return {"KeyMetadata": metadata}


@pytest.mark.parametrize(
    ("answer", "expected"), [("AWS", KeyManager.AWS), ("CUSTOMER", KeyManager.CUSTOMER)]
)
def test_describe_key_gives_the_key_manager(
    clients: Clients, answer: str, expected: KeyManager
) -> None:
    with Stubber(clients.client("kms")) as kms:
        kms.add_response("describe_key", _metadata(answer), {"KeyId": KEY_ARN})
        assert describe_key_manager(clients.client("kms"), KEY_ARN) is expected


def test_moto_reports_customer_for_its_own_keys(clients: Clients) -> None:
    key = clients.client("kms").create_key()["KeyMetadata"]["Arn"]
    assert describe_key_manager(clients.client("kms"), key) is KeyManager.CUSTOMER


def test_an_answer_without_a_key_manager_is_no_answer(clients: Clients) -> None:
    with Stubber(clients.client("kms")) as kms:
        kms.add_response("describe_key", _metadata(None))
        with pytest.raises(KeyManagerError, match="KeyManager None") as error:
            describe_key_manager(clients.client("kms"), KEY_ARN)
    assert error.value.key_arn == KEY_ARN


def test_an_unknown_key_manager_is_no_answer() -> None:
    class Kms:
        def describe_key(self, KeyId: str) -> dict[str, Any]:
            return _metadata("UNVERIFIED")  # ours, never AWS's

    with pytest.raises(KeyManagerError, match="'UNVERIFIED'"):
        describe_key_manager(Kms(), KEY_ARN)


def test_a_denial_is_converted_into_an_error_naming_the_key(clients: Clients) -> None:
    denial = (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/r/s is not authorized to perform: "
        f"kms:DescribeKey on resource: {KEY_ARN}"
    )
    with Stubber(clients.client("kms")) as kms:
        kms.add_client_error("describe_key", "AccessDeniedException", denial, 400)
        with pytest.raises(KeyManagerError) as error:
            describe_key_manager(clients.client("kms"), KEY_ARN)
    # A sweep aborts on AccessDeniedError; a key its policy keeps from us fails one function.
    assert not isinstance(error.value, AccessDeniedError)
    assert isinstance(error.value.__cause__, AccessDeniedError)
    assert KEY_ARN in str(error.value)
    assert f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s" in str(error.value)


def test_a_missing_key_names_the_key_and_the_code(clients: Clients) -> None:
    with pytest.raises(KeyManagerError, match="NotFoundException") as error:
        describe_key_manager(clients.client("kms"), KEY_ARN)
    assert error.value.key_arn == KEY_ARN


def test_a_key_is_asked_about_once(clients: Clients, calls: CallLog) -> None:
    managers = KeyManagers()
    with Stubber(clients.client("kms")) as kms:
        kms.add_response("describe_key", _metadata("AWS"), {"KeyId": KEY_ARN})
        kms.add_response("describe_key", _metadata("CUSTOMER", OTHER_KEY), {"KeyId": OTHER_KEY})
        answers = [
            managers.manager(clients.client("kms"), key)
            for key in (KEY_ARN, KEY_ARN, OTHER_KEY, KEY_ARN, OTHER_KEY)
        ]
        kms.assert_no_pending_responses()
    assert answers == [KeyManager.AWS] * 2 + [
        KeyManager.CUSTOMER,
        KeyManager.AWS,
        KeyManager.CUSTOMER,
    ]
    assert len(calls.of("kms:DescribeKey")) == 2


def test_a_failure_is_not_remembered(clients: Clients) -> None:
    managers = KeyManagers()
    with Stubber(clients.client("kms")) as kms:
        kms.add_client_error("describe_key", "NotFoundException", "gone", 400)
        kms.add_response("describe_key", _metadata("CUSTOMER"))
        with pytest.raises(KeyManagerError):
            managers.manager(clients.client("kms"), KEY_ARN)
        assert managers.manager(clients.client("kms"), KEY_ARN) is KeyManager.CUSTOMER


def test_clear_forgets(clients: Clients) -> None:
    managers = KeyManagers()
    with Stubber(clients.client("kms")) as kms:
        kms.add_response("describe_key", _metadata("CUSTOMER"))
        kms.add_response("describe_key", _metadata("CUSTOMER"))
        managers.manager(clients.client("kms"), KEY_ARN)
        managers.clear()
        managers.manager(clients.client("kms"), KEY_ARN)
        kms.assert_no_pending_responses()


def test_threads_meeting_a_new_key_together_ask_once() -> None:
    class SlowKms:
        """Answers after a pause, so every thread arrives while the first call is in flight."""

        def __init__(self) -> None:
            self.calls: list[str] = []
            self._lock = threading.Lock()

        def describe_key(self, KeyId: str) -> dict[str, Any]:
            with self._lock:
                self.calls.append(KeyId)
            time.sleep(0.05)
            return _metadata("CUSTOMER", KeyId)

    kms = SlowKms()
    managers = KeyManagers()
    keys = [KEY_ARN, OTHER_KEY] * 8
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda key: managers.manager(kms, key), keys))
    assert set(answers) == {KeyManager.CUSTOMER}
    assert sorted(kms.calls) == sorted([KEY_ARN, OTHER_KEY])
