"""The availability zone of each subnet: ``ec2:DescribeSubnets``, asked once per subnet per
invocation (``SubnetZones``: the handler makes one per invocation, ``scan`` one per Region).

A subnet EC2 does not know (``InvalidSubnetID.NotFound``: deleted since the function was
configured) is left out of the answer: its zone is unknown, which ``lambda-vpc-multi-az`` never
counts as a zone. Any other failure is a ``ReadError`` naming the subnets (no verdict), never an
absent zone. Failures are not cached.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from botocore.exceptions import ClientError

from rules.aws.errors import ReadError

NOT_FOUND = "InvalidSubnetID.NotFound"


class SubnetZones:
    """Zones of the subnets met so far (thread-safe: ``scan``'s workers share one)."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}
        self._missing: set[str] = set()
        self._lock = threading.Lock()

    def zones(self, ec2: Any, subnet_ids: Iterable[str]) -> Mapping[str, str]:
        """Subnet id -> zone for each of ``subnet_ids`` EC2 knows; one DescribeSubnets call
        for those not met before."""
        wanted = tuple(dict.fromkeys(subnet_ids))
        with self._lock:
            unknown = [s for s in wanted if s not in self._known and s not in self._missing]
            if unknown:
                found = _describe(ec2, unknown)
                self._known.update(found)
                self._missing.update(s for s in unknown if s not in found)
            return MappingProxyType({s: self._known[s] for s in wanted if s in self._known})


def _describe(ec2: Any, subnet_ids: list[str]) -> dict[str, str]:
    try:
        return _zones(ec2.describe_subnets(SubnetIds=subnet_ids))
    except ClientError as error:
        if _code(error) != NOT_FOUND:
            raise ReadError(
                f"cannot read the availability zones of subnet(s) {', '.join(subnet_ids)} "
                f"(ec2:DescribeSubnets: {error})"
            ) from None
    # One missing subnet fails the whole call: ask one by one to keep the others.
    found: dict[str, str] = {}
    for subnet_id in subnet_ids:
        try:
            found.update(_zones(ec2.describe_subnets(SubnetIds=[subnet_id])))
        except ClientError as error:
            if _code(error) != NOT_FOUND:
                raise ReadError(
                    f"cannot read the availability zone of subnet {subnet_id} "
                    f"(ec2:DescribeSubnets: {error})"
                ) from None
    return found


def _zones(response: Mapping[str, Any]) -> dict[str, str]:
    zones: dict[str, str] = {}
    for subnet in response.get("Subnets") or []:
        subnet_id, zone = subnet.get("SubnetId"), subnet.get("AvailabilityZone")
        if not isinstance(subnet_id, str) or not isinstance(zone, str) or not zone:
            raise ReadError(f"ec2:DescribeSubnets answered a subnet without its zone: {subnet!r}")
        zones[subnet_id] = zone
    return zones


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
