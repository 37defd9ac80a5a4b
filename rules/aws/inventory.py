"""Reading Lambda functions: what AWS Config recorded, else the Lambda API.

``read_functions`` is the one code path the periodic handler and ``python -m rules scan`` share:
Config's recorded items in batches (``ListDiscoveredResources`` + ``BatchGetResourceConfig``, 100
per call) when the recorder records ``AWS::Lambda::Function``, else ``ListFunctions`` plus the
per-function reads the selected rules need (``Rule.lambda_api_reads``).

A resource that cannot be read becomes a ``Problem`` (never a default model): callers give it no
verdict.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from botocore.exceptions import ClientError

from rules.adapters.common import Environment, environment_from, get_ignoring_case
from rules.adapters.config_item import configuration_item_from_dict
from rules.adapters.lambda_api import function_from_lambda_api
from rules.errors import GuardrailsError
from rules.model import LAMBDA_FUNCTION, LambdaFunction
from rules.rule import Rule

BATCH_SIZE = 100  # ListDiscoveredResources page and BatchGetResourceConfig maximum
UNPROCESSED_ATTEMPTS = 4
NOT_FOUND = "ResourceNotFoundException"

Source = Literal["config", "lambda"]
# progress(functions read so far, total when known)
Progress = Callable[[int, int | None], None]


class ClientSource(Protocol):
    """What the readers need; ``rules.aws.clients.Clients`` is one."""

    def client(self, service: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class Problem:
    resource_id: str
    message: str


@dataclass(frozen=True, slots=True)
class Inventory:
    functions: tuple[LambdaFunction, ...]
    source: Source
    problems: tuple[Problem, ...] = ()


def read_functions(
    clients: ClientSource,
    rules: Sequence[Rule],
    *,
    source: Source | None = None,
    progress: Progress | None = None,
    workers: int = 1,
) -> Inventory:
    """Every ``$LATEST`` function of the account and Region. ``source`` forces one source;
    by default Config when its recorder records Lambda functions, else the Lambda API.

    ``workers`` > 1 runs the Lambda API fallback's per-function reads on that many threads
    (one shared client: give it the ``adaptive`` retry mode so they stay within the rate
    limits); the order of the result does not change. Config's batches stay sequential."""
    if source is None:
        source = "config" if recorder_records_lambda(clients.client("config")) else "lambda"
    if source == "config":
        functions, problems = _read_from_config(clients.client("config"), progress)
    else:
        reads = frozenset(read for rule in rules for read in rule.lambda_api_reads)
        functions, problems = _read_from_lambda(clients.client("lambda"), reads, progress, workers)
    return Inventory(tuple(functions), source, tuple(problems))


def recorder_records_lambda(config: Any) -> bool:
    """Whether a configuration recorder of the account/Region covers AWS::Lambda::Function."""
    recorders = config.describe_configuration_recorders().get("ConfigurationRecorders", [])
    return any(_group_records_lambda(r.get("recordingGroup") or {}) for r in recorders)


def _group_records_lambda(group: Mapping[str, Any]) -> bool:
    strategy = (group.get("recordingStrategy") or {}).get("useOnly")
    if strategy == "EXCLUSION_BY_RESOURCE_TYPES":
        excluded = (group.get("exclusionByResourceTypes") or {}).get("resourceTypes") or []
        return LAMBDA_FUNCTION not in excluded
    if strategy == "INCLUSION_BY_RESOURCE_TYPES":
        return LAMBDA_FUNCTION in (group.get("resourceTypes") or [])
    return bool(group.get("allSupported")) or LAMBDA_FUNCTION in (group.get("resourceTypes") or [])


def _read_from_config(
    config: Any, progress: Progress | None
) -> tuple[list[LambdaFunction], list[Problem]]:
    functions: list[LambdaFunction] = []
    problems: list[Problem] = []
    pages = config.get_paginator("list_discovered_resources").paginate(
        resourceType=LAMBDA_FUNCTION, PaginationConfig={"PageSize": BATCH_SIZE}
    )
    for page in pages:
        ids = [r["resourceId"] for r in page.get("resourceIdentifiers", [])]
        if not ids:
            continue
        items, unread = _batch_get(config, ids)
        for raw in items:
            try:
                item = configuration_item_from_dict(raw)
            except GuardrailsError as error:
                problems.append(Problem(str(raw.get("resourceId", "?")), str(error)))
                continue
            if item.function is not None:  # deleted since the listing: not a function any more
                functions.append(item.function)
        problems.extend(
            Problem(key, "BatchGetResourceConfig left it unprocessed") for key in unread
        )
        if progress:
            progress(len(functions), None)
    return functions, problems


