"""Reading Lambda functions: what AWS Config recorded, else the Lambda API.

``read_functions`` is the one code path the periodic handler and ``python -m rules scan`` share:
Config's recorded items in batches (``ListDiscoveredResources`` + ``BatchGetResourceConfig``, 100
per call) when a recorder records ``AWS::Lambda::Function`` continuously and is healthy
(``recorder_health``), else ``ListFunctions`` plus the per-function reads the selected rules need
(``Rule.api_reads``). The inventory says which source it used and why.

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

from rules.adapters.common import Environment
from rules.adapters.config_item import configuration_item_from_dict
from rules.adapters.lambda_api import (
    code_signing_from,
    environment_of,
    environment_secrets_of,
    event_invoke_config_from_lambda_api,
    function_from_lambda_api,
    function_urls_from,
    qualified_policy_from_lambda_api,
)
from rules.aws.errors import ReadError
from rules.errors import GuardrailsError
from rules.model import (
    LAMBDA_FUNCTION,
    CodeSigning,
    EventInvokeConfig,
    FunctionUrl,
    LambdaFunction,
    QualifiedPolicy,
    QualifierKind,
    SecretFinding,
)
from rules.role_index import with_role_peers
from rules.rule import Field, Rule

BATCH_SIZE = 100  # ListDiscoveredResources page and BatchGetResourceConfig maximum
UNPROCESSED_ATTEMPTS = 4
NOT_FOUND = "ResourceNotFoundException"
NOT_RECORDED = "ResourceNotRecorded"

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
    source_reason: str = ""  # why this source: the recorders' health, or that it was asked for


def read_functions(
    clients: ClientSource,
    rules: Sequence[Rule],
    *,
    source: Source | None = None,
    progress: Progress | None = None,
    workers: int = 1,
) -> Inventory:
    """Every ``$LATEST`` function of the account and Region. ``source`` forces one source
    ("config" raises ``UnhealthyRecorderError`` when no recorder records Lambda continuously and
    healthily: its inventory would be empty or old); by default Config when a recorder does,
    else the Lambda API.

    ``workers`` > 1 runs the Lambda API fallback's per-function reads on that many threads
    (one shared client: give it the ``adaptive`` retry mode so they stay within the rate
    limits); the order of the result does not change. Config's batches stay sequential."""
    source, reason = _choose_source(clients, source)
    if source == "config":
        functions, problems = _read_from_config(clients.client("config"), progress)
    else:
        reads = frozenset(read for rule in rules for read in rule.api_reads)
        functions, problems = _read_from_lambda(clients.client("lambda"), reads, progress, workers)
    if any(Field.ROLE_PEERS in rule.periodic_reads for rule in rules):
        # The cross-function view the unique-role rule needs, from what was just read; a
        # function that could not be read may share a role, so the count goes with it.
        functions = with_role_peers(
            functions, scope="the account and Region", whole_account=True, unread=len(problems)
        )
    return Inventory(tuple(functions), source, tuple(problems), reason)


class UnhealthyRecorderError(GuardrailsError):
    """Config's inventory was asked for, but no recorder keeps it complete and current."""

    def __init__(self, health: RecorderHealth) -> None:
        self.health = health
        super().__init__(f"cannot read functions from AWS Config: {health.reason}")


def _choose_source(clients: ClientSource, asked: Source | None) -> tuple[Source, str]:
    if asked == "lambda":
        return "lambda", "the Lambda API was asked for"
    health = recorder_health(clients.client("config"))
    if health.usable:
        return "config", health.reason
    if asked == "config":
        raise UnhealthyRecorderError(health)
    return "lambda", health.reason


# Statuses of a recorder that is recording (AWS writes "Pending", moto "PENDING").
HEALTHY_STATUSES = frozenset({"success", "pending"})
CONTINUOUS = "CONTINUOUS"


@dataclass(frozen=True, slots=True)
class RecorderCheck:
    """One recorder judged as the source of Lambda functions; ``reason`` names it."""

    recorder: str
    usable: bool
    reason: str


@dataclass(frozen=True, slots=True)
class RecorderHealth:
    """Whether Config's inventory of Lambda functions is complete and current: some recorder
    records AWS::Lambda::Function continuously, is recording, and its last status is Success or
    Pending. ``reason`` names the recorder used, or says per recorder why none can be."""

    usable: bool
    reason: str
    checks: tuple[RecorderCheck, ...] = ()


