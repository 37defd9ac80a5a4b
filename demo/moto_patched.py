"""``moto_server`` with one gap filled: moto 5.2.5 drops a function's ``DeadLetterConfig``.

moto's ``LambdaFunction`` ignores ``DeadLetterConfig`` in CreateFunction and
UpdateFunctionConfiguration and never returns it, so every function would look like it has no
dead-letter queue and the DLQ rule could never be seen passing. This launcher keeps the field
(as Lambda does: ``{"TargetArn": ...}`` in every configuration response, absent when unset) and
then runs moto's own server ``main``. Nothing else about moto changes.

Run: ``python -m demo.moto_patched -H 127.0.0.1 -p PORT`` (same arguments as ``moto_server``).
"""

from __future__ import annotations

import functools
import sys
from typing import Any

PATCH_MARK = "_guardrails_dlq_patch"


def patch_dead_letter_config() -> None:
    from moto.awslambda import models

    cls: Any = models.LambdaFunction
    if getattr(cls, PATCH_MARK, False):
        return
    original_init = cls.__init__
    original_get = cls.get_configuration
    original_update = cls.update_configuration

    @functools.wraps(original_init)
    def init(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        original_init(self, account_id, spec, *args, **kwargs)
        self.dead_letter_config = _target(spec.get("DeadLetterConfig"))

    @functools.wraps(original_get)
    def get_configuration(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config: dict[str, Any] = original_get(self, *args, **kwargs)
        target = getattr(self, "dead_letter_config", None)
        if target:
            config["DeadLetterConfig"] = {"TargetArn": target}
        return config

    @functools.wraps(original_update)
    def update_configuration(self: Any, updates: dict[str, Any]) -> dict[str, Any]:
        if "DeadLetterConfig" in updates:
            self.dead_letter_config = _target(updates["DeadLetterConfig"])
        result: dict[str, Any] = original_update(self, updates)
        return self.get_configuration() if "DeadLetterConfig" in updates else result

    cls.__init__ = init
    cls.get_configuration = get_configuration
    cls.update_configuration = update_configuration
    setattr(cls, PATCH_MARK, True)


def _target(value: Any) -> str | None:
    """An empty TargetArn removes the DLQ, as in Lambda."""
    if isinstance(value, dict) and value.get("TargetArn"):
        return str(value["TargetArn"])
    return None


def main(argv: list[str] | None = None) -> None:
    patch_dead_letter_config()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
