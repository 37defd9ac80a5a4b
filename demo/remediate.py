"""Step 6 of the demo: one remediation, a dry run then a real run, and the finding it turns
PASSED.

moto cannot run an SSM Automation (``StartAutomationExecution`` is not implemented), so the
demo runs the runbook the way SSM's ``aws:executeScript`` would: the ``Script`` embedded in the
synthesized document (``cdk.out``), its ``Handler`` called with the step's ``InputPayload``
filled from the document's parameters, against the demo's moto_server. Then the rule's own
handler re-evaluates the function and re-publishes its finding.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import boto3
import yaml

from demo.config_events import change_event, configuration_item, now
from demo.flow import FlowOutcome, Invoker, findings, handler_output
from demo.seed import SeededAccount
from infra.remediation import (
    ASSUME_ROLE_PARAMETER,
    automation_content,
    document_name,
    rules_zip,
)
from rules.naming import DEFAULT_RULE_NAME_PREFIX, config_rule_name
from rules.registry import get_rule
from rules.remediation.runbooks import (
    DEAD_LETTER_SEND,
    DEFAULT_QUEUE_NAME_PREFIX,
    RUNBOOKS_BY_RULE,
)

RULE_ID = "lambda-dlq-check"
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
UNRESOLVED = "(resolved by CloudFormation at deploy time)"


def document_from_templates(templates: Sequence[Path], name: str) -> dict[str, Any] | None:
    """The runbook ``name`` as SSM parses it, from a synthesized template (deploy-time values
    such as the role ARN left as a note)."""
    for path in templates:
        resources = json.loads(path.read_text()).get("Resources", {})
        for resource in resources.values():
            properties = resource.get("Properties", {})
            if resource.get("Type") == "AWS::SSM::Document" and properties.get("Name") == name:
                content = properties["Content"]
                if isinstance(content, Mapping) and "Fn::Join" in content:
                    separator, parts = content["Fn::Join"]
                    content = separator.join(p if isinstance(p, str) else UNRESOLVED for p in parts)
                loaded: dict[str, Any] = yaml.safe_load(content)
                return loaded
    return None


def payload(document: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The step's InputPayload with ``{{ Parameter }}`` filled from ``given`` and the
    parameters' defaults, as SSM fills it."""
    values = {
        name: given.get(name, spec.get("default")) for name, spec in document["parameters"].items()
    }
    missing = [name for name, value in values.items() if value is None]
    if missing:
        raise ValueError(f"missing required parameters: {', '.join(missing)}")
    step_inputs = document["mainSteps"][0]["inputs"]["InputPayload"]
    return {
        key: values[match.group(1)] if (match := PLACEHOLDER.fullmatch(text)) else text
        for key, text in step_inputs.items()
    }


def run_script(document: Mapping[str, Any], events: Mapping[str, Any]) -> dict[str, Any]:
    """``aws:executeScript``: the embedded source as a module of its own, its handler called
    with the payload (the ``rules`` package is importable, as the attachment makes it in SSM)."""
    inputs = document["mainSteps"][0]["inputs"]
    namespace: dict[str, Any] = {"__name__": "runbook_script"}
    exec(compile(inputs["Script"], "<runbook script>", "exec"), namespace)
    log = io.StringIO()  # what SSM would show as the step's output log
    with contextlib.redirect_stdout(log):
        result: dict[str, Any] = namespace[inputs["Handler"]](dict(events), None)
    result["log"] = log.getvalue()
    return result


def send_policy(session: boto3.Session, account: SeededAccount) -> str:
    """The DLQ runbook's send policy as the stack creates it (``DEAD_LETTER_SEND``): its ARN is
    a CloudFormation reference in the template, so the demo creates it and passes the ARN."""

    def fill(template: str) -> str:
        return template.format(
            partition="aws",
            region=account.region,
            account=account.account_id,
            queue_prefix=DEFAULT_QUEUE_NAME_PREFIX,
        )

    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": list(grant.actions), "Resource": fill(grant.resource)}
            for grant in DEAD_LETTER_SEND.grants
        ],
    }
    iam = session.client("iam", region_name=account.region)
    # Already there on a second demo run against the same moto_server.
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_policy(
            PolicyName=fill(DEAD_LETTER_SEND.name), PolicyDocument=json.dumps(document)
        )
    return fill(DEAD_LETTER_SEND.arn)


def pick_function(found: Sequence[Mapping[str, Any]]) -> str | None:
    """A function with an active FAILED finding of the rule."""
    names = sorted(
        f["Resources"][0]["Details"]["AwsLambdaFunction"]["FunctionName"]
        for f in found
        if f["GeneratorId"] == RULE_ID
        and f.get("RecordState") == "ACTIVE"
        and f["Compliance"]["Status"] == "FAILED"
    )
    return names[0] if names else None


def finding_status(session: boto3.Session, account: SeededAccount, name: str) -> str:
    for found in findings(session, account):
        details = found["Resources"][0]["Details"]["AwsLambdaFunction"]
        if found["GeneratorId"] == RULE_ID and details["FunctionName"] == name:
            return str(found["Compliance"]["Status"])
    return "(no finding)"


def remediate(
    session: boto3.Session,
    account: SeededAccount,
    outcome: FlowOutcome,
    templates: Sequence[Path],
) -> list[str]:
    """A dry run then a real run of the DLQ runbook on one failing function; the lines to
    print."""
    runbook = RUNBOOKS_BY_RULE[RULE_ID]
    name = document_name(DEFAULT_RULE_NAME_PREFIX, RULE_ID)
    document = document_from_templates(templates, name)
    source = f"runbook {name} from the synthesized template"
    if document is None:
        document = automation_content(
            runbook,
            role_arn=UNRESOLVED,
            exemption_tag_key="guardrails:exempt",
            rule_parameters="{}",
            attachment_sha256=rules_zip()[1],
        )
        source = f"runbook {name} built by infra.remediation (no synthesized template)"
    lines = [
        f"{source}; moto cannot StartAutomationExecution, so its embedded script runs here as "
        "aws:executeScript would run it, against moto_server."
    ]
    target = pick_function(findings(session, account))
    if target is None:
        return [*lines, f"no FAILED {RULE_ID} finding to remediate"]
    lines.append(f"{target}: finding {finding_status(session, account, target)} ({RULE_ID})")
    given = {
        "FunctionName": target,
        ASSUME_ROLE_PARAMETER: UNRESOLVED,
        DEAD_LETTER_SEND.parameter: send_policy(session, account),
    }
    dry = run_script(document, payload(document, given))
    lines.append(f"  dry run  -> {dry['status']}: {'; '.join(dry['changes']) or 'nothing'}")
    real = run_script(document, payload(document, {**given, "DryRun": False}))
    lines.append(f"  real run -> {real['status']}: {real['message']}")
    lines += [f"             | {line}" for line in real["log"].splitlines()]
    lines.append(f"             verdict after the fix: {real['verdict']}")
    invoke = Invoker(outcome)
    lam = session.client("lambda", region_name=account.region)
    with handler_output(io.StringIO()):  # step 4 wrote the handlers' logs already
        item = configuration_item(lam, target, capture_time=now())
        invoke(get_rule(RULE_ID), change_event(item, rule_name=config_rule_name(RULE_ID)))
    lines.append(
        f"{target}: re-evaluated by the rule's handler, finding "
        f"{finding_status(session, account, target)}"
    )
    return lines
