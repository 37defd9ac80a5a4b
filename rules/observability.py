"""Powertools Logger (JSON), Metrics (EMF) and, only inside Lambda, Tracer.

The Tracer costs about 225 ms to import (it loads the X-Ray SDK even when disabled), so it is
imported only when tracing is on: inside Lambda and not disabled by
``POWERTOOLS_TRACE_DISABLED``. Outside Lambda nothing imports it. Creating it inside Lambda
costs the first invocation ~225-340 ms (measured here); set ``POWERTOOLS_TRACE_DISABLED=true``
to skip it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "lambda-guardrails")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "LambdaGuardrails")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

_tracer: Any = None
_tracing_unavailable = False


def count(name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def tracing_enabled() -> bool:
    in_lambda = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in ("1", "true")
    return in_lambda and not disabled


def tracer() -> Any:
    """The Powertools Tracer (patches botocore on creation), or None when tracing is off."""
    global _tracer, _tracing_unavailable  # noqa: PLW0603 - one per container, on first use
    if _tracer is None and not _tracing_unavailable and tracing_enabled():
        try:
            from aws_lambda_powertools import Tracer

            _tracer = Tracer(service=SERVICE)
        except ImportError as error:  # aws-xray-sdk not packaged: run untraced, say so once
            _tracing_unavailable = True
            logger.warning("tracing is off: aws-xray-sdk is missing", extra={"problem": str(error)})
    return _tracer


@contextlib.contextmanager
def traced(name: str, **annotations: str) -> Iterator[None]:
    active = tracer()
    if active is None:
        yield
        return
    with active.provider.in_subsegment(f"## {name}") as subsegment:
        for key, value in annotations.items():
            subsegment.put_annotation(key, value)
        yield
