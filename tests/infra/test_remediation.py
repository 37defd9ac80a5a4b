"""The remediation runbooks and their triggers in the template (infra/remediation.py).

Three deployments in one app, synthesized once: the default (every Config remediation manual,
the custom action created), every allowed runbook automatic through Config, and one automatic
through the Security Hub findings. Everything expected is derived from the runbook registry
(``rules.remediation.runbooks``) and the finding builder, never written out by hand.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aws_cdk as cdk
import pytest
import yaml

from infra.nag import add_checks
from infra.remediation import (
    ACTION_TARGET_LIMIT,
    ACTION_TARGET_NAME,
    FINDINGS_CUSTOM_ACTION,
    FINDINGS_IMPORTED,
    REMEDIATION_NOT_WIRED,
    action_target_id,
    document_name,
    extra_required,
    rules_zip,
    to_yaml,
)
from infra.rule_construct import grant_statement
from infra.settings import SettingsError, load_settings
from infra.stack import GuardrailsStack
from rules.aws.findings import build_finding
from rules.model import LAMBDA_FUNCTION, Compliance, Evaluation
from rules.permissions import Grant
from rules.registry import get_rule
from rules.remediation.runbooks import ATTACHMENT_NAME, OUTPUTS, RUNBOOKS, RUNBOOKS_BY_RULE
from tests.factories import function
from tests.infra.eventbridge import matches

ACCOUNT = "111122223333"
REGION = "us-east-1"
PUBLIC = "lambda-function-public-access-prohibited"
DLQ = "lambda-dlq-check"
CONCURRENCY = "lambda-concurrency-check"
VPC = "lambda-inside-vpc"
CMK = "lambda-env-vars-cmk-encrypted"
AUTOMATIC = [r.rule_id for r in RUNBOOKS if r.automatic_allowed and not extra_required(r)]
CONCURRENCY_PARAMETERS = {"ConcurrencyLimitLow": "2", "ConcurrencyLimitHigh": "20"}
CONTEXTS: dict[str, dict[str, Any]] = {
    "manual": {
        "remediationCustomAction": "create",
        "ruleParameters": {CONCURRENCY: CONCURRENCY_PARAMETERS},
    },
    "config": {
        "autoRemediate": {rule_id: True for rule_id in AUTOMATIC},
        "remediationMaximumAttempts": "3",
        "remediationRetrySeconds": "120",
        "exemptionTagKey": "team:keep",
    },
    "findings": {
        "ruleNamePrefix": "team-b-",
        "autoRemediate": {CONCURRENCY: True},
        "autoRemediateTrigger": "findings",
        "remediationCustomAction": f"arn:aws:securityhub:{REGION}:{ACCOUNT}:action/custom/Fix",
    },
}


@dataclass(frozen=True)
class Deployment:
    template: dict[str, Any]
    warnings: list[str]

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == kind}

    def under(self, rule_id: str, kind: str) -> dict[str, dict[str, Any]]:
        """Resources of ``kind`` under the rule's runbook construct."""
        path = "/Remediation/" + "".join(p.capitalize() for p in rule_id.split("-")) + "/"
        return {
            k: r
            for k, r in self.of_type(kind).items()
            if path in r.get("Metadata", {}).get("aws:cdk:path", "")
        }

    def role(self, rule_id: str, service: str) -> tuple[str, dict[str, Any]] | None:
        """The rule's runbook role trusted by ``service``."""
        found = [
            (k, r)
            for k, r in self.under(rule_id, "AWS::IAM::Role").items()
            if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
            == {"Service": service}
        ]
        assert len(found) <= 1
        return found[0] if found else None


@pytest.fixture(scope="module")
def deployments(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Deployment]]:
    app = cdk.App(
        outdir=str(tmp_path_factory.mktemp("cdk-remediation")),
        context={"aws:cdk:enable-path-metadata": True},
    )
    stacks = {
        key: GuardrailsStack(
            app,
            f"Remediation{key.capitalize()}",
            settings=load_settings(context.get),
            env=cdk.Environment(account=ACCOUNT, region=REGION),
        )
        for key, context in CONTEXTS.items()
    }
    add_checks(app)  # cdk-nag too: an unacknowledged finding fails the synth
    assembly = app.synth()
    result = {}
    for key, stack in stacks.items():
        artifact = assembly.get_stack_artifact(stack.artifact_id)
        warnings = [
            str(m.entry.data) for m in artifact.messages if m.entry.type == "aws:cdk:warning"
        ]
        result[key] = Deployment(artifact.template, warnings)
    yield result


