"""No secret of a configured channel URL in anything newsmon writes: real `newsmon run` and
`newsmon alerts --deliver` subprocesses deliver to every documented Apprise scheme — a real SMTP server
(aiosmtpd, no AUTH: the login fails) and a real HTTP receiver answering 500 on loopback, and the fixed
hosts of Slack, Telegram and Discord through an HTTPS proxy that is not listening — then every file under
the output directory and both streams are searched for each secret in every encoding."""

from __future__ import annotations

import base64
import json
import logging
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, quote_plus

import pytest

from crawler.alerts import redact
from tests.alerting import SmtpServer, article_page, free_port, listing_page, rows, write_config
from tests.conftest import ROOT
from tests.sitesrv import Route

# ---------------------------------------------------------------- structure, in process

CASES = [
    # (url, the secrets it holds as decoded values, ordinary words display() keeps)
    (
        "mailto://127.0.0.1:2525?user=bob&pass=Qz7pw&to=desk@example.org",
        ["Qz7pw"],
        ["user=bob", "to=desk@example.org", "127.0.0.1:2525"],
    ),
    (
        "mailtos://newsmon:app-password@smtp.example.org?to=desk@example.org",
        ["app-password"],
        ["mailtos://newsmon:", "@smtp.example.org", "to=desk@example.org"],
    ),
    (
        "json://user:Pq8ab@127.0.0.1:80/hook?+Authorization=Bearer%20Xy9sec&format=text",
        ["Pq8ab", "Bearer Xy9sec"],
        ["json://user:", "/hook?", "+Authorization=", "format=text"],
    ),
    (
        "jsons://hooks.example.org/hook/AbCdEf0123456789?token=Tk4ab",
        ["AbCdEf0123456789", "Tk4ab"],
        ["jsons://hooks.example.org/hook/", "token="],
    ),
    (
        "form://example.org/in?apikey=Ak3yz&-secret=Sc5rt&:message=body",
        ["Ak3yz", "Sc5rt"],
        ["apikey=", "-secret=", ":message=body"],
    ),
    ("xmls://example.org/in?%2BX-Api-Key=Xk1ey&access_token=At0kn", ["Xk1ey", "At0kn"], ["%2BX-Api-Key="]),
    ("slack://newsbot@T1abc/B2def/C3ghi/#newsroom", ["T1abc", "B2def", "C3ghi"], ["newsbot@", "#newsroom"]),
    ("slack://xoxb-1234-ab5c/#newsroom", ["xoxb-1234-ab5c"], ["slack://", "#newsroom"]),
    ("tgram://123456:Bt5kq/-100987654321", ["Bt5kq", "123456:Bt5kq"], ["-100987654321"]),
    ("discord://4815162342/Dk5tq", ["Dk5tq"], ["discord://"]),
    ("ntfy://bob:Nt6pw@ntfy.example.org/alerts?auth=basic", ["Nt6pw"], ["bob:", "/alerts", "auth=basic"]),
    ("ntfys://tk_Nt7tk@ntfy.example.org/alerts", ["tk_Nt7tk"], ["@ntfy.example.org/alerts"]),
    (
        "matrixs://newsmon:Mx8pw@matrix.example.org/#newsroom:example.org",
        ["Mx8pw"],
        ["newsmon:", "matrix.example.org/#newsroom:example.org"],
    ),
    ("matrix://Mx9tk@matrix.example.org/#newsroom", ["Mx9tk"], ["@matrix.example.org/#newsroom"]),
    ("matrix://T2bTk", ["T2bTk"], ["matrix://"]),
    # the services' own webhook URLs, which Apprise accepts too
    ("https://hooks.slack.com/services/T1abc/B2def/C3ghi", ["T1abc", "B2def", "C3ghi"], ["hooks.slack.com/services/"]),
    ("https://discord.com/api/webhooks/4815162342/Dk5tq", ["4815162342", "Dk5tq"], ["discord.com/api/webhooks/"]),
    # a scheme without a rule here: what Apprise's Pushover plugin marks private
    (
        "pover://uq7bx3kd9m2nv8wz5rt4hj6pc1fg0s@aq7bx3kd9m2nv8wz5rt4hj6pc1fg0s/phone",
        ["uq7bx3kd9m2nv8wz5rt4hj6pc1fg0s", "aq7bx3kd9m2nv8wz5rt4hj6pc1fg0s"],
        ["/phone"],
    ),
]


