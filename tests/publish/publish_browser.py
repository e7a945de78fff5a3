"""Open a local page in headless Chromium through the DevTools protocol and report what happened.

Collects console errors, uncaught exceptions, failed loads and every requested URL (to prove the
page needs no network), evaluates a readiness expression, and saves a full-page screenshot.
Chromium runs with DNS disabled (``--host-resolver-rules``), so anything that tries the network
fails loudly instead of silently succeeding on a connected machine.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def find_chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        if os.path.exists(candidate):
            return candidate
    return shutil.which("chromium")


@dataclass
class PageResult:
    dom: str = ""
    mode: str = "devtools"
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    requested_urls: list[str] = field(default_factory=list)
    screenshot: Path | None = None
    browser_log: str = ""
    value: Any = None  # what ``evaluate`` returned, in the page, once it was ready

    @property
    def problems(self) -> list[str]:
        return [*self.console_errors, *self.exceptions, *self.failed_requests]


class _Cdp:
    def __init__(self, ws: Any):
        self.ws = ws
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        msg_id = self.next_id
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method: str, timeout: float) -> dict[str, Any]:
        for event in self.events:
            if event["method"] == method:
                return event
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == method:
                    return msg
        raise TimeoutError(f"no {method} within {timeout}s")



def _flags(profile: str) -> list[str]:
    return [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
        f"--user-data-dir={profile}", "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0",
    ]


def _open_page_cli(exe: str, url: str, screenshot: Path | None, timeout: float, width: int) -> PageResult:
    """Fallback without a websocket client: one --dump-dom run, one --screenshot run."""
    result = PageResult(mode="dump-dom")
    budget = "--virtual-time-budget=15000"
    with tempfile.TemporaryDirectory(prefix="shinrai-chromium-", ignore_cleanup_errors=True) as profile:
        run = subprocess.run([exe, *_flags(profile), budget, "--dump-dom", url], capture_output=True, text=True,
                             timeout=timeout)
        result.dom, result.browser_log = run.stdout, run.stderr
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([exe, *_flags(profile), budget, f"--window-size={width},6000",
                            f"--screenshot={screenshot}", url], capture_output=True, timeout=timeout)
            result.screenshot = screenshot if screenshot.exists() else None
    # the log does not say a console message's level: any console output counts (the report logs none)
    result.console_errors += [line.strip() for line in result.browser_log.splitlines() if ":CONSOLE" in line]
    return result


def _start_chromium(exe: str, profile: str) -> tuple[subprocess.Popen[str], str, list[str]]:
    args = [exe, *_flags(profile), "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
            "about:blank"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    found = threading.Event()
    ws: list[str] = []

    def drain() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "DevTools listening on " in line and not found.is_set():
                ws.append(line.split("DevTools listening on ", 1)[1].strip())
                found.set()

    threading.Thread(target=drain, daemon=True).start()
    if not found.wait(30):
        proc.kill()
        raise RuntimeError("chromium did not start:\n" + "".join(lines[-30:]))
    return proc, ws[0], lines


def open_page(
    url: str,
    ready_js: str,
    screenshot: Path | None = None,
    timeout: float = 60,
    width: int = 1280,
    evaluate: str | None = None,
) -> PageResult:
    """Load ``url``, wait until ``ready_js`` is truthy, return the DOM and everything observed.

    ``evaluate`` is a script run in the ready page at ``width`` CSS pixels (measurements of the
    rendered layout); its JSON-able result is ``PageResult.value``. It needs the DevTools protocol.

    Uses the DevTools protocol (the ``websockets`` client); without it, falls back to
    ``--dump-dom`` / ``--screenshot`` runs and console lines in Chromium's log.
    """
    exe = find_chromium()
    if exe is None:
        raise RuntimeError("chromium is not installed")
    try:
        import websockets.sync.client  # noqa: F401
    except ImportError:
        if evaluate is not None:
            raise RuntimeError("measuring a page needs the websockets client (the DevTools protocol)") from None
        return _open_page_cli(exe, url, screenshot, timeout, width)
    result = PageResult()
    with tempfile.TemporaryDirectory(prefix="shinrai-chromium-", ignore_cleanup_errors=True) as profile:
        proc, browser_ws, log_lines = _start_chromium(exe, profile)
        try:
            port = browser_ws.split("//", 1)[1].split("/", 1)[0]
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(f"http://{port}/json/list", timeout=10) as resp:
                targets = json.loads(resp.read())
            page = next(t for t in targets if t.get("type") == "page")
            from websockets.sync.client import connect

            with connect(page["webSocketDebuggerUrl"], proxy=None, max_size=None, open_timeout=20) as ws:
                cdp = _Cdp(ws)
                for domain in ("Runtime", "Log", "Network", "Page"):
                    cdp.call(f"{domain}.enable")
                cdp.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1,
                         mobile=False)
                cdp.events.clear()
                cdp.call("Page.navigate", url=url)
                cdp.wait_event("Page.loadEventFired", timeout)
                deadline = time.monotonic() + timeout
                while True:
                    ready = cdp.call("Runtime.evaluate", expression=ready_js, returnByValue=True)
                    if ready.get("result", {}).get("value"):
                        break
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.2)
                evaluated = cdp.call("Runtime.evaluate", expression="document.documentElement.outerHTML",
                                     returnByValue=True)
                result.dom = evaluated.get("result", {}).get("value") or ""
                if evaluate is not None:
                    measured = cdp.call("Runtime.evaluate", expression=evaluate, returnByValue=True)
                    if "exceptionDetails" in measured:
                        details = measured["exceptionDetails"]
                        raise RuntimeError("evaluate: " + str(details.get("exception", {}).get("description")
                                                              or details.get("text")))
                    result.value = measured.get("result", {}).get("value")
                if screenshot is not None:
                    metrics = cdp.call("Page.getLayoutMetrics")
                    height = int(metrics.get("cssContentSize", metrics.get("contentSize", {})).get("height", 900))
                    cdp.call("Emulation.setDeviceMetricsOverride", width=width, height=min(max(height, 900), 16000),
                             deviceScaleFactor=1, mobile=False)
                    time.sleep(0.3)
                    shot = cdp.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
                    screenshot.parent.mkdir(parents=True, exist_ok=True)
                    screenshot.write_bytes(base64.b64decode(shot["data"]))
                    result.screenshot = screenshot
                # let late events (errors thrown in timers) arrive
                try:
                    cdp.wait_event("__never__", 0.5)
                except TimeoutError:
                    pass
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        result.browser_log = "".join(log_lines)
    urls: dict[str, str] = {}
    for event in cdp.events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            result.console_errors.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            desc = details.get("exception", {}).get("description") or details.get("text")
            result.exceptions.append(f"exception: {desc}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            result.console_errors.append(f"log.{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}")
        elif method == "Network.requestWillBeSent":
            result.requested_urls.append(params["request"]["url"])
            urls[params["requestId"]] = params["request"]["url"]
        elif method == "Network.loadingFailed":
            url = urls.get(params.get("requestId"), "?")
            result.failed_requests.append(f"failed load: {url} {params.get('errorText')} ({params.get('type')})")
    return result
