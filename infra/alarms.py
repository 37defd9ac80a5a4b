"""CloudWatch alarms on what would otherwise go unnoticed: a rule function that fails (an
evaluation that never reached Config) and an event in the dead-letter queue (one Lambda gave up
on after its retries).

Alarm names are left to CloudFormation (stack name, logical id and a random suffix), so two
instances of the stack in one account and region cannot collide.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.nag import NIST, acknowledge
from infra.rule_construct import ConfigLambdaRule

PERIOD = cdk.Duration.minutes(5)
NO_TOPIC_REASON = (
    "No alarmTopicArn in the context: the alarms change state in the CloudWatch console and "
    "API only; set alarmTopicArn to be notified"
)


class GuardrailsAlarms(Construct):
    """One alarm per rule function on ``Errors`` > 0 and one on the dead-letter queue's
    ``ApproximateNumberOfMessagesVisible`` > 0, notifying ``topic_arn`` (when given) on alarm
    and on recovery."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rules: Sequence[ConfigLambdaRule],
        dead_letter_queue: sqs.IQueue,
        topic_arn: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        # Keyed and named by rule id: the logical ids stay when ruleNamePrefix changes.
        self.function_errors: dict[str, cloudwatch.Alarm] = {
            rule.rule.id: cloudwatch.Alarm(
                self,
                f"{rule.node.id}Errors",
                alarm_description=(
                    f"AWS Config rule {rule.name}: its function failed (an evaluation may be "
                    "missing in Config and Security Hub); its log group names the cause"
                ),
                metric=rule.function.metric_errors(period=PERIOD, statistic="Sum"),
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                # No invocation, no datapoint: that is not an error.
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            for rule in rules
        }
        self.dead_letter_messages = cloudwatch.Alarm(
            self,
            "DeadLetterMessages",
            alarm_description=(
                "Lambda Guardrails: events the rule functions failed on after Lambda's retries "
                "wait in the dead-letter queue (kept 14 days); read them, fix the cause, then "
                "purge the queue"
            ),
            metric=dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=PERIOD, statistic="Maximum"
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            # SQS stops publishing for a queue that stays empty and untouched for six hours.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        if topic_arn is None:
            acknowledge(self, "CloudWatchAlarmAction", None, NO_TOPIC_REASON, pack=NIST)
            return
        region = cdk.Stack.of(self).region
        topic_region = cdk.Arn.split(topic_arn, cdk.ArnFormat.NO_RESOURCE_NAME).region
        if not cdk.Token.is_unresolved(region) and topic_region != region:
            # CloudWatch refuses an SNS action in another region than the alarm's.
            raise ValueError(
                f"alarmTopicArn: {topic_arn} is in {topic_region}, the stack in {region}: "
                "CloudWatch alarms notify topics of their own region only"
            )
        action = cloudwatch_actions.SnsAction(sns.Topic.from_topic_arn(self, "Topic", topic_arn))
        for alarm in self.alarms:
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)

    @property
    def alarms(self) -> tuple[cloudwatch.Alarm, ...]:
        return (*self.function_errors.values(), self.dead_letter_messages)