def resolve(value: Any, template: dict[str, Any]) -> Any:
    """CloudFormation's Ref / GetAtt / Fn::Join as they would resolve (roles named after their
    logical id), so patterns and documents can be read as AWS reads them."""
    if isinstance(value, list):
        return [resolve(v, template) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolve(p, template)) for p in parts)
    if set(value) == {"Ref"}:
        pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
        name = value["Ref"]
        if name in pseudo:
            return pseudo[name]
        resource = template["Resources"][name]
        return resource["Properties"].get("Name") or resource["Properties"].get(
            "ConfigRuleName", name
        )
    if set(value) == {"Fn::GetAtt"}:
        logical_id, attribute = value["Fn::GetAtt"]
        if attribute == "Arn":
            return f"arn:aws:iam::{ACCOUNT}:role/{logical_id}"
        return f"{logical_id}.{attribute}"
    return {k: resolve(v, template) for k, v in value.items()}


def documents(deployment: Deployment, prefix: str = "guardrails-") -> dict[str, dict[str, Any]]:
    """Rule id -> the document resource and its parsed content (YAML, as SSM parses it)."""
    found = {}
    for resource in deployment.of_type("AWS::SSM::Document").values():
        content = yaml.safe_load(resolve(resource["Properties"]["Content"], deployment.template))
        rule_id = resource["Properties"]["Name"].removeprefix(prefix).removesuffix("-remediation")
        found[rule_id] = {"resource": resource, "content": content}
    return found


# --- Runbooks ---


def test_one_document_per_runbook_with_the_module_source_byte_for_byte(
    deployments: dict[str, Deployment],
) -> None:
    found = documents(deployments["manual"])
    assert sorted(found) == sorted(r.rule_id for r in RUNBOOKS)
    _, digest = rules_zip()
    for runbook in RUNBOOKS:
        resource, content = found[runbook.rule_id]["resource"], found[runbook.rule_id]["content"]
        properties = resource["Properties"]
        assert properties["Name"] == document_name("guardrails-", runbook.rule_id)
        assert properties["DocumentType"] == "Automation"
        assert properties["DocumentFormat"] == "YAML"
        assert properties["UpdateMethod"] == "NewVersion"
        assert isinstance(properties["Content"], dict | str)  # YAML text (Fn::Join of text)
        assert content["schemaVersion"] == "0.3"
        (step,) = content["mainSteps"]
        assert step["action"] == "aws:executeScript"
        inputs = step["inputs"]
        assert inputs["Runtime"] == "python3.11"
        assert inputs["Handler"] == "script_handler"
        source = runbook.source_path.read_bytes().decode("utf-8")
        assert inputs["Script"] == source  # byte for byte, from the module itself
        assert inputs["Attachment"] == ATTACHMENT_NAME
        assert content["files"] == {ATTACHMENT_NAME: {"checksums": {"sha256": digest}}}
        (attachment,) = properties["Attachments"]
        assert attachment["Key"] == "S3FileUrl" and attachment["Name"] == ATTACHMENT_NAME
        assert {o["Name"]: o["Selector"] for o in step["outputs"]} == {
            o.name: o.selector for o in OUTPUTS
        }
        assert content["outputs"] == [f"{step['name']}.{o.name}" for o in OUTPUTS]


