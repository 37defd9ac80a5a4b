"""The deployment hook answers CloudFormation's sample requests (tests/events/hook_*.json) as
the rules would judge the resource, in both modes; anything that stops a verdict answers
InternalFailure."""

from __future__ import annotations

import copy
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import botocore.session
import pytest
from botocore.stub import Stubber

from rules.adapters.hook_request import MESSAGE_LIMIT, fit
from rules.aws.kms import KEY_MANAGERS
from rules.hook import (
    MODE_VARIABLE,
    PARAMETERS_VARIABLE,
    RULES_VARIABLE,
    handle,
    lambda_handler,
)
from rules.model import Compliance
from rules.observability import logger
from rules.parameters import parse_parameters
from rules.permissions import (
    EC2_DESCRIBE_SUBNETS,
    KMS_DESCRIBE_KEY,
    LAMBDA_CODE_SIGNING_CONFIG,
    hook_grants,
)
from rules.registry import DEFAULT_RULES, RULES, RULES_BY_ID
from rules.template_eval import evaluate_template

EVENTS = Path(__file__).parent / "events"
# The rules a stack enables by default (lambda-tagged is off by default).
ALL_RULES = ",".join(rule.id for rule in DEFAULT_RULES)
MULTI_AZ = "lambda-vpc-multi-az"
CONCURRENCY_ONLY = "lambda-concurrency-check"
URL_RULE = "lambda-function-url-auth-required"
HOOK_ARN = "arn:aws:lambda:eu-west-1:111122223333:function:LambdaGuardrails-DeploymentHook-1"
PUBLIC = "lambda-function-public-access-prohibited"


def request(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"hook_{name}.json").read_text())
    return loaded


def environment(
    mode: str = "fail", rules: str = ALL_RULES, parameters: str = "{}"
) -> dict[str, str]:
    return {
        RULES_VARIABLE: rules,
        PARAMETERS_VARIABLE: parameters,
        MODE_VARIABLE: mode,
        "AWS_REGION": "eu-west-1",
    }


class StubbedReads:
    """One read's answers, ten times over (botocore's Stubber on a real client: each request is
    validated against the service model): ``response``, or the failure ``error``. The instance
    is the client provider the hook takes; it counts the calls."""

    def __init__(
        self,
        service: str,
        operation: str,
        response: dict[str, Any],
        error: str | None,
        expected: dict[str, Any] | None = None,
    ) -> None:
        self.client = botocore.session.get_session().create_client(
            service, region_name="eu-west-1", aws_access_key_id="k", aws_secret_access_key="s"
        )
        self.stubber = Stubber(self.client)
        for _ in range(10):
            if error is None:
                self.stubber.add_response(operation, response, expected)
            else:
                self.stubber.add_client_error(operation, error, "User: x is not authorized")
        self.stubber.activate()
        self.calls = 0

    def __call__(self) -> Any:
        self.calls += 1
        return self.client


class FakeKms(StubbedReads):
    """DescribeKey: a key managed by ``manager``."""

    def __init__(self, manager: str = "CUSTOMER", error: str | None = None) -> None:
        metadata = {"KeyId": KEY_ID, "Arn": KEY_ARN, "KeyManager": manager}
        super().__init__("kms", "describe_key", {"KeyMetadata": metadata}, error)


SUBNET_A, SUBNET_B = "subnet-0123456789abcdef0", "subnet-0123456789abcdef1"
TWO_ZONES = {SUBNET_A: "eu-west-1a", SUBNET_B: "eu-west-1b"}


class FakeEc2(StubbedReads):
    """DescribeSubnets: ``zones`` is what EC2 knows."""

    def __init__(self, zones: dict[str, str] | None = None, error: str | None = None) -> None:
        known = TWO_ZONES if zones is None else zones
        subnets = [{"SubnetId": s, "AvailabilityZone": z} for s, z in known.items()]
        super().__init__("ec2", "describe_subnets", {"Subnets": subnets}, error)


CSC_ARN = "arn:aws:lambda:eu-west-1:111122223333:code-signing-config:csc-0123456789abcdef0"
PROFILE = "arn:aws:signer:eu-west-1:111122223333:/signing-profiles/Release/abcdef1234"
CODE_SIGNING = "lambda-code-signing-enforced"


