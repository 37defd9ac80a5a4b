#!/usr/bin/env python3
"""CDK entry point: `npx cdk synth` / `npx cdk deploy` (cdk.json runs this with the venv)."""

from __future__ import annotations

import os
import sys

# Before aws_cdk starts its Node process: the jsii "Node 20 is end-of-life" banner is noise here
# (the CLI pin is tested on Node 20), and construct stack traces would make every synth warning
# print a meaningless jsii frame. Set CDK_DISABLE_STACK_TRACE= (empty) to record them again.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK_DISABLE_STACK_TRACE", "1")

import aws_cdk as cdk

from infra.nag import add_checks
from infra.organization import build_organization
from infra.settings import SettingsError, load_settings
from infra.stack import GuardrailsStack
from infra.stacksets import build_stacksets

STACK_NAME = "LambdaGuardrails"


def build_app(context: dict[str, object] | None = None, outdir: str | None = None) -> cdk.App:
    app = cdk.App(context=context, outdir=outdir)
    settings = load_settings(app.node.try_get_context)
    if settings.deployment_mode == "account":
        GuardrailsStack(
            app,
            STACK_NAME,
            settings=settings,
            description="Lambda Guardrails: AWS Config custom rules for Lambda functions",
        )
    elif settings.deployment_mode == "stacksets":
        build_stacksets(app, STACK_NAME, settings)
    else:
        build_organization(app, settings)
    add_checks(app)
    return app


if __name__ == "__main__":
    try:
        app = build_app()
    except SettingsError as error:  # a bad context value: name it, no traceback
        sys.exit(f"cdk.json / -c context: {error}")
    app.synth()
