"""The sandbox in its own process (``python -m shinrai.sandbox``), driven over its control endpoints,
so its CPU and memory are not the pipeline's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from shinrai.airflow_env import sandbox_connections


class SandboxProcess:
    def __init__(self, scale: float, seed: int = 7, rate_limit: str = "off",
                 speedup: dict[str, float] | None = None, log: Path | None = None,
                 env: dict[str, str] | None = None):
        self.scale, self.seed, self.rate_limit, self.speedup = scale, seed, rate_limit, speedup or {}
        self.log, self.env = log, env
        self.proc: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}

    def start(self) -> SandboxProcess:
        cmd = [sys.executable, "-m", "shinrai.sandbox", "--scale", str(self.scale), "--seed", str(self.seed),
               "--jira-port", "0", "--notion-port", "0", "--slack-port", "0", "--rate-limit", self.rate_limit]
        if self.speedup:
            cmd += ["--rate-limit-speedup", json.dumps(self.speedup)]
        stderr = open(self.log, "a", encoding="utf-8") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True,
                                     env=self.env or dict(os.environ))
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError(f"the sandbox did not start (scale {self.scale}); see {self.log}")
        self.info = json.loads(line)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> SandboxProcess:
        return self.start() if self.proc is None else self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def connections(self) -> dict[str, str]:
        i = self.info
        return sandbox_connections(i["jira_url"], i["notion_url"], i["slack_url"], i["credentials"])

    def _control(self, server: str, path: str, body: dict | None = None) -> Any:
        base = {"jira": self.info["jira_url"], "notion": self.info["notion_url"],
                "slack": self.info["slack_url"].rstrip("/").removesuffix("/api")}[server]
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{base}/_sandbox/{path}", data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=600) as resp:  # noqa: S310 - loopback only
            return json.loads(resp.read())

    def requests(self) -> list[dict[str, Any]]:
        return self._control("jira", "requests")

    def reset_requests(self) -> None:
        self._control("jira", "requests/reset", {})

    def manifest(self) -> dict[str, Any]:
        return self._control("jira", "manifest")

    def set_faults(self, **knobs: Any) -> dict[str, Any]:
        return self._control("jira", "faults", knobs)

    def mutate(self, fraction: float, delete_fraction: float = 0.0, seed: int = 1) -> dict[str, Any]:
        return self._control("jira", "mutate", {"fraction": fraction, "delete_fraction": delete_fraction,
                                                "seed": seed})
