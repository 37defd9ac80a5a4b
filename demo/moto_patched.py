"""``moto_server`` with the gaps of moto 5.2.5 the demo meets filled in.

Each gap is named where it is filled; nothing else about moto changes, and the product code
makes the same calls it makes against AWS:

- **DeadLetterConfig** is dropped by CreateFunction and UpdateFunctionConfiguration and never
  returned, so every function would look like it has no dead-letter queue and the DLQ rule
  could never be seen passing. Kept, and returned as Lambda does (``{"TargetArn": ...}`` in
  every configuration response, absent when unset).
- **ListFunctionUrlConfigs** is not implemented (the route does not exist). Added: the URL
  configs moto stores, in Lambda's shape (``FunctionUrlConfigs`` items with FunctionUrl,
  FunctionArn, AuthType, CreationTime, LastModifiedTime, Cors when set, InvokeMode), paged with
  ``MaxItems`` (1-50, default 50) and ``Marker``/``NextMarker``. moto does not implement the
  ``Qualifier`` of CreateFunctionUrlConfig, so it stores no alias URL: the list holds the
  function's own URL or nothing.
- **CreateCodeSigningConfig / GetCodeSigningConfig** are not implemented (no routes, no model).
  Added with Lambda's shapes (``CodeSigningConfig`` with CodeSigningConfigId,
  CodeSigningConfigArn, Description, AllowedPublishers, CodeSigningPolicies - Warn unless given -
  and LastModified; ResourceNotFoundException for an unknown ARN), kept per account and Region.
  moto's own GetFunctionCodeSigningConfig already returns the ``CodeSigningConfigArn`` given to
  CreateFunction, which is how the sample attaches one (PutFunctionCodeSigningConfig is not
  needed, so not added).
- **BatchUpdateFindings** (Security Hub) is not implemented. Added for what the product
  changes: ``Workflow.Status`` and ``Note`` (Text, UpdatedBy, and UpdatedAt set by the server)
  of the findings named by ``FindingIdentifiers`` (Id and ProductArn); the response lists
  ``ProcessedFindings`` and ``UnprocessedFindings`` (``FindingNotFound``).
- **BatchImportFindings** overwrites ``Workflow``, ``Note`` and ``UserDefinedFields`` when it
  re-imports a finding; Security Hub takes them only when the import creates the finding
  (BatchUpdateFindings changes them after that). Re-imports keep the stored ones.

GetFindings still ignores ``Filters``: ``rules.aws.workflow`` and the demo filter on the client.

Run: ``python -m demo.moto_patched -H 127.0.0.1 -p PORT`` (same arguments as ``moto_server``).
"""

from __future__ import annotations

import functools
import json
import sys
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

PATCH_MARK = "_guardrails_dlq_patch"
ROUTES_MARK = "_guardrails_routes_patch"
URL_PAGE = 50  # ListFunctionUrlConfigs' largest (and default) MaxItems
# Security Hub keeps these from the import that creates a finding; later imports ignore them.
KEPT_AFTER_CREATION = ("Workflow", "Note", "UserDefinedFields")
WORKFLOW_STATUSES = frozenset({"NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"})


