"""A small Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (no websocket, no new dependency).

Chromium reads NUL-terminated JSON commands on fd 3 and writes replies and events on fd 4. ``Browser``
starts headless Chromium with those pipes, opens one page and sends commands to it::

    with Browser(chromium_path, profile_dir) as browser:
        browser.open("file:///…/digest.html", width=412, height=915, mobile=True)
        browser.evaluate("document.title")
        png = browser.screenshot()
"""

from __future__ import annotations

import base64
import json
import os
import select
import subprocess
import time
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


class CdpError(RuntimeError):
    pass


class Browser:
    def __init__(self, chromium: str, profile: Path, timeout: float = 30.0):
        self.timeout = timeout
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # fds 3 and 4 in the child, whatever numbers the pipes have here (bash: dash takes only 0-9)
        script = f'exec "$0" "$@" 3<&{to_chrome_r} 4>&{from_chrome_w}'
        self.proc = subprocess.Popen(
            [
                "bash",
                "-c",
                script,
                chromium,
                *FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            pass_fds=(to_chrome_r, from_chrome_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.session: str | None = None

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self._send("Browser.close", {}, session=None, wait=False)
                self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired, CdpError):
            self.proc.kill()
            self.proc.wait()
        finally:
            for fd in (self._to_chrome, self._from_chrome):
                try:
                    os.close(fd)
                except OSError:
                    pass

    # -- protocol

    def call(self, method: str, params: dict | None = None) -> dict:
        """A command to the open page (or to the browser before ``open``); returns its result."""
        return self._send(method, params or {}, session=self.session)

    def _send(self, method: str, params: dict, session: str | None, wait: bool = True) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode("utf-8") + b"\0")
        return self._reply(self._next_id) if wait else {}

    def _reply(self, wanted: int) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if message.get("id") == wanted:
                    if "error" in message:
                        raise CdpError(f"{message['error']}")
                    return message.get("result", {})
            left = deadline - time.monotonic()
            if left <= 0:
                raise CdpError(f"no reply to command {wanted} within {self.timeout} s")
            ready, _, _ = select.select([self._from_chrome], [], [], left)
            if ready:
                chunk = os.read(self._from_chrome, 65536)
                if not chunk:
                    raise CdpError("chromium closed the pipe")
                self._buffer += chunk

    # -- conveniences

    def open(self, url: str, width: int, height: int, mobile: bool = False) -> None:
        target = self._send("Target.createTarget", {"url": "about:blank"}, session=None)["targetId"]
        self.session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=None)[
            "sessionId"
        ]
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )
        self.call("Page.navigate", {"url": url})
        deadline = time.monotonic() + self.timeout
        while self.evaluate("document.readyState") != "complete" or self.evaluate("location.href") != url:
            if time.monotonic() > deadline:
                raise CdpError(f"{url} did not finish loading")
            time.sleep(0.05)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise CdpError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self) -> bytes:
        return base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"})["data"])
