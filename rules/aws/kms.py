"""Who manages a KMS key: ``kms:DescribeKey``'s ``KeyMetadata.KeyManager``, asked once per key for
the life of the process.

A key's manager never changes, so a warm container asks at most once per key, and ``scan``'s
threads share the answers. Failures are never cached (a denied call may be allowed later) and
never become a manager: they are a ``KeyManagerError`` naming the key, i.e. no verdict for that
function only. ``rules.aws.clients`` turns a denial into ``AccessDeniedError``, which aborts a
whole sweep; here it is converted, because a key policy can deny one key to a role that may
describe the others.
"""

from __future__ import annotations

import threading
from typing import Any

from botocore.exceptions import ClientError

from rules.aws.errors import AccessDeniedError, ReadError
from rules.model import KeyManager

# What DescribeKey can answer; UNVERIFIED is ours (offline), never AWS's.
DESCRIBED_MANAGERS = {manager.value: manager for manager in (KeyManager.AWS, KeyManager.CUSTOMER)}


class KeyManagerError(ReadError):
    """DescribeKey could not tell who manages a key: the function gets no verdict."""

    def __init__(self, key_arn: str, reason: str) -> None:
        self.key_arn = key_arn
        self.reason = reason
        super().__init__(f"cannot tell who manages KMS key {key_arn}: {reason}")


def describe_key_manager(kms: Any, key_arn: str) -> KeyManager:
    """One DescribeKey call; ``KeyManagerError`` naming the key when it is denied, fails or
    answers something unreadable."""
    try:
        response = kms.describe_key(KeyId=key_arn)
    except AccessDeniedError as error:
        raise KeyManagerError(
            key_arn,
            f"kms:DescribeKey was denied to {error.principal} (the role needs kms:DescribeKey "
            f"and the key policy must allow it). AWS said: {error.aws_message}",
        ) from error
    except ClientError as error:
        details = error.response.get("Error", {})
        code = details.get("Code") or "an error"
        message = details.get("Message")
        said = f" (AWS said: {message})" if message else ""
        raise KeyManagerError(key_arn, f"kms:DescribeKey failed with {code}{said}") from error
    metadata = response.get("KeyMetadata") if isinstance(response, dict) else None
    value = metadata.get("KeyManager") if isinstance(metadata, dict) else None
    manager = DESCRIBED_MANAGERS.get(value) if isinstance(value, str) else None
    if manager is None:
        raise KeyManagerError(key_arn, f"DescribeKey answered KeyManager {value!r}")
    return manager


class KeyManagers:
    """The managers of the keys met so far, keyed by key ARN. Thread-safe; a key being asked
    about is asked once, however many threads meet it at the same time."""

    def __init__(self) -> None:
        self._known: dict[str, KeyManager] = {}
        self._asking: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def manager(self, kms: Any, key_arn: str) -> KeyManager:
        known = self._known.get(key_arn)
        if known is not None:
            return known
        with self._lock_for(key_arn):
            known = self._known.get(key_arn)
            if known is None:
                known = describe_key_manager(kms, key_arn)
                self._known[key_arn] = known
        return known

    def clear(self) -> None:
        """Forget every answer (tests: moto's state does not outlive a test)."""
        with self._guard:
            self._known.clear()
            self._asking.clear()

    def _lock_for(self, key_arn: str) -> threading.Lock:
        with self._guard:
            return self._asking.setdefault(key_arn, threading.Lock())


# One per process: the handler's warm container and scan's thread pool share it.
KEY_MANAGERS = KeyManagers()