def patch_dead_letter_config() -> None:
    from moto.awslambda import models

    cls: Any = models.LambdaFunction
    if getattr(cls, PATCH_MARK, False):
        return
    original_init = cls.__init__
    original_get = cls.get_configuration
    original_update = cls.update_configuration

    @functools.wraps(original_init)
    def init(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        original_init(self, account_id, spec, *args, **kwargs)
        self.dead_letter_config = _target(spec.get("DeadLetterConfig"))

    @functools.wraps(original_get)
    def get_configuration(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config: dict[str, Any] = original_get(self, *args, **kwargs)
        target = getattr(self, "dead_letter_config", None)
        if target:
            config["DeadLetterConfig"] = {"TargetArn": target}
        return config

    @functools.wraps(original_update)
    def update_configuration(self: Any, updates: dict[str, Any]) -> dict[str, Any]:
        if "DeadLetterConfig" in updates:
            self.dead_letter_config = _target(updates["DeadLetterConfig"])
        result: dict[str, Any] = original_update(self, updates)
        return self.get_configuration() if "DeadLetterConfig" in updates else result

    cls.__init__ = init
    cls.get_configuration = get_configuration
    cls.update_configuration = update_configuration
    setattr(cls, PATCH_MARK, True)


def _target(value: Any) -> str | None:
    """An empty TargetArn removes the DLQ, as in Lambda."""
    if isinstance(value, dict) and value.get("TargetArn"):
        return str(value["TargetArn"])
    return None


def patch_missing_operations() -> None:
    """The routes and handlers moto lacks: ListFunctionUrlConfigs, Create/GetCodeSigningConfig,
    BatchUpdateFindings; and Security Hub's re-import semantics."""
    from moto.awslambda import responses as lambda_responses
    from moto.awslambda import urls as lambda_urls
    from moto.securityhub import models as hub_models
    from moto.securityhub import responses as hub_responses
    from moto.securityhub import urls as hub_urls

    if getattr(lambda_urls, ROUTES_MARK, False):
        return
    base = r"{0}/(?P<api_version>[^/]+)"
    dispatch = lambda_responses.LambdaResponse.dispatch
    lambda_urls.url_paths.update({
        base + r"/functions/(?P<function_name>[\w_:%-]+)/urls/?$": dispatch,
        base + r"/code-signing-configs/?$": dispatch,
        base + r"/code-signing-configs/(?P<arn>.+)$": dispatch,
    })
    hub_urls.url_paths["{0}/findings/batchupdate$"] = hub_responses.SecurityHubResponse.dispatch
    lambda_cls: Any = lambda_responses.LambdaResponse
    lambda_cls.list_function_url_configs = _list_function_url_configs
    lambda_cls.create_code_signing_config = _create_code_signing_config
    lambda_cls.get_code_signing_config = _get_code_signing_config
    hub_cls: Any = hub_responses.SecurityHubResponse
    hub_cls.batch_update_findings = _batch_update_findings
    backend_cls: Any = hub_models.SecurityHubBackend
    backend_cls.batch_import_findings = _keeping_workflow(backend_cls.batch_import_findings)
    setattr(lambda_urls, ROUTES_MARK, True)


def _lambda_error(code: str, message: str, status: int) -> tuple[int, dict[str, Any], str]:
    body = json.dumps({"Type": "User", "Message": message})
    return status, {"status": status, "x-amzn-errortype": code}, body


def _list_function_url_configs(self: Any) -> tuple[int, dict[str, Any], str]:
    from moto.awslambda.exceptions import UnknownFunctionException

    name = unquote(self.path.rstrip("/").rsplit("/", 2)[-2])
    function = self.backend._lambdas.get_function_by_name_or_arn_forbid_qualifier(name)
    if not function:
        raise UnknownFunctionException(arn=name)
    limit_text = self.querystring.get("MaxItems", [str(URL_PAGE)])[0]
    start_text = self.querystring.get("Marker", ["0"])[0]
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= URL_PAGE:
        return _lambda_error(
            "InvalidParameterValueException", f"MaxItems must be 1 to {URL_PAGE}", 400
        )
    configs = [function.url_config] if function.url_config else []
    if not start_text.isdigit() or int(start_text) > len(configs):
        return _lambda_error("InvalidParameterValueException", "Marker is not valid", 400)
    start, limit = int(start_text), int(limit_text)
    page = [
        {key: value for key, value in config.to_dict().items() if value is not None}
        for config in configs[start : start + limit]
    ]
    body: dict[str, Any] = {"FunctionUrlConfigs": page}
    if start + limit < len(configs):
        body["NextMarker"] = str(start + limit)
    return 200, {"status": 200}, json.dumps(body)


def _code_signing_configs(backend: Any) -> dict[str, dict[str, Any]]:
    """ARN -> CodeSigningConfig, per account and Region (a reset drops the backend and them)."""
    configs: dict[str, dict[str, Any]] | None = getattr(backend, "_guardrails_code_signing", None)
    if configs is None:
        configs = {}
        backend._guardrails_code_signing = configs
    return configs


def _create_code_signing_config(self: Any) -> tuple[int, dict[str, Any], str]:
    from moto.moto_api._internal import mock_random

    request = self.json_body
    publishers = (request.get("AllowedPublishers") or {}).get("SigningProfileVersionArns") or []
    if not 1 <= len(publishers) <= 20:
        return _lambda_error(
            "ValidationException", "AllowedPublishers needs 1 to 20 SigningProfileVersionArns", 400
        )
    policies = request.get("CodeSigningPolicies") or {}
    identifier = "csc-" + mock_random.get_random_hex(17)
    arn = (
        f"arn:aws:lambda:{self.region}:{self.current_account}:code-signing-config:{identifier}"
    )
    config = {
        "CodeSigningConfigId": identifier,
        "CodeSigningConfigArn": arn,
        "Description": request.get("Description", ""),
        "AllowedPublishers": {"SigningProfileVersionArns": list(publishers)},
        "CodeSigningPolicies": {
            "UntrustedArtifactOnDeployment": policies.get("UntrustedArtifactOnDeployment", "Warn")
        },
        "LastModified": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000",
    }
    _code_signing_configs(self.backend)[arn] = config
    return 201, {"status": 201}, json.dumps({"CodeSigningConfig": config})


def _get_code_signing_config(self: Any) -> tuple[int, dict[str, Any], str]:
    arn = unquote(self.path.split("/code-signing-configs/", 1)[1].split("?", 1)[0])
    config = _code_signing_configs(self.backend).get(arn)
    if config is None:
        return _lambda_error(
            "ResourceNotFoundException", f"The code signing configuration {arn} does not exist", 404
        )
    return 200, {"status": 200}, json.dumps({"CodeSigningConfig": config})


def _batch_update_findings(self: Any) -> str:
    from moto.securityhub.exceptions import InvalidInputException

    request = json.loads(self.body)
    identifiers = request.get("FindingIdentifiers") or []
    workflow = request.get("Workflow")
    note = request.get("Note")
    if workflow is not None and workflow.get("Status") not in WORKFLOW_STATUSES:
        raise InvalidInputException(
            op="BatchUpdateFindings", msg=f"Workflow.Status {workflow.get('Status')!r} is invalid"
        )
    if note is not None and not (note.get("Text") and note.get("UpdatedBy")):
        raise InvalidInputException(
            op="BatchUpdateFindings", msg="Note needs both Text and UpdatedBy"
        )
    stored = {
        (finding.id, finding.data.get("ProductArn")): finding
        for finding in self.securityhub_backend.findings
    }
    updated_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    processed, unprocessed = [], []
    for identifier in identifiers:
        finding = stored.get((identifier.get("Id"), identifier.get("ProductArn")))
        if finding is None:
            unprocessed.append({
                "FindingIdentifier": identifier,
                "ErrorCode": "FindingNotFound",
                "ErrorMessage": "Finding Not Found",
            })
            continue
        if workflow is not None:
            finding.data["Workflow"] = {"Status": workflow["Status"]}
        if note is not None:
            finding.data["Note"] = {
                "Text": note["Text"], "UpdatedBy": note["UpdatedBy"], "UpdatedAt": updated_at
            }
        processed.append({"Id": identifier["Id"], "ProductArn": identifier["ProductArn"]})
    return json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})


def _keeping_workflow(original: Any) -> Any:
    @functools.wraps(original)
    def batch_import_findings(self: Any, findings: list[dict[str, Any]]) -> Any:
        existing = {finding.id: finding.data for finding in self.findings}
        for finding in findings:
            before = existing.get(finding.get("Id"))
            if before is None:
                continue
            for key in KEPT_AFTER_CREATION:
                finding.pop(key, None)
                if key in before:
                    finding[key] = before[key]
        return original(self, findings)

    return batch_import_findings


def main(argv: list[str] | None = None) -> None:
    patch_dead_letter_config()
    patch_missing_operations()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