@pytest.mark.parametrize(
    "url, secrets, ordinary", CASES, ids=[c[0].split(":")[0] + str(n) for n, c in enumerate(CASES)]
)
def test_display_masks_exactly_the_secrets_by_structure(url, secrets, ordinary):
    shown = redact.display(url)
    for secret in secrets:
        assert all(form not in shown for form in encodings(secret)), (secret, shown)
    assert redact.MASK in shown
    for word in ordinary:
        assert word in shown, (word, shown)


def test_a_secret_is_masked_in_every_encoding_and_an_ordinary_word_never():
    secret = "Pe l/+&=@:%é"
    redact.protect(f"json://user:{quote(secret, safe='')}@127.0.0.1:9/hook?user=bob&+Authorization=Bearer%20Wq3zv")
    for form in (
        encodings(secret)
        | encodings("Bearer Wq3zv")
        | encodings("Wq3zv")
        | {base64.b64encode(f"user:{secret}".encode()).decode()}
    ):
        text = f"user=bob sent to 127.0.0.1 with [{form}]"
        assert redact.redact(text) == f"user=bob sent to 127.0.0.1 with [{redact.MASK}]", form
    # The user name, a mode word and "Bearer" alone are ordinary words.
    assert redact.redact("user: user=bob Bearer token basic") == "user: user=bob Bearer token basic"


def test_a_log_record_of_any_logger_is_masked_before_a_handler_sees_it(caplog):
    redact.protect("ntfy://bob:Lr4pw@127.0.0.1:9/alerts")
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3.connectionpool").debug('"POST %s HTTP/1.1" 500', "/alerts?password=Lr4pw")
    try:
        raise ValueError("login Lr4pw refused")
    except ValueError:
        logging.getLogger("apprise").exception("failed for user %s", "bob")
    assert "Lr4pw" not in caplog.text and "password=****" in caplog.text and "login **** refused" in caplog.text
    assert "failed for user bob" in caplog.text


# ---------------------------------------------------------------- end to end: subprocesses, files, streams


class FailingReceiver:
    """A real HTTP server on loopback answering 500 to every request; keeps what it received."""

    def __init__(self):
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _fail(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                headers = "".join(f"{k}: {v}\n" for k, v in self.headers.items())  # as latin-1, as sent
                outer.requests.append(f"{self.command} {self.path}\n{headers}\n{body}")
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = _fail

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def secret(variant: str, n: int, *, kind: str = "value") -> str:
    """The ``n``-th secret of a variant, as decoded: 5 characters, 40, or full of characters a URL must
    encode. In a token position (``kind`` "token": letters and digits, as Apprise's Slack accepts;
    "path": also ``-`` and ``_``, as Telegram's and Discord's) the encoded variant has only those."""
    if variant == "short":
        return f"Zq{n:02d}x"
    if variant == "long":
        return f"Lg{n:02d}" + "k7Rw2mQ9vX4tB8nY5cJ3hF6pD1sG0aE8uW3zH5"[:36]
    return {"token": f"Pe{n:02d}xy", "path": f"Pe{n:02d}-x_y"}.get(kind, f"Pe{n:02d} l/+&=@:%é")


def written(variant: str, value: str, kind: str = "value") -> str:
    """``value`` as written in the URL: percent-encoded in the encoded variant (a token: its first letter)."""
    if variant != "encoded":
        return value
    return quote(value, safe="") if kind == "value" else "%" + format(ord(value[0]), "02X") + value[1:]


def encodings(value: str) -> set[str]:
    """Every form in which ``value`` would betray itself."""
    forms = {
        value,
        value.replace(" ", "+"),
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
    }
    return forms | {re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), f) for f in forms}  # %2f as %2F