def test_document_parameters_come_from_the_registry(deployments: dict[str, Deployment]) -> None:
    manual, config = documents(deployments["manual"]), documents(deployments["config"])
    for runbook in RUNBOOKS:
        parameters = manual[runbook.rule_id]["content"]["parameters"]
        assert list(parameters) == [p.name for p in runbook.all_parameters] + [
            "AutomationAssumeRole"
        ]
        for parameter in runbook.all_parameters:
            entry = parameters[parameter.name]
            assert entry["type"] == str(parameter.type)
            assert ("default" not in entry) is (parameter.required)
            assert entry.get("allowedPattern") == parameter.allowed_pattern
        assert parameters["DryRun"]["default"] is True  # a manual run only reports
        assert parameters["AutomationAssumeRole"]["default"].startswith(
            f"arn:aws:iam::{ACCOUNT}:role/"
        )
        payload = manual[runbook.rule_id]["content"]["mainSteps"][0]["inputs"]["InputPayload"]
        assert payload == {p.name: "{{ " + p.name + " }}" for p in runbook.all_parameters}
        config_parameters = config[runbook.rule_id]["content"]["parameters"]
        assert config_parameters["ExemptionTagKey"]["default"] == "team:keep"
    concurrency = manual[CONCURRENCY]["content"]["parameters"]["RuleParameters"]
    assert json.loads(concurrency["default"]) == CONCURRENCY_PARAMETERS


def test_yaml_writer_keeps_any_text_exact() -> None:
    tricky = {
        "Script": "  leading spaces\n\n\ttab   \n'quotes' \"double\" {{ x }}: # not a comment\n\n",
        "none": "no newline at the end\nsecond",
        "list": [{"Name": "a", "Type": "String"}, "plain: text", True, 3],
        "true": "yes",
        "empty": {},
    }
    assert yaml.safe_load(to_yaml(tricky)) == tricky


# --- Roles ---


def policy_actions(deployment: Deployment, role: dict[str, Any]) -> dict[str, list[Any]]:
    policies = deployment.of_type("AWS::IAM::ManagedPolicy")
    found: dict[str, list[Any]] = {}
    for reference in role["Properties"]["ManagedPolicyArns"]:
        policy = policies[reference["Ref"]]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                found.setdefault(action, []).append(resolve(statement["Resource"], {}))
    return found


