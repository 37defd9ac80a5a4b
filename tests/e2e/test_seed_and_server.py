"""The harness itself: the server starts and always stops, the sample account is what the demo
says it is (judged by the engine over the Lambda API and over Config-shaped items)."""

from __future__ import annotations

import json
import socket
from dataclasses import replace
from datetime import UTC, datetime

import boto3
import pytest

from demo.config_events import change_event, configuration_item, deleted_item, now
from demo.seed import SAMPLE, SeededAccount
from demo.server import MotoServer
from rules.adapters.config_item import configuration_item_from_dict
from rules.adapters.lambda_api import function_from_lambda_api
from rules.aws.inventory import code_signing, environment_secrets, function_urls
from rules.aws.kms import describe_key_manager
from rules.aws.subnets import SubnetZones
from rules.engine import evaluate_function, evaluate_item
from rules.errors import UnknownFieldError
from rules.events import parse_rule_event
from rules.exemptions import ExemptionPolicy
from rules.model import Compliance
from rules.parameters import NO_PARAMETERS
from rules.registry import RULES, RULES_BY_ID
from rules.role_index import with_role_peers
from rules.rule import Field

# What the handler reads when Config's item leaves a field unknown: kms:DescribeKey or the
# Lambda API for the CMK rule; the Lambda API for URLs, code signing and variables.
READ_BY_THE_HANDLER = {
    "lambda-env-vars-cmk-encrypted": {Field.KEY_MANAGER.value, Field.ENVIRONMENT.value},
    "lambda-function-url-auth-required": {Field.FUNCTION_URLS.value},
    "lambda-code-signing-enforced": {Field.CODE_SIGNING.value},
    "lambda-no-secrets-in-env-vars": {Field.ENVIRONMENT_SECRETS.value},
}


def test_the_sample_spans_every_verdict_of_every_rule() -> None:
    for rule in RULES:
        seen = {sample.expected[rule.id] for sample in SAMPLE}
        assert seen == set(Compliance), rule.id
    assert 10 <= len(SAMPLE) <= 15


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_server_stops_on_error() -> None:
    server = MotoServer()
    with pytest.raises(RuntimeError, match="boom"), server:
        port = server.port
        assert not _refused(port)
        raise RuntimeError("boom")
    assert server.process is None
    assert _refused(port)


def test_lambda_api_state_matches_the_design(seeded: SeededAccount, session: boto3.Session) -> None:
    lam = session.client("lambda")
    assert {f["FunctionName"] for f in lam.list_functions()["Functions"]} == {
        f.name for f in seeded.live
    }
    functions = {}
    for sample in seeded.live:
        configuration = lam.get_function_configuration(FunctionName=sample.name)
        if sample.dlq:  # the launcher's patch: moto itself drops DeadLetterConfig
            target = configuration["DeadLetterConfig"]["TargetArn"]
            assert target.startswith(f"arn:aws:{sample.dlq}:")
        try:
            policy = lam.get_policy(FunctionName=sample.name)
        except lam.exceptions.ResourceNotFoundException:
            policy = None
        concurrency = lam.get_function_concurrency(FunctionName=sample.name)
        tags = lam.list_tags(Resource=configuration["FunctionArn"]).get("Tags")
        function = function_from_lambda_api(configuration, policy, concurrency, tags=tags)
        if function.kms_key_arn and ":key/" in function.kms_key_arn:
            # Only kms:DescribeKey knows who manages a key given by its key ARN.
            manager = describe_key_manager(session.client("kms"), function.kms_key_arn)
            function = replace(function, kms_key_manager=manager)
        # Only ec2:DescribeSubnets knows the subnets' zones (lambda-vpc-multi-az).
        zones = SubnetZones().zones(session.client("ec2"), function.subnet_ids)
        # What Config never records: URLs (ListFunctionUrlConfigs, the launcher's patch), code
        # signing (Get(Function)CodeSigningConfig, the patch) and the variables' secrets.
        secrets = environment_secrets(lam, function)
        assert secrets is not None
        function = replace(
            function,
            subnet_zones=zones,
            function_urls=function_urls(lam, function),
            code_signing=code_signing(lam, function),
            environment_secrets=secrets[0],
        )
        functions[sample.name] = function
    # The unique-role rule compares every function (as the periodic sweep does).
    peered = with_role_peers(
        list(functions.values()), scope="the account and Region", whole_account=True
    )
    exemptions = ExemptionPolicy(datetime.now(UTC).date())
    for sample, function in zip(seeded.live, peered, strict=True):
        for rule_id, expected in sample.expected.items():
            evaluation = evaluate_function(
                RULES_BY_ID[rule_id], function, NO_PARAMETERS, exemptions=exemptions
            )
            assert evaluation.compliance is expected, (sample.name, rule_id, evaluation.annotation)
            assert (evaluation.exempted_because is not None) is (rule_id in sample.exempted)


def test_config_shaped_events_give_the_designed_verdicts(
    seeded: SeededAccount, session: boto3.Session
) -> None:
    lam = session.client("lambda")
    exemptions = ExemptionPolicy(datetime.now(UTC).date())
    for sample in seeded.functions:
        if sample.deleted:
            item = deleted_item(seeded.arns[sample.name], capture_time=now())
        else:
            item = configuration_item(lam, sample.name, capture_time=now())
            assert "environment" not in item["configuration"]  # Config does not record it
        for rule_id, expected in sample.expected.items():
            event = parse_rule_event(json.loads(json.dumps(change_event(item, rule_name=rule_id))))
            assert event.result_token == "TESTMODE"
            ci = configuration_item_from_dict(event.configuration_item)
            if rule_id == "lambda-vpc-multi-az" and ci.function is not None:
                # Config records no zones: the handler reads them (ec2:DescribeSubnets).
                zones = SubnetZones().zones(session.client("ec2"), ci.function.subnet_ids)
                ci = replace(ci, function=replace(ci.function, subnet_zones=zones))
            rule = RULES_BY_ID[rule_id]
            if not rule.change_triggered:
                continue  # Config sends a periodic-only rule no change event
            try:
                evaluation = evaluate_item(rule, ci, NO_PARAMETERS, exemptions=exemptions)
            except UnknownFieldError as error:
                # The handler reads what Config does not record (READ_BY_THE_HANDLER).
                assert error.field in READ_BY_THE_HANDLER.get(rule_id, set()), (rule_id, error)
                if rule_id == "lambda-env-vars-cmk-encrypted":
                    assert (error.field == Field.KEY_MANAGER.value) is (sample.kms_key == "cmk")
                continue
            assert evaluation.compliance is expected, (sample.name, rule_id, evaluation.annotation)


def test_url_policy_is_recorded_in_the_real_aws_form(
    seeded: SeededAccount, session: boto3.Session
) -> None:
    item = configuration_item(session.client("lambda"), "gl-public-url", capture_time=now())
    statement = json.loads(item["supplementaryConfiguration"]["Policy"])["Statement"][0]
    assert "FunctionUrlAuthType" not in statement
    assert statement["Condition"]["StringEquals"]["lambda:FunctionUrlAuthType"] == "NONE"


def test_server_stops_on_ctrl_c_and_sigterm() -> None:
    import os
    import signal

    from demo.server import stop_on_sigterm

    server = MotoServer()
    with pytest.raises(KeyboardInterrupt), server:
        port = server.port
        raise KeyboardInterrupt
    assert _refused(port)
    server = MotoServer()
    with pytest.raises(SystemExit), stop_on_sigterm(), server:
        port = server.port
        os.kill(os.getpid(), signal.SIGTERM)
    assert _refused(port)
