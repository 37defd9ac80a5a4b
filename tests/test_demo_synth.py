from __future__ import annotations

from pathlib import Path

from demo.synth import summarize, synthesize

TEMPLATE = {
    "Resources": {
        "Rule1": {
            "Type": "AWS::Config::ConfigRule",
            "Properties": {
                "ConfigRuleName": "guardrails-lambda-dlq-check",
                "Source": {
                    "Owner": "CUSTOM_LAMBDA",
                    "SourceDetails": [
                        {"MessageType": "ConfigurationItemChangeNotification"},
                        {
                            "MessageType": "ScheduledNotification",
                            "MaximumExecutionFrequency": "TwentyFour_Hours",
                        },
                    ],
                },
            },
        },
        "Fn1": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.12",
                "Architectures": ["arm64"],
                "ReservedConcurrentExecutions": 5,
                "DeadLetterConfig": {"TargetArn": {"Ref": "Q"}},
            },
        },
        "Errors1": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "Namespace": "AWS/Lambda",
                "MetricName": "Errors",
                "Threshold": 0,
                "AlarmActions": ["arn:aws:sns:eu-west-1:111122223333:alerts"],
            },
        },
        "Dlq1": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Threshold": 0,
            },
        },
        "Role1": {"Type": "AWS::IAM::Role", "Properties": {"ManagedPolicyArns": [{"Ref": "P1"}]}},
        "Role2": {"Type": "AWS::IAM::Role", "Properties": {}},
        "P1": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "PolicyDocument": {
                    "Statement": [
                        {"Effect": "Allow", "Action": ["config:PutEvaluations"]},
                        {"Effect": "Deny", "Action": "lambda:*"},
                    ]
                }
            },
        },
        "P2": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "Roles": [{"Ref": "Role2"}],
                "PolicyDocument": {"Statement": [{"Action": "lambda:GetPolicy"}]},
            },
        },
    }
}


def test_summary_names_rules_functions_and_each_roles_actions() -> None:
    lines = summarize(TEMPLATE)
    text = "\n".join(lines)
    assert (
        "  guardrails-lambda-dlq-check  [CUSTOM_LAMBDA; ConfigurationItemChangeNotification, "
        "ScheduledNotification/TwentyFour_Hours]" in lines
    )
    assert "Alarms (2):" in lines
    assert (
        "  Errors1: AWS/Lambda Errors > 0, notifies arn:aws:sns:eu-west-1:111122223333:alerts"
        in lines
    )
    assert "  Dlq1: AWS/SQS ApproximateNumberOfMessagesVisible > 0, notifies no one" in lines
    assert "Fn1: python3.12, arm64, 128 MB, reserved concurrency 5, DLQ, no CMK, no VPC" in text
    # The Deny statement is not an action the role may call.
    assert "  Role1: config:PutEvaluations" in lines
    assert "  Role2: lambda:GetPolicy" in lines


def test_synth_is_skipped_without_an_app(tmp_path: Path) -> None:
    templates, problem = synthesize(tmp_path)
    assert templates == []
    assert problem is not None and "app.py" in problem
