"""One CloudWatch dashboard per deployment: what the rule functions did, rule by rule.

The rule rows graph the Powertools EMF metrics the handler emits (namespace
``POWERTOOLS_METRICS_NAMESPACE``, dimensions ``service`` = the deployment's service name and
``rule`` = the bare rule id, see ``rules.handler``): evaluations by compliance, findings imported
and failed, failures by cause; and each rule function's own ``AWS/Lambda`` invocations, errors,
throttles and duration. Above them: the state of the deployment's alarms (``GuardrailsAlarms``)
and the dead-letter queue's depth.

The ``service`` dimension is what keeps two deployments in one account apart: every instance
shares the namespace, and each sets its functions' ``POWERTOOLS_SERVICE_NAME`` to its own stack
name (``rule_construct.DEPLOYMENT_SERVICE_NAME``), which this dashboard graphs.

Dashboard names are unique per account across regions: the default name is
``<stack name>-<region>``, resolved by CloudFormation (stack names are unique per account and
region), so two regions or two instances never collide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.rule_construct import DEPLOYMENT_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE
from rules.handler import METRIC_FOR
from rules.model import Compliance
from rules.rule import Rule

# The dimensions of every handler metric: Powertools' default `service` dimension, and the one
# the handler adds per invocation (`metrics.add_dimension(name="rule", ...)`).
SERVICE_DIMENSION = "service"
RULE_DIMENSION = "rule"
PERIOD = cdk.Duration.minutes(5)
DEFAULT_INTERVAL = cdk.Duration.days(7)  # a daily sweep shows as seven steps
# Metrics the handler counts (rules/handler.py `count(...)`), by what they say; a test reads
# the handler's source and fails when it counts a metric that is not graphed here.
INVOCATIONS_METRIC = "Invocations"
FINDING_METRICS = ("FindingsImported", "FindingsFailed")
FAILURE_METRICS = (
    "Errors",
    "EvaluationErrors",
    "EvaluationsFailed",
    "InvalidInput",
    "InvalidParameters",
    "AccessDenied",
)
FULL_WIDTH = 24
HEIGHT = 6


class MeteredRule(Protocol):
    """What the dashboard needs of a deployed rule (``ConfigLambdaRule`` has it)."""

    @property
    def rule(self) -> Rule: ...

    @property
    def name(self) -> str: ...

    @property
    def function(self) -> lambda_.IFunction: ...


def default_dashboard_name() -> str:
    """``<stack name>-<region>``: dashboard names are global to the account, stack names unique
    per account and region (both only letters, digits and hyphens, as dashboard names allow)."""
    name: str = cdk.Fn.join("-", [cdk.Aws.STACK_NAME, cdk.Aws.REGION])
    return name


def handler_metric(
    name: str, *, rule_id: str, service_name: str, label: str | None = None
) -> cloudwatch.Metric:
    """One EMF metric the handler emits for ``rule_id`` in the deployment ``service_name``."""
    return cloudwatch.Metric(
        namespace=POWERTOOLS_METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={SERVICE_DIMENSION: service_name, RULE_DIMENSION: rule_id},
        statistic="Sum",
        period=PERIOD,
        label=label or name,
    )


def evaluation_metrics(rule_id: str, service_name: str) -> Mapping[Compliance, cloudwatch.Metric]:
    return {
        compliance: handler_metric(
            metric, rule_id=rule_id, service_name=service_name, label=compliance.value
        )
        for compliance, metric in METRIC_FOR.items()
    }


class GuardrailsDashboard(Construct):
    """The deployment's dashboard: alarms and dead-letter queue on top, then one block per
    rule. ``service_name`` must be the rule functions' ``POWERTOOLS_SERVICE_NAME``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rules: Sequence[MeteredRule],
        dead_letter_queue: sqs.IQueue,
        alarms: Sequence[cloudwatch.IAlarm] = (),
        service_name: str = DEPLOYMENT_SERVICE_NAME,
        dashboard_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.service_name = service_name
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Resource",
            dashboard_name=dashboard_name or default_dashboard_name(),
            default_interval=DEFAULT_INTERVAL,
        )
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=(
                    "# Lambda Guardrails\nAWS Config rules "
                    + ", ".join(f"`{rule.name}`" for rule in rules)
                    + f". Handler metrics: namespace `{POWERTOOLS_METRICS_NAMESPACE}`, "
                    f"dimension `{SERVICE_DIMENSION}` = `{service_name}`."
                ),
                width=FULL_WIDTH,
                height=2,
            )
        )
        overview: list[cloudwatch.IWidget] = []
        if alarms:
            overview.append(
                cloudwatch.AlarmStatusWidget(
                    title="Alarms", alarms=list(alarms), width=FULL_WIDTH // 2, height=HEIGHT
                )
            )
        overview.append(
            cloudwatch.GraphWidget(
                title="Dead-letter queue: events the functions gave up on",
                left=[
                    dead_letter_queue.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum", label="Messages visible"
                    )
                ],
                left_y_axis=cloudwatch.YAxisProps(min=0),
                width=FULL_WIDTH // 2,
                height=HEIGHT,
            )
        )
        self.dashboard.add_widgets(*overview)
        for rule in rules:
            self.dashboard.add_widgets(*self._rule_widgets(rule))

    def _rule_widgets(self, deployed: MeteredRule) -> list[cloudwatch.IWidget]:
        rule_id = deployed.rule.id
        service = self.service_name
        third = FULL_WIDTH // 3
        half = FULL_WIDTH // 2
        function = deployed.function
        return [
            cloudwatch.TextWidget(
                markdown=f"## {deployed.name}\n{deployed.rule.title}",
                width=FULL_WIDTH,
                height=2,
            ),
            cloudwatch.GraphWidget(
                title=f"{rule_id}: evaluations by compliance",
                left=list(evaluation_metrics(rule_id, service).values()),
                stacked=True,
                width=third,
                height=HEIGHT,
            ),
            cloudwatch.GraphWidget(
                title=f"{rule_id}: Security Hub findings",
                left=[
                    handler_metric(name, rule_id=rule_id, service_name=service)
                    for name in FINDING_METRICS
                ],
                width=third,
                height=HEIGHT,
            ),
            cloudwatch.GraphWidget(
                title=f"{rule_id}: failures by cause (handler)",
                left=[
                    handler_metric(name, rule_id=rule_id, service_name=service)
                    for name in FAILURE_METRICS
                ],
                width=third,
                height=HEIGHT,
            ),
            cloudwatch.GraphWidget(
                title=f"{rule_id}: invocations, errors, throttles",
                left=[
                    handler_metric(
                        INVOCATIONS_METRIC,
                        rule_id=rule_id,
                        service_name=service,
                        label="Invocations (handler)",
                    ),
                    function.metric_invocations(period=PERIOD, statistic="Sum"),
                    function.metric_errors(period=PERIOD, statistic="Sum"),
                    function.metric_throttles(period=PERIOD, statistic="Sum"),
                ],
                width=half,
                height=HEIGHT,
            ),
            cloudwatch.GraphWidget(
                title=f"{rule_id}: duration (ms)",
                left=[
                    function.metric_duration(period=PERIOD, statistic=statistic, label=statistic)
                    for statistic in ("Average", "p99", "Maximum")
                ],
                width=half,
                height=HEIGHT,
            ),
        ]