def channels(variant: str, smtp_port: int, http_port: int) -> tuple[dict[str, str], list[str]]:
    """``{name: url}`` of one channel per documented scheme, and the secrets (decoded) they hold."""
    counter = iter(range(1, 100))
    found: list[str] = []

    def s(kind: str = "value") -> str:
        value = secret(variant, next(counter), kind=kind)
        found.append(value)
        return written(variant, value, kind)

    here = f"127.0.0.1:{http_port}"
    mail = "to=desk@example.org&from=newsmon@example.org"
    urls = {
        "mail-query": f"mailto://127.0.0.1:{smtp_port}?user=bob&pass={s()}&{mail}&mode=insecure",
        "mail-userinfo": f"mailtos://bob:{s()}@127.0.0.1:{smtp_port}?{mail}",
        # Apprise: "-key" is a query argument of the POST, "+Key" a header (unless user:password sets it)
        "json": f"json://user:{s()}@{here}/hook?-token={s()}",
        "json-header": f"json://{here}/hook?+Authorization=Bearer%20{s()}",
        "jsons": f"jsons://{here}/hook?+X-Api-Key={s()}",
        "form": f"form://{here}/form?apikey={s()}&-secret={s()}",
        # a webhook token in the path: found by its looks (letters and digits, 12+), whatever the variant
        "xml": f"xml://{here}/xml/AbCdEf0123456789{variant}?key={s()}",
        "slack": f"slack://newsbot@{s('token')}/{s('token')}/{s('token')}/#news",
        "tgram": f"tgram://123456:{s('path')}/-100987654321",
        "discord": f"discord://4815162342/{s('path')}",
        "ntfy": f"ntfy://bob:{s()}@{here}/alerts",
        "ntfys": f"ntfys://tk_{s()}@{here}/alerts",
        "matrix": f"matrix://bob:{s()}@{here}/#newsroom",
        "matrixs": f"matrixs://{s()}@{here}/#newsroom",
    }
    # The json channel's user:password as its Basic Authorization header carries it.
    basic = [base64.b64encode(f"user:{found[2]}".encode(e)).decode() for e in ("utf-8", "latin-1")]
    return urls, [*found, f"AbCdEf0123456789{variant}", *basic]


@pytest.fixture
def receivers():
    smtp, http = SmtpServer(), FailingReceiver()
    smtp.controller.start()
    yield smtp, http
    smtp.controller.stop()
    http.stop()