class FakeLambda(StubbedReads):
    """GetCodeSigningConfig of ``CSC_ARN``: its policy ``untrusted``."""

    def __init__(self, untrusted: str = "Enforce", error: str | None = None) -> None:
        config = {
            "CodeSigningConfigId": "csc-0123456789abcdef0",
            "CodeSigningConfigArn": CSC_ARN,
            "AllowedPublishers": {"SigningProfileVersionArns": [PROFILE]},
            "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": untrusted},
            "LastModified": "2026-11-01T00:00:00.000+0000",
        }
        super().__init__(
            "lambda",
            "get_code_signing_config",
            {"CodeSigningConfig": config},
            error,
            {"CodeSigningConfigArn": CSC_ARN},
        )


KEY_ID = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
KEY_ARN = f"arn:aws:kms:eu-west-1:111122223333:key/{KEY_ID}"


@pytest.fixture(autouse=True)
def _forget_key_managers() -> Iterator[None]:
    KEY_MANAGERS.clear()
    yield
    KEY_MANAGERS.clear()


def answer(
    event: Any,
    mode: str = "fail",
    kms: FakeKms | None = None,
    ec2: FakeEc2 | None = None,
    lambda_: FakeLambda | None = None,
    **env: str,
) -> dict[str, Any]:
    return handle(
        event,
        env=environment(mode, **env),
        invoked_arn=HOOK_ARN,
        kms=kms or FakeKms(),
        ec2=ec2 or FakeEc2(),
        lambda_=lambda_ or FakeLambda(),
    )