def test_each_automation_role_may_call_exactly_its_runbooks_grants(
    deployments: dict[str, Deployment],
) -> None:
    deployment = deployments["manual"]
    for runbook in RUNBOOKS:
        found = deployment.role(runbook.rule_id, "ssm.amazonaws.com")
        assert found is not None
        _, role = found
        assert set(policy_actions(deployment, role)) == set(runbook.actions)
        (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert resolve(trust["Condition"], deployment.template) == {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": f"arn:aws:ssm:{REGION}:{ACCOUNT}:automation-execution/*"},
        }


def test_eventbridge_may_start_only_that_runbook_and_pass_only_its_role(
    deployments: dict[str, Deployment],
) -> None:
    deployment = deployments["manual"]
    started = 0
    for runbook in RUNBOOKS:
        found = deployment.role(runbook.rule_id, "events.amazonaws.com")
        if extra_required(runbook):
            assert found is None  # nothing starts it but a person with its parameters
            continue
        assert found is not None
        started += 1
        automation = deployment.role(runbook.rule_id, "ssm.amazonaws.com")
        assert automation is not None
        name = document_name("guardrails-", runbook.rule_id)
        actions = policy_actions(deployment, found[1])
        assert set(actions) == {"ssm:StartAutomationExecution", "iam:PassRole"}
        assert resolve(actions["ssm:StartAutomationExecution"], deployment.template) == [
            f"arn:aws:ssm:{REGION}:{ACCOUNT}:automation-definition/{name}:*"
        ]
        assert actions["iam:PassRole"] == [f"arn:aws:iam::{ACCOUNT}:role/{automation[0]}"]
    assert started == len([r for r in RUNBOOKS if not extra_required(r)]) >= 3


# --- Config remediation configurations ---


def remediations(deployment: Deployment, prefix: str = "guardrails-") -> dict[str, Any]:
    """Rule id -> remediation configuration properties, resolved."""
    found = {}
    for resource in deployment.of_type("AWS::Config::RemediationConfiguration").values():
        properties = resolve(resource["Properties"], deployment.template)
        found[properties["ConfigRuleName"].removeprefix(prefix)] = properties
    return found


def test_remediation_configurations_are_manual_by_default(
    deployments: dict[str, Deployment],
) -> None:
    found = remediations(deployments["manual"])
    # Runbooks needing a parameter Config cannot give (subnets, a key) run from the CLI only.
    assert sorted(found) == sorted(r.rule_id for r in RUNBOOKS if not extra_required(r))
    for rule_id, properties in found.items():
        assert properties["Automatic"] is False
        assert "MaximumAutomaticAttempts" not in properties
        assert properties["TargetType"] == "SSM_DOCUMENT"
        assert properties["TargetId"] == document_name("guardrails-", rule_id)
        assert properties["ResourceType"] == "AWS::Lambda::Function"
        parameters = properties["Parameters"]
        assert parameters["FunctionName"] == {"ResourceValue": {"Value": "RESOURCE_ID"}}
        assert parameters["DryRun"] == {"StaticValue": {"Values": ["false"]}}
        (role,) = parameters["AutomationAssumeRole"]["StaticValue"]["Values"]
        assert role.startswith(f"arn:aws:iam::{ACCOUNT}:role/")
    # The rule's parameters reach the run through the document's default (checked above): a
    # StaticValue holds 256 characters, InputParameters 1,024.
    assert "RuleParameters" not in found[CONCURRENCY]["Parameters"]


def test_auto_remediate_makes_the_config_remediation_automatic(
    deployments: dict[str, Deployment],
) -> None:
    found = remediations(deployments["config"])
    assert sorted(found) == sorted(AUTOMATIC)
    for properties in found.values():
        assert properties["Automatic"] is True
        assert properties["MaximumAutomaticAttempts"] == 3
        assert properties["RetryAttemptSeconds"] == 120
        assert properties["Parameters"]["ExemptionTagKey"] == {
            "StaticValue": {"Values": ["team:keep"]}
        }
    # The findings path stays off: never two automatic runs for one FAILED function.
    assert not [
        r
        for r in deployments["config"].of_type("AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"]["detail-type"] == [FINDINGS_IMPORTED]
    ]


def test_findings_trigger_keeps_config_manual(deployments: dict[str, Deployment]) -> None:
    found = remediations(deployments["findings"], "team-b-")
    assert all(properties["Automatic"] is False for properties in found.values())
    imported = [
        r
        for r in deployments["findings"].of_type("AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"]["detail-type"] == [FINDINGS_IMPORTED]
    ]
    assert len(imported) == 1
    (target,) = imported[0]["Properties"]["Targets"]
    assert resolve(target["Arn"], {}) == (
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:automation-definition/"
        f"{document_name('team-b-', CONCURRENCY)}:$DEFAULT"
    )
    transformer = target["InputTransformer"]
    assert transformer["InputPathsMap"] == {
        "function": "$.detail.findings[0].Resources[0].Details.AwsLambdaFunction.FunctionName"
    }
    template = resolve(transformer["InputTemplate"], deployments["findings"].template)
    filled = json.loads(template.replace("<function>", "orders-api"))
    assert filled["FunctionName"] == ["orders-api"] and filled["DryRun"] == ["false"]


# --- EventBridge patterns against the findings the handler builds ---


def finding(
    rule_id: str,
    compliance: Compliance,
    *,
    rule_name: str | None = None,
    account: str = ACCOUNT,
    workflow: str = "NEW",
) -> dict[str, Any]:
    """What Security Hub sends for the finding ``build_finding`` builds: the finding plus the
    workflow status Security Hub gives every imported finding (NEW unless someone changed it)."""
    rule = get_rule(rule_id)
    subject = function(
        arn=f"arn:aws:lambda:{REGION}:{account}:function:orders-api", account_id=account
    )
    now = datetime(2026, 11, 1, tzinfo=UTC)
    built = build_finding(
        rule,
        Evaluation(rule_id, "orders-api", LAMBDA_FUNCTION, compliance, "because"),
        subject,
        account=account,
        region=REGION,
        partition="aws",
        now=now,
        observed_at=now,
        config_rule_name=rule_name or f"guardrails-{rule_id}",
    )
    return {**built, "Workflow": {"Status": workflow}, "WorkflowState": workflow}


def event(detail_type: str, found: dict[str, Any], resources: list[str]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "1a1111a1-b22b-3c33-444d-5555e5ee5555",
        "detail-type": detail_type,
        "source": "aws.securityhub",
        "account": ACCOUNT,
        "time": "2026-11-01T00:00:00Z",
        "region": REGION,
        "resources": resources,
        "detail": {"findings": [found]},
    }


def patterns(deployment: Deployment, detail_type: str) -> dict[str, dict[str, Any]]:
    """Rule id (GeneratorId) -> the resolved pattern of its trigger."""
    found = {}
    for rule in deployment.of_type("AWS::Events::Rule").values():
        pattern = resolve(rule["Properties"]["EventPattern"], deployment.template)
        if pattern["detail-type"] == [detail_type]:
            (rule_id,) = pattern["detail"]["findings"]["GeneratorId"]
            found[rule_id] = pattern
    return found


def test_the_finding_trigger_matches_only_our_failed_active_findings(
    deployments: dict[str, Deployment],
) -> None:
    (pattern,) = patterns(deployments["findings"], FINDINGS_IMPORTED).values()
    ours = "team-b-lambda-concurrency-check"

    def imported(**kwargs: Any) -> dict[str, Any]:
        compliance = kwargs.pop("compliance", Compliance.NON_COMPLIANT)
        kwargs.setdefault("rule_name", ours)
        return event(FINDINGS_IMPORTED, finding(CONCURRENCY, compliance, **kwargs), [])

    assert matches(pattern, imported())
    assert not matches(pattern, imported(compliance=Compliance.COMPLIANT))  # PASSED
    assert not matches(pattern, imported(compliance=Compliance.NOT_APPLICABLE))  # ARCHIVED
    assert not matches(pattern, imported(workflow="SUPPRESSED"))
    assert matches(pattern, imported(workflow="NOTIFIED"))
    # Another instance's finding (the default prefix) in the same account.
    assert not matches(pattern, imported(rule_name=f"guardrails-{CONCURRENCY}"))
    # A member account's finding aggregated into this account.
    assert not matches(pattern, imported(account="444455556666"))
    # Another rule's finding.
    other = finding(DLQ, Compliance.NON_COMPLIANT, rule_name=ours)
    assert not matches(pattern, event(FINDINGS_IMPORTED, other, []))
    # The same finding sent to a custom action is not an import.
    custom = imported()
    custom["detail-type"] = FINDINGS_CUSTOM_ACTION
    assert not matches(pattern, custom)
    # An Id that looks like ours, imported into another product (anyone allowed
    # BatchImportFindings can write such an Id, but only into their own product).
    forged = imported()
    forged["detail"]["findings"][0]["ProductArn"] = (
        f"arn:aws:securityhub:{REGION}::product/other-vendor/scanner"
    )
    assert not matches(pattern, forged)


def test_the_custom_action_starts_the_runbook_of_each_selected_findings_rule(
    deployments: dict[str, Deployment],
) -> None:
    deployment = deployments["manual"]
    (target,) = deployment.of_type("AWS::SecurityHub::ActionTarget").values()
    properties = target["Properties"]
    assert properties["Name"] == ACTION_TARGET_NAME and len(ACTION_TARGET_NAME) <= 20
    assert properties["Id"] == action_target_id("guardrails-")
    assert properties["Id"].isalnum() and len(properties["Id"]) <= ACTION_TARGET_LIMIT
    assert properties["Description"].startswith("Remediate with Lambda Guardrails")
    assert action_target_id("guardrails-") != action_target_id("team-b-")
    (target_id,) = deployment.of_type("AWS::SecurityHub::ActionTarget")
    arn = resolve({"Fn::GetAtt": [target_id, "ActionTargetArn"]}, {})
    found = patterns(deployment, FINDINGS_CUSTOM_ACTION)
    assert sorted(found) == sorted(r.rule_id for r in RUNBOOKS if not extra_required(r))
    for rule_id, pattern in found.items():
        for status in (Compliance.NON_COMPLIANT, Compliance.COMPLIANT):
            # One event per selected finding: each reaches its own rule's runbook only.
            selected = event(FINDINGS_CUSTOM_ACTION, finding(rule_id, status), [arn])
            assert matches(pattern, selected)
            assert [r for r, p in found.items() if matches(p, selected)] == [rule_id]
        other_action = event(FINDINGS_CUSTOM_ACTION, finding(rule_id, status), [arn + "x"])
        assert not matches(pattern, other_action)
        assert not matches(pattern, event(FINDINGS_IMPORTED, finding(rule_id, status), [arn]))
    # An existing action given by ARN: its rules use it, nothing is created.
    existing = deployments["findings"]
    assert not existing.of_type("AWS::SecurityHub::ActionTarget")
    for pattern in patterns(existing, FINDINGS_CUSTOM_ACTION).values():
        assert pattern["resources"] == [CONTEXTS["findings"]["remediationCustomAction"]]


def test_no_custom_action_unless_asked(deployments: dict[str, Deployment]) -> None:
    assert not deployments["config"].of_type("AWS::SecurityHub::ActionTarget")
    assert not patterns(deployments["config"], FINDINGS_CUSTOM_ACTION)


# --- Settings ---


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"autoRemediate": {VPC: True}}, "manual only"),
        ({"autoRemediate": {CMK: True}}, "needs KmsKeyArn"),
        ({"autoRemediate": {"lambda-nope": True}}, "unknown rule id"),
        ({"autoRemediate": '["x"]'}, "expected an object"),
        ({"autoRemediateTrigger": "both"}, "is not one of"),
        ({"remediationMaximumAttempts": "26"}, "1-25"),
        ({"remediationRetrySeconds": "0"}, "1-2678000"),
        ({"exemptionTagKey": "aws:exempt"}, "the aws: prefix is reserved"),
        ({"remediationCustomAction": "yes"}, "custom action ARN"),
        (
            {
                "autoRemediate": {DLQ: True},
                "autoRemediateTrigger": "findings",
                "securityHubExport": "false",
            },
            "needs securityHubExport",
        ),
        ({"autoRemediate": {DLQ: True}, "remediation": "false"}, "remediation is false"),
    ],
)
def test_bad_remediation_settings_are_refused(context: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(context.get)


def test_remediation_off_deploys_no_runbook() -> None:
    app = cdk.App()
    stack = GuardrailsStack(app, "Off", settings=load_settings({"remediation": "false"}.get))
    assert not [
        c
        for c in stack.node.find_all()
        if isinstance(c, cdk.CfnResource)
        and c.cfn_resource_type.startswith(("AWS::SSM::", "AWS::Config::Remediation"))
    ]


def test_a_template_without_assets_says_it_has_no_runbooks() -> None:
    app = cdk.App()
    stack = GuardrailsStack(
        app,
        "Member",
        settings=load_settings({}.get),
        code_source=lambda scope: cdk.aws_lambda.Code.from_inline("x"),
    )
    assert stack.remediation is None
    messages = [str(m.data) for m in stack.node.metadata if m.type == "aws:cdk:warning"]
    assert [m for m in messages if REMEDIATION_NOT_WIRED in m]


def test_runbook_names_refuse_reserved_prefixes() -> None:
    with pytest.raises(SettingsError, match="reserves"):
        document_name("aws-", PUBLIC)
    assert RUNBOOKS_BY_RULE[PUBLIC].rule_id in document_name("guardrails-", PUBLIC)


# --- Grant conditions and the DLQ runbook's function role policy ---


def _fill(text: str, queue_prefix: str) -> str:
    return text.format(partition="aws", region=REGION, account=ACCOUNT, queue_prefix=queue_prefix)


def automation_statements(deployment: Deployment, rule_id: str) -> list[dict[str, Any]]:
    found = deployment.role(rule_id, "ssm.amazonaws.com")
    assert found is not None
    policies = deployment.of_type("AWS::IAM::ManagedPolicy")
    return [
        resolve(statement, deployment.template)
        for reference in found[1]["Properties"]["ManagedPolicyArns"]
        for statement in policies[reference["Ref"]]["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_automation_role_statements_are_the_grants_with_their_conditions(
    deployments: dict[str, Deployment],
) -> None:
    for key, prefix in (("manual", "guardrails-dlq-"), ("findings", "team-b-dlq-")):
        deployment = deployments[key]
        for runbook in RUNBOOKS:
            statements = automation_statements(deployment, runbook.rule_id)
            expected = []
            for grant in runbook.grants:
                fill = functools.partial(_fill, queue_prefix=prefix)

                statement: dict[str, Any] = {
                    "Action": list(grant.actions) if len(grant.actions) > 1 else grant.actions[0],
                    "Effect": "Allow",
                    "Resource": fill(grant.resource),
                }
                if grant.conditions:
                    statement["Condition"] = {
                        operator: {k: fill(str(v)) for k, v in keys.items()}
                        for operator, keys in grant.conditions.items()
                    }
                expected.append(statement)
            assert statements == expected, runbook.rule_id
    iam = automation_statements(deployments["manual"], DLQ)
    assert not [s for s in iam if s["Action"] in ("iam:PutRolePolicy", ["iam:PutRolePolicy"])]
    (attach,) = [s for s in iam if s["Action"] == "iam:AttachRolePolicy"]
    assert attach["Condition"] == {
        "ArnEquals": {
            "iam:PolicyARN": f"arn:aws:iam::{ACCOUNT}:policy/guardrails-dlq-send-{REGION}"
        }
    }
    (create,) = [
        s
        for s in automation_statements(deployments["findings"], DLQ)
        if "sqs:CreateQueue" in s["Action"]
    ]
    assert create["Resource"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:team-b-dlq-*"
    cmk = {
        tuple(s["Action"]) if isinstance(s["Action"], list) else s["Action"]: s
        for s in automation_statements(deployments["manual"], CMK)
    }
    assert cmk["kms:CreateGrant"]["Condition"] == {
        "StringEquals": {"kms:ViaService": f"lambda.{REGION}.amazonaws.com"},
        "Bool": {"kms:GrantIsForAWSResource": "true"},
    }
    assert cmk["kms:Encrypt"]["Condition"] == {
        "StringEquals": {"kms:ViaService": f"lambda.{REGION}.amazonaws.com"}
    }


def test_the_dlq_runbook_attaches_one_stack_policy_of_its_own_deployment(
    deployments: dict[str, Deployment],
) -> None:
    for key, prefix in (("manual", "guardrails-"), ("findings", "team-b-")):
        deployment = deployments[key]
        found = {
            k: resolve(p["Properties"], deployment.template)
            for k, p in deployment.under(DLQ, "AWS::IAM::ManagedPolicy").items()
            if "ManagedPolicyName" in p["Properties"]
        }
        ((logical_id, properties),) = found.items()
        assert properties["ManagedPolicyName"] == f"{prefix}dlq-send-{REGION}"
        assert properties["PolicyDocument"]["Statement"] == [
            {
                "Action": "sqs:SendMessage",
                "Effect": "Allow",
                "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{prefix}dlq-*",
            }
        ]
        assert "Roles" not in properties  # attached by the runbook, to functions' roles only
        parameters = documents(deployment, prefix)[DLQ]["content"]["parameters"]
        assert parameters["QueueNamePrefix"]["default"] == f"{prefix}dlq-"
        # resolve() spells a Ref to a resource without Name as its logical id.
        assert parameters["DeadLetterPolicyArn"]["default"] == logical_id


def test_grant_statements_carry_conditions_in_every_derivation() -> None:
    """The rule functions' roles and the runbooks' roles (``resource_arn``) and the member role
    (one value per central region) all write a grant with ``grant_statement``."""
    grant = Grant(
        ("kms:Encrypt",),
        "arn:{partition}:kms:{region}:{account}:key/*",
        "test",
        conditions={"StringEquals": {"kms:ViaService": "lambda.{region}.amazonaws.com"}},
    )
    stack = cdk.Stack(cdk.App(), "Conditions", env=cdk.Environment(account=ACCOUNT, region=REGION))
    single = stack.resolve(grant_statement(grant).to_statement_json())
    assert single["Condition"] == {
        "StringEquals": {
            "kms:ViaService": {
                "Fn::Join": ["", ["lambda.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
            }
        }
    }
    regions = ["us-east-1", "eu-west-1"]

    def per_region(value: str) -> list[str]:
        return sorted({value.format(partition="aws", region=r, account=ACCOUNT) for r in regions})

    member = stack.resolve(
        grant_statement(grant, per_region, per_region(grant.resource)).to_statement_json()
    )
    assert member["Condition"] == {
        "StringEquals": {
            "kms:ViaService": ["lambda.eu-west-1.amazonaws.com", "lambda.us-east-1.amazonaws.com"]
        }
    }
    plain = Grant(("lambda:GetPolicy",), "*", "test")
    assert "Condition" not in stack.resolve(grant_statement(plain).to_statement_json())