@pytest.mark.parametrize("variant", ["short", "long", "encoded"])
def test_no_secret_in_any_file_or_stream_of_real_runs(tmp_path, site_server, newsmon, receivers, variant):
    smtp, http = receivers
    site_server.routes["/world/russia/"] = Route(listing_page([("/a/1.html", "Putin meets Xi")]))
    site_server.routes["/a/1.html"] = Route(article_page("Putin meets Xi", ["A meeting in Moscow. " * 20]))
    urls, secrets = channels(variant, smtp.port, http.port)
    # The long variant also logs DEBUG to the file: Apprise's and urllib3's own lines land there too.
    level = 'level = "DEBUG"\n' if variant == "long" else ""
    extra = f"[logging]\n{level}[alerts]\nretries = 0\n" + "".join(
        f'[[alerts.channels]]\nname = "{name}"\nurl = "{url}"\ndigest = true\n' for name, url in urls.items()
    )
    cfg = str(write_config(tmp_path, site_server.url, extra=extra))
    # Slack, Telegram and Discord have fixed hosts: an HTTPS proxy that is not listening makes them fail
    # at once, Internet or not; loopback itself is reached directly.
    env = {"HTTPS_PROXY": f"http://127.0.0.1:{free_port()}", "NO_PROXY": "127.0.0.1,localhost"}

    streams = {}
    for args in (
        ("run", "-vv"),
        ("alerts", "--deliver", "-vv"),
        ("alerts", "--deliver"),
        ("alerts",),
        ("status",),
        ("status", "--json"),
    ):
        proc = newsmon(*args, "--config", cfg, env=env, timeout=180)
        assert "Traceback" not in proc.stderr, proc.stderr
        streams[f"{' '.join(args)} stdout"], streams[f"{' '.join(args)} stderr"] = proc.stdout, proc.stderr

    out = tmp_path / "output"
    # Every channel failed, in the DB and on stdout, so its URL's secrets were in play everywhere.
    failed = rows(out, "SELECT channel, last_error FROM event_deliveries WHERE status = 'undelivered'")
    assert {r["channel"] for r in failed} == set(urls) and all(r["last_error"] for r in failed)
    digests = rows(out, "SELECT channel, last_error FROM digest_deliveries WHERE status = 'undelivered'")
    assert {r["channel"] for r in digests} == set(urls) and all(r["last_error"] for r in digests)
    for name in urls:
        assert f"{name}: undelivered" in streams["alerts --deliver stdout"], streams["alerts --deliver stdout"]
    # …and they reached the receivers: the HTTP receiver got the password, the query token and the header.
    received = "\n".join(http.requests)
    basic = base64.b64encode(f"user:{secret(variant, 3)}".encode("latin-1")).decode()  # as requests sends it
    assert f"Authorization: Basic {basic}" in received and f"?token={quote_plus(secret(variant, 4))}\n" in received
    assert f"Authorization: Bearer {secret(variant, 5)}" in received

    log = (out / "logs" / "newsmon.log").read_text(encoding="utf-8")
    texts = {
        **streams,
        **{
            str(p.relative_to(out)): p.read_bytes().decode("utf-8", "replace")
            for p in sorted(out.rglob("*"))
            if p.is_file()
        },
    }
    assert "state.sqlite" in texts and "alerts.jsonl" in texts and any(k.endswith("digest.html") for k in texts)
    for value in secrets:
        for form in encodings(value):
            leaks = [where for where, text in texts.items() if form in text]
            assert not leaks, f"secret {value!r} as {form!r} in {leaks}"
        raw = value.encode()
        binary = [str(p) for p in out.rglob("*") if p.is_file() and raw in p.read_bytes()]
        assert not binary, f"secret {value!r} in the bytes of {binary}"

    # Masked where it stood, ordinary words kept: the warning of each channel names it and its host.
    for name in urls:
        line = next(line for line in log.splitlines() if f"delivery to {name} (" in line)
        assert redact.MASK in line, line
    console = streams["run -vv stderr"]
    for word in (
        "user=bob",
        "to=desk@example.org",
        f"json://user:****@127.0.0.1:{http.port}/hook",
        "slack://newsbot@****/****/****/#news",
        f"ntfy://bob:****@127.0.0.1:{http.port}/alerts",
        "tgram://****/-100987654321",
    ):
        assert word in log and word in console, word
    assert '"POST /hook?token=**** HTTP/1.1" 500' in console  # urllib3's own request line, masked


def test_what_a_command_prints_and_the_traceback_of_an_unexpected_error_are_masked(tmp_path):
    """The streams of a command (crawler.cli.main runs it in redact.guarded_streams) mask a registered
    secret in a print and in the traceback Python prints when the command dies, in a real interpreter."""
    script = (
        "import sys\nfrom crawler.alerts import redact\n"
        "redact.protect('mailto://127.0.0.1:25?user=bob&pass=Tb5pw&to=desk@example.org')\n"
        "with redact.guarded_streams():\n"
        "    print('stdout: user=bob pass=Tb5pw')\n"
        "    print('stderr: Tb5pw', file=sys.stderr)\n"
        "    raise RuntimeError('login Tb5pw refused')\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "RuntimeError: login **** refused" in proc.stderr, proc.stderr
    assert proc.stdout == "stdout: user=bob pass=****\n" and "stderr: ****" in proc.stderr
    assert "Tb5pw" not in proc.stdout + proc.stderr


def test_a_url_without_secrets_masks_nothing(tmp_path):
    """A channel with nothing secret in its URL registers nothing (and masks no empty string between
    every two characters), in a fresh interpreter where it is the first URL protected."""
    script = (
        "from crawler.alerts import redact\nredact.protect('json://127.0.0.1:9/hook?format=text')\n"
        "print(redact.redact('hook: undelivered 3'), redact.display('json://127.0.0.1:9/hook?format=text'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.stdout == "hook: undelivered 3 json://127.0.0.1:9/hook?format=text\n", proc.stdout + proc.stderr
