"""Real server processes for tests: a private redis-server, and CareLoop instances (uvicorn)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


async def run_backend_command(*arguments: str) -> subprocess.CompletedProcess[str]:
    """``python -m backend ARGUMENTS``, awaited: the test's loop (and the live server on it) keeps
    running, so a transaction it holds can commit instead of making the command wait on its locks."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend",
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return subprocess.CompletedProcess(
        [sys.executable, "-m", "backend", *arguments], process.returncode, stdout.decode(), stderr.decode()
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until(check: object, what: str, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except OSError:
            pass
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not come up within {within} s")


class RedisServer:
    """A redis-server of our own on a free port, which a test may kill and start again."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        executable = shutil.which("redis-server")
        assert executable is not None
        self.process = subprocess.Popen(
            [
                executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def answers() -> bool:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")

        _wait_until(answers, "redis-server")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class AppInstance:
    """``python -m backend serve`` on a free port, sharing the test database."""

    def __init__(self, redis_url: str | None, **environment: str) -> None:
        self.port = free_port()
        self.redis_url = redis_url
        self.environment = environment
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def start(self) -> None:
        env = {**os.environ, "LOG_LEVEL": "WARNING", **self.environment}
        if self.redis_url is not None:
            env["REDIS_URL"] = self.redis_url
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backend", "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_until(lambda: httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200, "CareLoop")

    def stop(self) -> None:
        """SIGTERM: the graceful shutdown path."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None


class WorkerProcess:
    """``python -m backend worker`` (push dispatcher and automation runner), sharing the test
    database."""

    def __init__(self, **environment: str) -> None:
        self.environment = environment
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "LOG_LEVEL": "WARNING", **self.environment}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backend", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None
