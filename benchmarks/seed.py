"""What bench_all (one account) and bench_org (each account and Region of the organization)
share: the sample functions, and the raw boto3 fetch that is the scans' baseline."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3


def seed_functions(
    session: boto3.Session, account: str, role: str, code: bytes, count: int
) -> None:
    """The benchmarks' mix: every 3rd function with an S3 grant, every 2nd with reserved
    concurrency, every 4th with a KMS key (a real one: the CMK rule asks DescribeKey who manages
    it, once per key and process) and variables."""
    lam = session.client("lambda")
    key = session.client("kms").create_key()["KeyMetadata"]["Arn"]

    def create(index: int) -> None:
        name = f"bench-{index:05d}"
        spec: dict[str, Any] = {
            "FunctionName": name,
            "Runtime": "python3.12",
            "Role": role,
            "Handler": "app.handler",
            "Code": {"ZipFile": code},
        }
        if index % 4 == 0:
            spec.update(KMSKeyArn=key, Environment={"Variables": {"A": "1"}})
        lam.create_function(**spec)
        if index % 3 == 0:
            lam.add_permission(
                FunctionName=name,
                StatementId="s3",
                Action="lambda:InvokeFunction",
                Principal="s3.amazonaws.com",
                SourceAccount=account,
                SourceArn="arn:aws:s3:::bench",
            )
        if index % 2 == 0:
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(create, range(count)))


def read_like_scan(lam: Any, kms: Any) -> None:
    """What scan reads, with plain boto3 and nothing else: ListFunctions, then GetPolicy,
    GetFunctionConcurrency and ListAliases per function, DescribeKey per distinct key,
    sequentially."""
    keys: set[str] = set()
    for page in lam.get_paginator("list_functions").paginate():
        for function in page["Functions"]:
            with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
                lam.get_policy(FunctionName=function["FunctionArn"])
            lam.get_function_concurrency(FunctionName=function["FunctionArn"])
            lam.list_aliases(FunctionName=function["FunctionName"])
            key = function.get("KMSKeyArn")
            if key and key not in keys:
                keys.add(key)
                kms.describe_key(KeyId=key)