def recorder_health(config: Any) -> RecorderHealth:
    """``DescribeConfigurationRecorders``, then ``DescribeConfigurationRecorderStatus`` when a
    recorder is set up to record Lambda continuously (both without arguments: the account's
    customer managed recorder, and any other recorder AWS lists)."""
    recorders = config.describe_configuration_recorders().get("ConfigurationRecorders") or []
    if not recorders:
        return RecorderHealth(False, "no AWS Config recorder in this Region")
    problems = [_setup_problem(recorder) for recorder in recorders]
    statuses: list[Mapping[str, Any]] = []
    if any(problem is None for problem in problems):
        statuses = (
            config.describe_configuration_recorder_status().get("ConfigurationRecordersStatus")
            or []
        )
    checks = tuple(
        RecorderCheck(str(recorder.get("name", "?")), False, problem)
        if problem is not None
        else _status_check(recorder, _status_of(recorder, statuses))
        for recorder, problem in zip(recorders, problems, strict=True)
    )
    usable = [check for check in checks if check.usable]
    if usable:
        return RecorderHealth(True, usable[0].reason, checks)
    return RecorderHealth(False, "; ".join(check.reason for check in checks), checks)


def _label(recorder: Mapping[str, Any]) -> str:
    name = recorder.get("name", "?")
    principal = recorder.get("servicePrincipal")
    if principal:
        return f"service-linked Config recorder '{name}' (for {principal})"
    return f"Config recorder '{name}'"


def _setup_problem(recorder: Mapping[str, Any]) -> str | None:
    """Why the recorder's settings keep Lambda functions out of its inventory or let them go
    stale; None when it is set up to record them continuously."""
    label = _label(recorder)
    scope = str(recorder.get("recordingScope") or "")
    if recorder.get("servicePrincipal") and scope.upper() != "PAID":
        # A service-linked recorder's types and frequency are the linked service's to change, and
        # with an INTERNAL scope its items are not delivered to the account: not an inventory
        # this account controls.
        return f"{label} records for that service (recordingScope {scope or 'not given'})"
    if not _group_records_lambda(recorder.get("recordingGroup") or {}):
        return f"{label} does not record {LAMBDA_FUNCTION}"
    frequency, where = _lambda_frequency(recorder.get("recordingMode") or {})
    if frequency == "DAILY":
        return f"{label} records {LAMBDA_FUNCTION} only daily ({where} DAILY)"
    if frequency != CONTINUOUS:
        return f"{label} records {LAMBDA_FUNCTION} with frequency {frequency!r} ({where})"
    return None


def _lambda_frequency(mode: Mapping[str, Any]) -> tuple[str, str]:
    """The frequency Lambda functions are recorded at and where it is set. An override naming
    AWS::Lambda::Function wins over the default (should several name it, any that is not
    continuous); a recorder without recordingMode records continuously (the API's default)."""
    overrides = [
        override
        for override in mode.get("recordingModeOverrides") or []
        if LAMBDA_FUNCTION in (override.get("resourceTypes") or [])
    ]
    for override in overrides:
        frequency = str(override.get("recordingFrequency") or "").upper()
        if frequency != CONTINUOUS:
            description = override.get("description")
            named = f" '{description}'" if description else ""
            return frequency, f"recordingModeOverrides{named}:"
    if overrides:
        return CONTINUOUS, "recordingModeOverrides"
    return str(mode.get("recordingFrequency") or CONTINUOUS).upper(), "recordingFrequency"


