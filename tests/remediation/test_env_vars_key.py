"""The environment-key runbook script against moto. moto ignores KMSKeyArn on update
(``moto_lambda_config`` keeps it), lacks iam:SimulatePrincipalPolicy (answered by ``simulated``)
and says CUSTOMER for every key (the AWS managed case is answered by a hook)."""

from __future__ import annotations

import json

import boto3
import pytest

from rules.aws.clients import Clients
from rules.remediation import env_vars_key
from rules.remediation.common import RemediationError, run
from tests.aws.fixtures import ACCOUNT, REGION, create_function
from tests.remediation.conftest import answer, configuration, events, simulated, tag

SECRET = "s3cr3t-value-never-shown"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/fn-role"


def _key(policy: dict[str, object] | None = None) -> str:
    kms = boto3.client("kms", region_name=REGION)
    arguments = {"Policy": json.dumps(policy)} if policy else {}
    return str(kms.create_key(**arguments)["KeyMetadata"]["Arn"])


def _function() -> None:
    create_function("orders-api", environment={"DB_PASSWORD": SECRET, "STAGE": "prod"})


def test_a_dry_run_changes_nothing(clients: Clients) -> None:
    _function()
    key = _key()
    simulated(clients, "allowed")
    result = run(env_vars_key.SCRIPT, events("orders-api", DryRun=True, KmsKeyArn=key), clients)
    assert result["status"] == "DRY_RUN"
    assert result["changes"] == [
        f"encrypt environment variables with {key} (was the AWS managed key aws/lambda)"
    ]
    assert configuration("orders-api").get("KMSKeyArn") is None


def test_a_real_run_re_encrypts_and_never_shows_a_value(
    clients: Clients, capsys: pytest.CaptureFixture[str]
) -> None:
    _function()
    key = _key()
    simulated(clients, "allowed")
    result = run(env_vars_key.SCRIPT, events("orders-api", KmsKeyArn=key), clients)
    assert result["status"] == "CHANGED"
    assert result["verdict"] == "COMPLIANT"
    assert result["after"]["kmsKeyArn"] == key
    assert result["after"]["environmentVariableNames"] == "DB_PASSWORD, STAGE"
    assert configuration("orders-api")["KMSKeyArn"] == key
    assert configuration("orders-api")["Environment"]["Variables"]["DB_PASSWORD"] == SECRET
    assert SECRET not in json.dumps(result)
    assert SECRET not in capsys.readouterr().out
    again = run(env_vars_key.SCRIPT, events("orders-api", KmsKeyArn=key), clients)
    assert again["status"] == "ALREADY_COMPLIANT"


def test_only_the_key_is_sent_never_the_variables(clients: Clients, calls: object) -> None:
    _function()
    key = _key()
    simulated(clients, "allowed")
    run(env_vars_key.SCRIPT, events("orders-api", KmsKeyArn=key), clients)
    from tests.aws.fixtures import CallLog

    assert isinstance(calls, CallLog)
    (update,) = calls.of("lambda:UpdateFunctionConfiguration")
    assert set(update) == {"FunctionName", "KMSKeyArn"}


def test_a_role_that_may_not_decrypt_is_refused(clients: Clients) -> None:
    _function()
    key = _key()
    simulated(clients, "implicitDeny")
    with pytest.raises(RemediationError, match=f"execution role {ROLE} may not use key"):
        run(env_vars_key.SCRIPT, events("orders-api", KmsKeyArn=key), clients)
    assert configuration("orders-api").get("KMSKeyArn") is None


def test_a_grant_lets_the_role_use_the_key(clients: Clients) -> None:
    _function()
    key = _key()
    boto3.client("kms", region_name=REGION).create_grant(
        KeyId=key, GranteePrincipal=ROLE, Operations=["Decrypt"]
    )
    simulated(clients, "implicitDeny")
    result = run(env_vars_key.SCRIPT, events("orders-api", KmsKeyArn=key), clients)
    assert result["verdict"] == "COMPLIANT"


def test_iam_policies_count_only_when_the_key_policy_admits_the_account(clients: Clients) -> None:
    """The simulator allows through the role's IAM policy, but the key policy names only an
    administrator: KMS would never read the role's IAM policy."""
    _function()
    admin_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Admins",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/admin"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    key = _key(admin_only)
    simulated(clients, "allowed")
    with pytest.raises(RemediationError, match="does not admit the role"):
        run(env_vars_key.SCRIPT, events("orders-api", KmsKeyArn=key), clients)


def test_a_disabled_key_is_refused(clients: Clients) -> None:
    _function()
    key = _key()
    boto3.client("kms", region_name=REGION).disable_key(KeyId=key.rsplit("/", 1)[1])
    with pytest.raises(RemediationError, match="KeyState 'Disabled', not Enabled"):
        run(env_vars_key.SCRIPT, events("orders-api", KmsKeyArn=key), clients)


def test_an_aws_managed_key_is_refused(clients: Clients) -> None:
    """moto says CUSTOMER for every key: DescribeKey is answered as AWS would for aws/lambda."""
    _function()
    key = _key()
    answer(
        clients,
        "kms",
        "DescribeKey",
        {
            "KeyMetadata": {
                "KeyId": key.rsplit("/", 1)[1],
                "Arn": key,
                "KeyManager": "AWS",
                "KeyState": "Enabled",
                "KeySpec": "SYMMETRIC_DEFAULT",
            }
        },
    )
    with pytest.raises(RemediationError, match="KeyManager 'AWS', not CUSTOMER"):
        run(env_vars_key.SCRIPT, events("orders-api", KmsKeyArn=key), clients)


def test_a_key_of_another_account_is_refused(clients: Clients) -> None:
    _function()
    key = f"arn:aws:kms:{REGION}:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    with pytest.raises(RemediationError, match="not in the function's account and Region"):
        run(env_vars_key.SCRIPT, events("orders-api", KmsKeyArn=key), clients)


def test_an_alias_is_not_a_key_arn(clients: Clients) -> None:
    _function()
    with pytest.raises(RemediationError, match="not an alias ARN"):
        run(
            env_vars_key.SCRIPT,
            events("orders-api", KmsKeyArn=f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/mine"),
            clients,
        )


def test_a_function_without_variables_is_already_compliant(clients: Clients) -> None:
    create_function("orders-api")
    result = run(env_vars_key.SCRIPT, events("orders-api", KmsKeyArn=_key()), clients)
    assert result["status"] == "ALREADY_COMPLIANT"


def test_an_exempt_function_is_skipped(clients: Clients) -> None:
    _function()
    tag(
        configuration("orders-api")["FunctionArn"],
        **{"guardrails:exempt": "rules=lambda-env-vars-cmk-encrypted reason=accepted risk"},
    )
    result = run(env_vars_key.SCRIPT, events("orders-api", KmsKeyArn=_key()), clients)
    assert result["status"] == "SKIPPED_EXEMPT"
    assert configuration("orders-api").get("KMSKeyArn") is None
