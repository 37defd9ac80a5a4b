"""``python -m rules scan``: where every Lambda function of an account stands, now.

The same code path as the periodic trigger (``rules.aws``): ``read_functions`` reads what AWS
Config recorded (100 items a call) when a recorder records ``AWS::Lambda::Function``
continuously and healthily, the Lambda API otherwise (and says why), and
``evaluate_with_reads`` adds the one ``GetFunctionConfiguration`` a check may need. Reads run
on a small thread pool sharing one client per service, whose retry mode is ``adaptive``
(client-side rate limiting that backs off when AWS throttles).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Literal, Mapping, Sequence

import botocore.session

from rules.aws.clients import ClientOptions, Clients
from rules.aws.errors import AccessDeniedError
from rules.aws.evaluate import evaluate_with_reads
from rules.aws.findings import build_finding
from rules.aws.inventory import Source, read_functions
from rules.aws.publish import import_findings
from rules.aws.subnets import SubnetZones
from rules.errors import GuardrailsError
from rules.model import Evaluation, LambdaFunction
from rules.naming import DEFAULT_RULE_NAME_PREFIX, config_rule_name
from rules.parameters import Parameters
from rules.registry import RULES_BY_ID
from rules.reports.common import Result
from rules.rule import Rule

WORKERS = 8  # threads per Region; the adaptive retry mode keeps them within the rate limits
MAX_ATTEMPTS = 10

# progress(phase, done, total or None)
ProgressCallback = Callable[[str, int, int | None], None]

SOURCE_NAMES = {
    "config": "AWS Config's recorded configuration items",
    "lambda": "the Lambda API",
    "aggregator": "an AWS Config aggregator's recorded configuration items",
}
ScanSource = Source | Literal["aggregator"]


class EndpointSession(botocore.session.Session):  # type: ignore[misc]
    """A botocore session whose clients all use one endpoint (``--endpoint-url``)."""

    def __init__(self, endpoint_url: str, profile: str | None = None) -> None:
        super().__init__(profile=profile)
        self.endpoint_url = endpoint_url

    def create_client(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("endpoint_url") is None:
            kwargs["endpoint_url"] = self.endpoint_url
        return super().create_client(*args, **kwargs)


def make_session(
    profile: str | None = None, endpoint_url: str | None = None
) -> botocore.session.Session:
    """The standard credential chain (or ``profile``), regional STS like the handler."""
    session = (
        EndpointSession(endpoint_url, profile)
        if endpoint_url
        else botocore.session.Session(profile=profile)
    )
    session.set_config_variable("sts_regional_endpoints", "regional")
    return session


def region_clients(session: botocore.session.Session, region: str) -> Clients:
    return Clients(session, ClientOptions(region, "adaptive", MAX_ATTEMPTS))


@dataclass(frozen=True, slots=True)
class ScanProblem:
    """What got no verdict and why: one function (``resource`` its ARN or name), or a whole
    account and Region (``resource`` empty: its role could not be assumed, its reads failed)."""

    account_id: str | None
    region: str | None
    resource: str
    message: str

    @property
    def place(self) -> str:
        return "/".join(part for part in (self.account_id, self.region) if part) or "-"

    def describe(self) -> str:
        what = f"{self.resource}: no verdict" if self.resource else "not scanned"
        return f"{self.place}: {what}: {self.message}"

    def as_json(self) -> dict[str, str | None]:
        return {
            "error": self.message,
            "account_id": self.account_id,
            "region": self.region,
            "resource": self.resource or None,
        }


@dataclass(frozen=True, slots=True)
class RegionScan:
    region: str
    source: ScanSource
    functions: tuple[LambdaFunction, ...]
    results: tuple[Result, ...]
    problems: tuple[tuple[str, str], ...] = ()
    findings_imported: int | None = field(default=None)
    source_reason: str = ""  # why that source (``Inventory.source_reason``)
    account_id: str | None = None  # set by the organization fan-out

    @property
    def place(self) -> str:
        """ "111122223333/us-east-1" in a fan-out, the Region alone otherwise."""
        return f"{self.account_id}/{self.region}" if self.account_id else self.region

    @property
    def source_description(self) -> str:
        return SOURCE_NAMES[self.source]

    @property
    def source_explanation(self) -> str:
        """The source and why it was used: "the Lambda API: Config recorder 'default' is not
        recording"."""
        if not self.source_reason:
            return self.source_description
        return f"{self.source_description}: {self.source_reason}"


def scan_region(
    clients: Clients,
    rules: Sequence[Rule],
    parameters: Mapping[str, Parameters],
    *,
    source: Source | None = None,
    workers: int = WORKERS,
    progress: ProgressCallback | None = None,
) -> RegionScan:
    """Every function of ``clients``' account and Region under every rule of ``rules``."""

    def listed(count: int, total: int | None) -> None:
        if progress:
            progress("reading", count, total)

    inventory = read_functions(clients, rules, source=source, progress=listed, workers=workers)
    functions = inventory.functions
    done = 0
    zones = SubnetZones()  # each subnet's zone read once per Region scan

    def evaluate(function: LambdaFunction) -> list[Evaluation | tuple[str, str]]:
        outcome: list[Evaluation | tuple[str, str]] = []
        for rule in rules:
            try:
                outcome.append(
                    evaluate_with_reads(
                        rule,
                        function,
                        parameters[rule.id],
                        clients,
                        periodic=True,
                        subnet_zones=zones,
                    )
                )
            except AccessDeniedError:
                raise
            except GuardrailsError as error:
                outcome.append((function.name, f"rule {rule.id}: {error}"))
        return outcome

    results: list[Result] = []
    problems = [(problem.resource_id, problem.message) for problem in inventory.problems]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for function, outcome in zip(functions, pool.map(evaluate, functions), strict=True):
            for item in outcome:
                if isinstance(item, Evaluation):
                    results.append(Result(item, function.arn or None))
                else:
                    problems.append(item)
            done += 1
            if progress:
                progress("evaluating", done, len(functions))
    return RegionScan(
        clients.region,
        inventory.source,
        functions,
        tuple(results),
        tuple(problems),
        source_reason=inventory.source_reason,
    )


def findings_for(
    scan: RegionScan,
    partition: str,
    now: datetime,
    rule_name_prefix: str = DEFAULT_RULE_NAME_PREFIX,
) -> list[dict[str, Any]]:
    """The ASFF findings the handler would import for these evaluations (same builder), naming
    the Config rule as the stack deploys it (``rule_name_prefix`` + rule id)."""
    by_arn = {function.arn: function for function in scan.functions}
    findings = []
    for result in scan.results:
        function = by_arn.get(result.arn or "")
        rule = RULES_BY_ID.get(result.evaluation.rule_id)
        if function is None or rule is None:
            continue
        findings.append(
            build_finding(
                rule,
                result.evaluation,
                function,
                account=function.account_id,
                region=function.region or scan.region,
                partition=partition,
                now=now,
                observed_at=now,  # read from AWS during this scan
                # As the stack names the Config rule, so a published finding keeps the
                # ProductFields of the handler's own.
                config_rule_name=config_rule_name(rule.id, rule_name_prefix),
            )
        )
    return findings


def publish_findings(clients: Clients, findings: Sequence[Mapping[str, Any]]) -> int:
    """BatchImportFindings in chunks of 100, rejected ones retried; raises PublishError."""
    return import_findings(clients.client("securityhub"), findings)