def _status_of(
    recorder: Mapping[str, Any], statuses: Sequence[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    arn = recorder.get("arn")
    for status in statuses:
        if arn and status.get("arn"):
            if status["arn"] == arn:
                return status
        elif status.get("name") == recorder.get("name"):
            return status
    return None


def _status_check(recorder: Mapping[str, Any], status: Mapping[str, Any] | None) -> RecorderCheck:
    name = str(recorder.get("name", "?"))
    label = _label(recorder)
    if status is None:
        return RecorderCheck(
            name, False, f"{label} has no status (DescribeConfigurationRecorderStatus)"
        )
    if status.get("recording") is not True:
        return RecorderCheck(name, False, f"{label} is not recording")
    last = str(status.get("lastStatus") or "")
    if last.lower() in HEALTHY_STATUSES:
        return RecorderCheck(
            name, True, f"{label} records {LAMBDA_FUNCTION} continuously (last status {last})"
        )
    if last.lower() == "failure":
        error = ": ".join(
            str(status[key]) for key in ("lastErrorCode", "lastErrorMessage") if status.get(key)
        )
        detail = f" ({error})" if error else ""
        return RecorderCheck(name, False, f"{label} is failing: last status Failure{detail}")
    shown = repr(last) if last else "none"
    return RecorderCheck(
        name, False, f"{label} is recording but its last status is {shown}, not Success or Pending"
    )


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
            if item.function is not None:
                functions.append(item.function)
            elif item.status == NOT_RECORDED:
                # It exists but Config holds no configuration for it: unknown, not deleted (a
                # dropped item would read as "no longer exists" to the sweep).
                problems.append(
                    Problem(
                        item.resource_id, "Config has no configuration for it (ResourceNotRecorded)"
                    )
                )
            # else deleted since the listing: not a function any more
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
    reads = frozenset(read for rule in rules for read in rule.api_reads)
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
        # ListFunctions and GetFunctionConfiguration carry no tags: the exemption tag is one, and
        # lambda-tagged reads them all.
        tags = lambda_client.list_tags(Resource=arn).get("Tags") if "ListTags" in reads else None
    except ClientError as error:
        if _code(error) == NOT_FOUND:  # deleted between the listing and the read
            return None
        raise
    return function_from_lambda_api(configuration, policy, concurrency, tags=tags)


def _policy(
    lambda_client: Any, name: str, qualifier: str | None = None
) -> Mapping[str, Any] | None:
    """The GetPolicy response (of ``qualifier``'s policy when given); None for ResourceNotFound.
    Any other error propagates."""
    arguments = {"FunctionName": name} | ({"Qualifier": qualifier} if qualifier else {})
    try:
        response: Mapping[str, Any] = lambda_client.get_policy(**arguments)
    except ClientError as error:
        # No policy and no function answer alike; the function's existence was just read.
        if _code(error) == NOT_FOUND:
            return None
        raise
    return response


def qualified_policies(
    lambda_client: Any, function: LambdaFunction, *, versions: bool
) -> tuple[QualifiedPolicy, ...] | None:
    """The resource policy of each alias (``ListAliases``) and, with ``versions``, of each
    published version (``ListVersionsByFunction``), one ``GetPolicy(Qualifier=...)`` each:
    permissions added with a qualifier live only there. None when the function no longer exists.

    ResourceNotFound on a qualifier's policy means it has none; any other failure raises
    ``ReadError`` naming the qualifier (no verdict)."""
    # By name (the clients are the function's account and Region): AWS accepts a name or an
    # ARN, moto 5.2.5's ListAliases / ListVersionsByFunction only a name.
    name = function.name
    try:
        qualifiers = [
            (QualifierKind.ALIAS, str(alias["Name"]))
            for page in lambda_client.get_paginator("list_aliases").paginate(FunctionName=name)
            for alias in page.get("Aliases", [])
        ]
        if versions:
            qualifiers += [
                (QualifierKind.VERSION, str(version["Version"]))
                for page in lambda_client.get_paginator("list_versions_by_function").paginate(
                    FunctionName=name
                )
                for version in page.get("Versions", [])
                if version.get("Version") != "$LATEST"
            ]
    except ClientError as error:
        if _code(error) == NOT_FOUND:  # deleted since it was listed
            return None
        raise ReadError(f"function {function.name}: cannot list its qualifiers ({error})") from None
    policies = []
    for kind, qualifier in qualifiers:
        try:
            response = _policy(lambda_client, name, qualifier)
        except ClientError as error:
            raise ReadError(
                f"function {name}: cannot read the policy of {kind.value} '{qualifier}' ({error})"
            ) from None
        policies.append(qualified_policy_from_lambda_api(kind, qualifier, response))
    return tuple(policies)


def environment_variable_names(lambda_client: Any, function: LambdaFunction) -> Environment | None:
    """Names of the function's environment variables (values are dropped at once), or the
    error Lambda gave instead of them (``Environment.Error``: the caller cannot decrypt them,
    so they exist, names unknown); None when the function does not exist any more. One
    GetFunctionConfiguration call."""
    configuration = _configuration(lambda_client, function)
    return None if configuration is None else environment_of(configuration)


def _configuration(lambda_client: Any, function: LambdaFunction) -> dict[str, Any] | None:
    """One GetFunctionConfiguration of ``function``; None when it no longer exists."""
    try:
        response: dict[str, Any] = lambda_client.get_function_configuration(
            FunctionName=function.arn or function.name
        )
    except ClientError as error:
        if _code(error) == NOT_FOUND:
            return None
        raise
    return response


def event_invoke_config(lambda_client: Any, function: LambdaFunction) -> EventInvokeConfig:
    """The function's asynchronous invocation configuration: one
    ``GetFunctionEventInvokeConfig`` without a qualifier (the unqualified function, whose
    DeadLetterConfig the DLQ rule reads too). ResourceNotFound means it has none (the function's
    existence was just read, as for GetPolicy); any other failure is a ``ReadError``."""
    try:
        response = lambda_client.get_function_event_invoke_config(
            FunctionName=function.arn or function.name
        )
    except ClientError as error:
        if _code(error) == NOT_FOUND:
            return event_invoke_config_from_lambda_api(None)
        raise ReadError(
            f"function {function.name}: cannot read its asynchronous invocation configuration "
            f"({error})"
        ) from None
    return event_invoke_config_from_lambda_api(response)


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


# --- issue 11 (rules-b): function URLs, code signing, secrets ---
def function_urls(lambda_client: Any, function: LambdaFunction) -> tuple[FunctionUrl, ...] | None:
    """Every URL of the function and its aliases (``ListFunctionUrlConfigs``, every page); None
    when the function no longer exists. Any other failure is a ``ReadError``: an unreadable
    URL list is never "no URL"."""
    try:
        configs = [
            config
            for page in lambda_client.get_paginator("list_function_url_configs").paginate(
                FunctionName=function.arn or function.name
            )
            for config in page.get("FunctionUrlConfigs", [])
        ]
    except ClientError as error:
        if _code(error) == NOT_FOUND:
            return None
        raise ReadError(
            f"function {function.name}: cannot list its function URLs ({error})"
        ) from None
    return function_urls_from(function.name, configs)


def code_signing(lambda_client: Any, function: LambdaFunction) -> CodeSigning | None:
    """``GetFunctionCodeSigningConfig`` then, when a configuration is attached,
    ``GetCodeSigningConfig``; None when the function no longer exists."""
    try:
        attached = lambda_client.get_function_code_signing_config(
            FunctionName=function.arn or function.name
        )
    except ClientError as error:
        if _code(error) == NOT_FOUND:
            return None
        raise ReadError(
            f"function {function.name}: cannot read its code signing configuration ({error})"
        ) from None
    arn = attached.get("CodeSigningConfigArn")
    if not arn:
        return code_signing_from(attached, None)
    return code_signing_from(attached, code_signing_config(lambda_client, arn, function.name))


def code_signing_config(lambda_client: Any, arn: str, user: str) -> dict[str, Any]:
    """One ``GetCodeSigningConfig`` of ``arn`` (the configuration ``user`` names); any failure is
    a ``ReadError`` (a configuration that cannot be read is no verdict)."""
    try:
        response: dict[str, Any] = lambda_client.get_code_signing_config(CodeSigningConfigArn=arn)
    except ClientError as error:
        raise ReadError(
            f"function {user}: cannot read code signing configuration {arn} ({error})"
        ) from None
    return response


def environment_secrets(
    lambda_client: Any, function: LambdaFunction
) -> tuple[tuple[SecretFinding, ...] | None, str | None] | None:
    """The (name, kind) findings of the function's variables, or the error code Lambda gave
    instead of them; None when the function no longer exists. One GetFunctionConfiguration:
    the values exist only inside this call (errors never quote the response)."""
    configuration = _configuration(lambda_client, function)
    return None if configuration is None else environment_secrets_of(configuration)