def _batch_get(config: Any, ids: Sequence[str]) -> tuple[list[Mapping[str, Any]], list[str]]:
    keys = [{"resourceType": LAMBDA_FUNCTION, "resourceId": i} for i in ids]
    items: list[Mapping[str, Any]] = []
    for attempt in range(UNPROCESSED_ATTEMPTS):
        if attempt:
            time.sleep(0.05 * 2**attempt)
        response = config.batch_get_resource_config(resourceKeys=keys)
        items.extend(response.get("baseConfigurationItems", []))
        keys = response.get("unprocessedResourceKeys") or []
        if not keys:
            break
    return items, [key["resourceId"] for key in keys]


def _read_from_lambda(
    lambda_client: Any, reads: frozenset[str], progress: Progress | None, workers: int = 1
) -> tuple[list[LambdaFunction], list[Problem]]:
    functions: list[LambdaFunction] = []
    problems: list[Problem] = []

    def read(configuration: Mapping[str, Any]) -> LambdaFunction | Problem | None:
        try:
            return _with_reads(lambda_client, configuration, reads)
        except GuardrailsError as error:
            return Problem(str(configuration.get("FunctionName", "?")), str(error))

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for page in lambda_client.get_paginator("list_functions").paginate():
            configurations = page.get("Functions", [])
            outcomes = pool.map(read, configurations) if workers > 1 else map(read, configurations)
            for outcome in outcomes:
                if isinstance(outcome, Problem):
                    problems.append(outcome)
                elif outcome is not None:
                    functions.append(outcome)
            if progress:
                progress(len(functions), None)
    return functions, problems


def read_function(lambda_client: Any, name: str, rules: Iterable[Rule]) -> LambdaFunction | None:
    """One function from the Lambda API with the reads ``rules`` need; None when it does not
    exist (any more)."""
    try:
        configuration = lambda_client.get_function_configuration(FunctionName=name)
    except ClientError as error:
        if _code(error) == NOT_FOUND:
            return None
        raise
    reads = frozenset(read for rule in rules for read in rule.lambda_api_reads)
    return _with_reads(lambda_client, configuration, reads)


def _with_reads(
    lambda_client: Any, configuration: Mapping[str, Any], reads: frozenset[str]
) -> LambdaFunction | None:
    arn = configuration["FunctionArn"]
    try:
        policy = _policy(lambda_client, arn) if "GetPolicy" in reads else None
        concurrency = (
            lambda_client.get_function_concurrency(FunctionName=arn)
            if "GetFunctionConcurrency" in reads
            else None
        )
    except ClientError as error:
        if _code(error) == NOT_FOUND:  # deleted between the listing and the read
            return None
        raise
    return function_from_lambda_api(configuration, policy, concurrency)


def _policy(lambda_client: Any, arn: str) -> Mapping[str, Any] | None:
    try:
        response: Mapping[str, Any] = lambda_client.get_policy(FunctionName=arn)
    except ClientError as error:
        # No policy and no function answer alike; the function's existence was just read.
        if _code(error) == NOT_FOUND:
            return None
        raise
    return response


def environment_variable_names(lambda_client: Any, function: LambdaFunction) -> Environment | None:
    """Names of the function's environment variables (values are dropped at once), or the
    error Lambda gave instead of them (``Environment.Error``: the caller cannot decrypt them,
    so they exist, names unknown); None when the function does not exist any more. One
    GetFunctionConfiguration call."""
    try:
        configuration = lambda_client.get_function_configuration(
            FunctionName=function.arn or function.name
        )
    except ClientError as error:
        if _code(error) == NOT_FOUND:
            return None
        raise
    return environment_from(get_ignoring_case(configuration, "Environment"), "Environment")


def history_item(
    config: Any, resource_type: str, resource_id: str, capture_time: Any
) -> Mapping[str, Any] | None:
    """The item an oversized notification stands for (``GetResourceConfigHistory`` with
    ``laterTime`` = its capture time, limit 1); None when Config no longer has it."""
    arguments: dict[str, Any] = {
        "resourceType": resource_type,
        "resourceId": resource_id,
        "limit": 1,
    }
    if capture_time:
        arguments["laterTime"] = capture_time
    try:
        items = config.get_resource_config_history(**arguments).get("configurationItems", [])
    except ClientError as error:
        if _code(error) in ("ResourceNotDiscoveredException", NOT_FOUND):
            return None
        raise
    return items[0] if items else None


def previously_evaluated(config: Any, config_rule_name: str) -> set[str]:
    """Resource ids the Config rule has a COMPLIANT / NON_COMPLIANT result for."""
    ids: set[str] = set()
    pages = config.get_paginator("get_compliance_details_by_config_rule").paginate(
        ConfigRuleName=config_rule_name,
        ComplianceTypes=["COMPLIANT", "NON_COMPLIANT"],
        PaginationConfig={"PageSize": BATCH_SIZE},
    )
    for page in pages:
        for result in page.get("EvaluationResults", []):
            qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
            if qualifier.get("ResourceType", LAMBDA_FUNCTION) == LAMBDA_FUNCTION:
                ids.add(qualifier["ResourceId"])
    return ids


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