@pytest.fixture(params=["fail", "warn"])
def mode(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


def test_a_compliant_function_succeeds(mode: str) -> None:
    result = answer(request("function_compliant"), mode)
    assert result == {
        "hookStatus": "SUCCESS",
        "clientRequestToken": "a1b2c3d4-0001-4e5f-8a9b-111111111111",
        "message": result["message"],
    }
    # Every function-level rule judged it; the public-access rule judges permissions and URLs.
    for rule in DEFAULT_RULES:
        assert (rule.id in result["message"]) is (rule.id not in (PUBLIC, URL_RULE))


def test_the_hook_asks_ec2_the_zones_of_the_subnets_given_by_id() -> None:
    # A subnet's zone is in no request: one DescribeSubnets for the function's subnets.
    ec2 = FakeEc2()
    result = answer(request("function_compliant"), ec2=ec2, rules=MULTI_AZ)
    assert result["hookStatus"] == "SUCCESS", result["message"]
    assert ec2.calls == 1


def test_subnets_in_one_zone_fail_and_the_message_names_the_zone() -> None:
    one_zone = FakeEc2({SUBNET_A: "eu-west-1a", SUBNET_B: "eu-west-1a"})
    result = answer(request("function_compliant"), ec2=one_zone, rules=MULTI_AZ)
    assert result["hookStatus"] == "FAILED" and result["errorCode"] == "NonCompliant"
    assert "eu-west-1a" in result["message"] and "availabilityZones 2" in result["message"]


def test_a_subnet_ec2_does_not_know_counts_as_no_zone() -> None:
    # EC2 fails the whole call when one subnet is unknown; the subnets are then asked one by
    # one (rules.aws.subnets), and only SUBNET_A has a zone.
    ec2 = FakeEc2(zones={})
    stubber = Stubber(ec2.client)
    stubber.add_client_error(
        "describe_subnets",
        "InvalidSubnetID.NotFound",
        expected_params={"SubnetIds": [SUBNET_A, SUBNET_B]},
    )
    stubber.add_response(
        "describe_subnets",
        {"Subnets": [{"SubnetId": SUBNET_A, "AvailabilityZone": "eu-west-1a"}]},
        {"SubnetIds": [SUBNET_A]},
    )
    stubber.add_client_error(
        "describe_subnets", "InvalidSubnetID.NotFound", expected_params={"SubnetIds": [SUBNET_B]}
    )
    ec2.stubber.deactivate()
    with stubber:
        result = answer(request("function_compliant"), ec2=ec2, rules=MULTI_AZ)
        stubber.assert_no_pending_responses()
    assert result["hookStatus"] == "FAILED" and result["errorCode"] == "NonCompliant"
    assert "1 availability zone(s)" in result["message"], result["message"]


def test_describe_subnets_denied_gives_no_verdict() -> None:
    denied = FakeEc2(error="UnauthorizedOperation")
    result = answer(request("function_compliant"), ec2=denied, rules=MULTI_AZ)
    assert (result["hookStatus"], result["errorCode"]) == ("FAILED", "InternalFailure")
    assert "ec2:DescribeSubnets" in result["message"]


def test_ec2_is_not_asked_without_the_multi_az_rule_or_without_subnets() -> None:
    for rules, drop_vpc in ((CONCURRENCY_ONLY, False), (MULTI_AZ, True)):
        event = request("function_compliant")
        if drop_vpc:
            del event["requestData"]["targetModel"]["resourceProperties"]["VpcConfig"]
        ec2 = FakeEc2(error="UnauthorizedOperation")
        assert answer(event, ec2=ec2, rules=rules)["hookStatus"] == "SUCCESS"
        assert ec2.calls == 0


def test_a_function_without_a_dead_letter_queue_fails_non_compliant(mode: str) -> None:
    result = answer(request("function_no_dlq"), mode)
    assert result["hookStatus"] == "FAILED"
    assert result["errorCode"] == "NonCompliant"
    assert result["clientRequestToken"] == "a1b2c3d4-0002-4e5f-8a9b-222222222222"
    assert "lambda-dlq-check: no dead-letter queue is configured" in result["message"]
    assert "OrdersHandler" in result["message"]
    # The mode is said: CloudFormation blocks (FAIL) or only warns (WARN) on the same answer.
    if mode == "fail":
        assert "blocks" in result["message"]
    else:
        assert "deploymentHook=warn, not blocked" in result["message"]


def test_a_public_permission_fails_with_the_public_access_annotation(mode: str) -> None:
    result = answer(request("permission_public"), mode)
    assert (result["hookStatus"], result["errorCode"]) == ("FAILED", "NonCompliant")
    assert f"{PUBLIC}: AnyoneMayInvoke (AWS::Lambda::Permission on arn:" in result["message"]
    assert "not among the resources read, so this grant is judged alone" in result["message"]
    assert (
        "statement 'AnyoneMayInvoke' allows Principal '*' lambda:InvokeFunction without a condition"
    ) in result["message"]


def test_a_permission_pinned_to_the_source_succeeds() -> None:
    result = answer(request("permission_restricted"))
    assert result["hookStatus"] == "SUCCESS"
    assert PUBLIC in result["message"]


@pytest.mark.parametrize("auth_type", ["NONE", "AWS_IAM", {"Ref": "AuthParam"}])
def test_a_function_url_is_judged_as_at_the_other_points(mode: str, auth_type: Any) -> None:
    # AWS lets the public call a NONE URL only through a public permission, which the hook judges
    # when that Permission is deployed: the URL alone gets check-template's (and the pack's)
    # verdict on a template holding only it, whose function is elsewhere.
    event = request("url_auth_none")
    properties = event["requestData"]["targetModel"]["resourceProperties"]
    properties["AuthType"] = auth_type
    result = answer(event, mode)
    template = {"Resources": {"OrdersUrl": {"Type": "AWS::Lambda::Url", "Properties": properties}}}
    parameters = {rule.id: parse_parameters(rule, None) for rule in RULES}
    (expected,) = evaluate_template(template, [RULES_BY_ID[PUBLIC]], parameters)
    assert expected.evaluation.compliance is Compliance.COMPLIANT
    assert result["hookStatus"] == "SUCCESS"
    assert f"passes {PUBLIC}" in result["message"]


def test_a_function_url_with_iam_auth_succeeds() -> None:
    assert answer(request("url_auth_iam"))["hookStatus"] == "SUCCESS"


def test_cloud_control_requests_without_a_stack_are_judged() -> None:
    result = answer(request("cloud_control_function_no_concurrency"))
    assert (result["hookStatus"], result["errorCode"]) == ("FAILED", "NonCompliant")
    assert "lambda-concurrency-check: no reserved concurrency is set" in result["message"]


def test_a_malformed_request_is_an_internal_failure(mode: str) -> None:
    result = answer(request("malformed_no_request_data"), mode)
    assert result == {
        "hookStatus": "FAILED",
        "errorCode": "InternalFailure",
        "clientRequestToken": "a1b2c3d4-0009-4e5f-8a9b-999999999999",
        "message": result["message"],
    }
    assert "requestData" in result["message"]


def broken(mutate: str) -> Any:
    event = request("function_compliant")
    if mutate == "not an object":
        return ["not", "a", "request"]
    if mutate == "no token":
        del event["clientRequestToken"]
    elif mutate == "bad account":
        event["awsAccountId"] = "me"
    elif mutate == "bad invocation point":
        event["actionInvocationPoint"] = "POST_PROVISION"
    elif mutate == "no target model":
        del event["requestData"]["targetModel"]
    elif mutate == "properties not an object":
        event["requestData"]["targetModel"]["resourceProperties"] = "FunctionName=x"
    elif mutate == "url without auth type":
        event = request("url_auth_none")
        del event["requestData"]["targetModel"]["resourceProperties"]["AuthType"]
    return event


@pytest.mark.parametrize(
    "mutate",
    [
        "not an object",
        "no token",
        "bad account",
        "bad invocation point",
        "no target model",
        "properties not an object",
        "url without auth type",
    ],
)
def test_a_request_that_cannot_be_read_never_succeeds(mutate: str) -> None:
    result = answer(broken(mutate))
    assert (result["hookStatus"], result["errorCode"]) == ("FAILED", "InternalFailure")


@pytest.mark.parametrize(
    "env",
    [
        {"rules": ""},
        {"rules": "no-such-rule"},
        {"parameters": "not json"},
        {"parameters": '{"lambda-concurrency-check": {"NoSuchParameter": "1"}}'},
        {"parameters": '{"lambda-concurrency-check": {"ConcurrencyLimitLow": "ten"}}'},
    ],
)
def test_settings_the_hook_cannot_read_are_an_internal_failure(env: dict[str, str]) -> None:
    result = answer(request("function_compliant"), **env)
    assert (result["hookStatus"], result["errorCode"]) == ("FAILED", "InternalFailure")


def test_an_unknown_mode_is_an_internal_failure() -> None:
    result = answer(request("function_compliant"), mode="audit")
    assert (result["hookStatus"], result["errorCode"]) == ("FAILED", "InternalFailure")
    assert MODE_VARIABLE in result["message"]


def test_an_exception_inside_a_check_is_an_internal_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def explode(*_: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr("rules.hook.evaluate_template", explode)
    result = answer(request("function_compliant"))
    assert (result["hookStatus"], result["errorCode"]) == ("FAILED", "InternalFailure")
    assert "RuntimeError: a bug" in result["message"]


def test_rule_parameters_from_the_environment_are_honoured() -> None:
    # The sample reserves 10: within no bounds it passes, above a high bound of 5 it fails.
    limits = json.dumps({"lambda-concurrency-check": {"ConcurrencyLimitHigh": "5"}})
    result = answer(request("function_compliant"), parameters=limits)
    assert result["hookStatus"] == "FAILED"
    assert "reserved concurrency 10 is above ConcurrencyLimitHigh 5" in result["message"]
    subnets = json.dumps({"lambda-inside-vpc": {"subnetIds": "subnet-0123456789abcdef9"}})
    result = answer(request("function_compliant"), parameters=subnets)
    assert "not in subnetIds" in result["message"]


def test_only_enabled_rules_judge() -> None:
    # Without the DLQ rule, the function without a DLQ passes.
    others = ",".join(
        rule.id for rule in DEFAULT_RULES if rule.id != "lambda-dlq-check"
    )
    assert answer(request("function_no_dlq"), rules=others)["hookStatus"] == "SUCCESS"
    # Without the public-access rule, no rule judges a permission: nothing to fail on.
    result = answer(request("permission_public"), rules="lambda-dlq-check")
    assert result["hookStatus"] == "SUCCESS"
    assert "not judged" in result["message"]


def test_a_deletion_is_not_gated_and_an_unknown_type_is_not_judged() -> None:
    event = request("function_no_dlq")
    event["actionInvocationPoint"] = "DELETE_PRE_PROVISION"
    assert answer(event)["hookStatus"] == "SUCCESS"
    event = request("function_no_dlq")
    event["requestData"]["targetType"] = event["requestData"]["targetName"] = "AWS::S3::Bucket"
    result = answer(event)
    assert result["hookStatus"] == "SUCCESS"
    assert "not judged" in result["message"]


def test_an_unresolved_value_that_decides_is_non_compliant_and_named() -> None:
    event = request("function_compliant")
    properties = event["requestData"]["targetModel"]["resourceProperties"]
    properties["DeadLetterConfig"] = {"TargetArn": {"Fn::ImportValue": "shared-dlq"}}
    # A key the template may leave out decides the CMK rule: taken at its worst (no key),
    # non-compliant, the value named (the adapter's semantics, as in the pack).
    properties["KmsKeyArn"] = {
        "Fn::If": ["UseKey", {"Ref": "KeyParameter"}, {"Ref": "AWS::NoValue"}]
    }
    result = answer(event)
    # A DLQ given by an import is set (the adapter's "known to be set")...
    assert "lambda-dlq-check" not in result["message"].split("failed:", 1)[-1]
    assert result["hookStatus"] == "FAILED"
    assert "lambda-env-vars-cmk-encrypted" in result["message"]
    assert "decided by value(s) known only at deploy time" in result["message"]
    assert "KmsKeyArn" in result["message"]


def test_a_long_message_is_cut_within_aws_limit_and_says_so() -> None:
    cut = fit("x" * 5000)
    assert len(cut) == MESSAGE_LIMIT
    assert cut.endswith("more characters)")
    many = request("permission_public")
    # Every statement is named in the message; a very long logical id makes it long.
    many["requestData"]["targetLogicalId"] = "P" * 2000
    result = answer(many)
    assert len(result["message"]) <= MESSAGE_LIMIT
    assert result["errorCode"] == "NonCompliant"


SECRETS = (
    "hunter2-Xq9!zz-DISTINCTIVE-PASSWORD",
    "tok_live_7F3kQ9DISTINCTIVETOKEN",
    "old-Secret-Value-PREVIOUS-DISTINCTIVE",
)


@dataclass
class FakeContext:
    function_name: str = "LambdaGuardrails-DeploymentHook-1"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = HOOK_ARN
    aws_request_id: str = "request-1"


def test_environment_variable_values_never_reach_logs_or_answers(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The Powertools handler writes to the stdout it was created with: capture its stream.
    logs = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(logs)
    try:
        _run_with_secrets(capsys, monkeypatch, logs)
    finally:
        handler.setStream(previous)


def _run_with_secrets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, logs: io.StringIO
) -> None:
    for key, value in environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    # The container's own clients, stubbed: no request leaves the test.
    own = {"kms": FakeKms(), "ec2": FakeEc2(), "lambda": FakeLambda()}
    monkeypatch.setattr("rules.hook.own_client", lambda service, _region: own[service]())
    event = request("function_secret_env")
    answers = [lambda_handler(copy.deepcopy(event), FakeContext())]
    # The same values on the error path: an exception quoting a value is scrubbed too.
    bad = copy.deepcopy(event)
    bad["awsAccountId"] = SECRETS[0]
    answers.append(lambda_handler(bad, FakeContext()))
    monkeypatch.setattr(
        "rules.hook.evaluate_template",
        lambda *_: (_ for _ in ()).throw(ValueError(f"cannot read {SECRETS[1]}")),
    )
    answers.append(lambda_handler(copy.deepcopy(event), FakeContext()))
    out = capsys.readouterr()
    text = logs.getvalue() + out.out + out.err + json.dumps(answers)
    assert answers[0]["errorCode"] == "NonCompliant"
    assert "2 environment variable(s)" in answers[0]["message"]
    assert [a["errorCode"] for a in answers[1:]] == ["InternalFailure", "InternalFailure"]
    # The log lines were written, with the variables' count but no value.
    assert '"message":"non-compliant"' in logs.getvalue()
    assert logs.getvalue().count('"message":"no verdict"') == 2
    for secret in SECRETS:
        assert secret not in text


def test_short_values_do_not_garble_messages_and_long_ones_are_scrubbed() -> None:
    event = request("function_secret_env")
    properties = event["requestData"]["targetModel"]["resourceProperties"]
    # "e" is in every other word of a message; "r" likewise: neither is cut out of the words.
    properties["Environment"]["Variables"] = {"A": "e", "B": "r", "C": SECRETS[0]}
    properties.pop("KmsKeyArn", None)
    result = answer(event)
    assert result["errorCode"] == "NonCompliant"
    assert "<redacted>" not in result["message"]
    assert "PaymentsHandler" in result["message"]
    assert "3 environment variable(s)" in result["message"]
    # An error quoting a long value still has it scrubbed (the second line behind the adapter).
    bad = request("function_secret_env")
    bad["awsAccountId"] = SECRETS[0]
    failed = answer(bad)
    assert failed["errorCode"] == "InternalFailure" and SECRETS[0] not in failed["message"]


def test_the_key_manager_is_asked_of_kms_describe_key() -> None:
    event = request("function_compliant")
    assert event["requestData"]["targetModel"]["resourceProperties"]["KmsKeyArn"] == KEY_ARN
    customer = FakeKms("CUSTOMER")
    assert answer(event, kms=customer)["hookStatus"] == "SUCCESS"
    assert customer.calls == 1
    # The AWS managed aws/lambda key written as its key/<id> ARN fails, as in Config.
    KEY_MANAGERS.clear()
    result = answer(event, kms=FakeKms("AWS"))
    assert (result["hookStatus"], result["errorCode"]) == ("FAILED", "NonCompliant")
    assert f"key {KEY_ARN} is AWS managed, not customer-managed" in result["message"]
    assert "decided by value(s) known only at deploy time" not in result["message"]


def test_an_unreadable_key_manager_is_an_internal_failure_naming_the_key() -> None:
    result = answer(request("function_compliant"), kms=FakeKms(error="AccessDeniedException"))
    assert (result["hookStatus"], result["errorCode"]) == ("FAILED", "InternalFailure")
    assert f"cannot tell who manages KMS key {KEY_ARN}" in result["message"]


def test_describe_key_is_not_called_when_the_arn_or_the_variables_decide() -> None:
    for change in ("another account", "alias", "no variables", "rule disabled"):
        event = request("function_compliant")
        properties = event["requestData"]["targetModel"]["resourceProperties"]
        rules = ALL_RULES
        if change == "another account":
            properties["KmsKeyArn"] = KEY_ARN.replace("111122223333", "444455556666")
        elif change == "alias":
            properties["KmsKeyArn"] = "arn:aws:kms:eu-west-1:111122223333:alias/orders"
        elif change == "no variables":
            del properties["Environment"]
        else:
            rules = "lambda-dlq-check"
        kms = FakeKms(error="AccessDeniedException")
        assert answer(event, kms=kms, rules=rules)["hookStatus"] == "SUCCESS", change
        assert kms.calls == 0, change


def test_the_hook_role_reads_only_what_its_rules_need() -> None:
    cmk, multi_az = RULES_BY_ID["lambda-env-vars-cmk-encrypted"], RULES_BY_ID[MULTI_AZ]
    assert hook_grants([cmk]) == (KMS_DESCRIBE_KEY,)
    assert hook_grants([multi_az, cmk, multi_az]) == (EC2_DESCRIBE_SUBNETS, KMS_DESCRIBE_KEY)
    assert hook_grants([RULES_BY_ID[CODE_SIGNING]]) == (LAMBDA_CODE_SIGNING_CONFIG,)
    assert hook_grants([RULES_BY_ID[CONCURRENCY_ONLY]]) == ()


def _signed(arn: str | None = CSC_ARN) -> dict[str, Any]:
    event = request("function_compliant")
    properties = event["requestData"]["targetModel"]["resourceProperties"]
    if arn is not None:
        properties["CodeSigningConfigArn"] = arn
    return event


def test_the_hook_asks_lambda_the_policy_of_a_code_signing_configuration_given_by_arn() -> None:
    enforced = FakeLambda("Enforce")
    result = answer(_signed(), lambda_=enforced, rules=CODE_SIGNING)
    assert result["hookStatus"] == "SUCCESS", result["message"]
    assert enforced.calls == 1
    warned = answer(_signed(), lambda_=FakeLambda("Warn"), rules=CODE_SIGNING)
    assert (warned["hookStatus"], warned["errorCode"]) == ("FAILED", "NonCompliant")
    assert "Warn" in warned["message"]


def test_a_code_signing_configuration_that_cannot_be_read_gives_no_verdict() -> None:
    denied = FakeLambda(error="AccessDeniedException")
    result = answer(_signed(), lambda_=denied, rules=CODE_SIGNING)
    assert (result["hookStatus"], result["errorCode"]) == ("FAILED", "InternalFailure")
    assert "cannot read code signing configuration" in result["message"]


def test_lambda_is_not_asked_without_the_code_signing_rule_or_a_configuration() -> None:
    for event, rules in ((_signed(), CONCURRENCY_ONLY), (_signed(None), CODE_SIGNING)):
        unused = FakeLambda(error="AccessDeniedException")
        result = answer(event, lambda_=unused, rules=rules)
        assert unused.calls == 0
        if rules == CODE_SIGNING:  # no configuration attached: the rule fails it
            assert result["errorCode"] == "NonCompliant"
        else:
            assert result["hookStatus"] == "SUCCESS"
