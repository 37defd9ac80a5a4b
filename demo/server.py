"""Run ``moto_server`` (with the moto gaps ``demo.moto_patched`` fills) on a free 127.0.0.1 port.

``with MotoServer() as server:`` starts it in its own process group, waits until it answers and
always stops it on the way out: normal exit, an error, Ctrl-C (KeyboardInterrupt) or SIGTERM
(turned into SystemExit by ``stop_on_sigterm``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Iterator

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
# Credentials and region for an emulator: never real ones, so nothing can reach AWS by mistake.
FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class ServerError(RuntimeError):
    pass


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class MotoServer:
    def __init__(
        self,
        *,
        host: str = HOST,
        port: int | None = None,
        patched: bool = True,
        startup_timeout: float = 30.0,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.port = port or 0
        self.patched = patched
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        attempts = 1 if self.requested_port else 3  # a free port can be taken before we bind it
        for attempt in range(attempts):
            self.port = self.requested_port or free_port(self.host)
            try:
                self._spawn()
                self._wait_until_ready()
            except ServerError:
                log = self.log_tail()
                self.stop()
                if attempt == attempts - 1:
                    raise ServerError(f"moto_server did not start on {self.url}:\n{log}") from None
            except BaseException:
                self.stop()
                raise
            else:
                return

    def _spawn(self) -> None:
        module = "demo.moto_patched" if self.patched else "moto.server"
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        env = {**os.environ, "PYTHONPATH": path}
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, "-H", self.host, "-p", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            start_new_session=True,  # Ctrl-C reaches us, and we stop it in order
        )

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise ServerError("moto_server exited")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=1):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        raise ServerError(f"moto_server did not answer within {self.startup_timeout:.0f} s")

    def reset(self) -> None:
        """Forget every resource (``POST /moto-api/reset``)."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def log_tail(self, size: int = 4000) -> str:
        if self._log is None:
            return ""
        self._log.seek(0, os.SEEK_END)
        self._log.seek(max(0, self._log.tell() - size))
        return self._log.read().decode(errors="replace")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def environment(self) -> dict[str, str]:
        """Variables that point every boto3 client of a process at this server."""
        return {**FAKE_ENVIRONMENT, "AWS_ENDPOINT_URL": self.url}


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into SystemExit for the block, so ``with MotoServer()`` cleans up."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def pointed_at(server: MotoServer) -> Iterator[None]:
    """Point this process's boto3 clients at ``server`` (fake credentials), then restore."""
    saved = {name: os.environ.get(name) for name in (*FAKE_ENVIRONMENT, "AWS_ENDPOINT_URL")}
    for profile_variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        saved.setdefault(profile_variable, os.environ.get(profile_variable))
        os.environ.pop(profile_variable, None)
    os.environ.update(server.environment())
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
