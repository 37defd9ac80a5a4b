"""``scan --organization``: every account x Region of an organization, in parallel.

Each (account, Region) is one ``rules.scan.scan_region`` run with the scan role assumed there
(``MemberSessions``: regional STS, 900 s sessions, one per account and Region). Places run on a
bounded pool (``parallel``), each with its own bounded pool of reads (``workers``); every client
uses botocore's ``adaptive`` retry mode, which rate-limits on the client side and backs off when
AWS throttles, so the fan-out stays within each account's API rate limits.

A place that cannot be scanned (the role cannot be assumed, a read is denied, Config's inventory
is unhealthy where it was asked for, AWS keeps failing) becomes a ``ScanProblem`` with the
cause; the other places are still scanned. So does a place where anything else goes wrong (a
bug, an answer no adapter expected): one place's exception never aborts the fan-out, it becomes
that place's problem naming the exception's type and message. ``BaseException``s that are not
``Exception``s (KeyboardInterrupt, SystemExit) still stop the scan.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace

from botocore.exceptions import BotoCoreError, ClientError

from rules.aws.accounts import MemberSessions
from rules.aws.inventory import Source
from rules.errors import GuardrailsError
from rules.parameters import Parameters
from rules.rule import Rule
from rules.scan import WORKERS, RegionScan, ScanProblem, scan_region

PARALLEL_PLACES = 4  # accounts x Regions scanned at once (each with ``workers`` reads)

# progress(places done, places, functions evaluated so far)
FanOutProgress = Callable[[int, int, int], None]


@dataclass(frozen=True, slots=True)
class FanOut:
    scans: tuple[RegionScan, ...]  # in the order of the places asked for
    problems: tuple[ScanProblem, ...]  # places not scanned, with the cause


def scan_places(
    members: MemberSessions,
    places: Sequence[tuple[str, str]],
    rules: Sequence[Rule],
    parameters: Mapping[str, Parameters],
    *,
    source: Source | None = None,
    workers: int = WORKERS,
    parallel: int = PARALLEL_PLACES,
    progress: FanOutProgress | None = None,
) -> FanOut:
    """Scan every (account, Region) of ``places`` with the role of ``members``."""
    counter, finished = _Counter(), _Finished()

    def one(place: tuple[str, str]) -> RegionScan | ScanProblem:
        account, region = place

        def evaluated(phase: str, done: int, total: int | None) -> None:
            if phase == "evaluating":
                counter.set(place, done)
                if progress:
                    progress(finished.value, len(places), counter.total)

        try:
            clients = members.clients(account, region)
            scan = scan_region(
                clients, rules, parameters, source=source, workers=workers, progress=evaluated
            )
        except GuardrailsError as error:  # role not assumable, a denied read, unhealthy Config
            return ScanProblem(account, region, "", str(error))
        except (BotoCoreError, ClientError) as error:  # AWS kept failing after the retries
            return ScanProblem(account, region, "", f"AWS call failed: {_first_line(error)}")
        except Exception as error:  # noqa: BLE001 -- reported as this place's problem, scan goes on
            return ScanProblem(account, region, "", unexpected(error))
        return replace(scan, account_id=account)

    outcomes: dict[tuple[str, str], RegionScan | ScanProblem] = {}
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        futures = {pool.submit(one, place): place for place in places}
        for future in as_completed(futures):
            outcomes[futures[future]] = future.result()
            finished.value += 1
            if progress:
                progress(finished.value, len(places), counter.total)
    ordered = [outcomes[place] for place in places]
    return FanOut(
        tuple(o for o in ordered if isinstance(o, RegionScan)),
        tuple(o for o in ordered if isinstance(o, ScanProblem)),
    )


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0][:300] if str(error) else type(error).__name__


def unexpected(error: Exception) -> str:
    """An exception no reader anticipated, as a problem: its type and the first line of its
    message (as botocore's own errors are reported; no value is read from the environment)."""
    message = str(error).splitlines()[0][:300] if str(error) else "no message"
    return f"unexpected error {type(error).__name__}: {message}"


class _Finished:
    def __init__(self) -> None:
        self.value = 0


class _Counter:
    """Functions evaluated so far, summed over the places (thread-safe)."""

    def __init__(self) -> None:
        self._done: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def set(self, place: tuple[str, str], done: int) -> None:
        with self._lock:
            self._done[place] = done

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._done.values())
