"""Offline: a run in which every host failed at the network level is the crawler's failure, not the sections'.

``verdict(crawl, sections)`` judges one run from its section reports (``ctx.crawl``): the run is offline when
it crawled at least one section and every section's entry point failed at the network level — DNS lookup
failed, connection refused, host or network unreachable, timeout — so no host of the run answered at all.
One host failing while another answers is that host's problem and counts against its own sections.

``step(state, run_id, at, verdict, hysteresis_runs)`` is the pure state machine of the ``connectivity`` row:
``crawler_offline`` fires once after ``hysteresis_runs`` consecutive offline runs, ``crawler_online`` at
the first run after it that reaches the network. While the crawler is offline the lifecycle stage leaves
every section's state, pending counters included, as they were (``crawler.lifecycle.stage``), and
``newsmon status`` says so in one line.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from dataclasses import asdict, dataclass, replace
from urllib.parse import urlsplit

from crawler.lifecycle.events import Event

# The words ``crawler.crawl.fetcherrors.describe`` gives a request that never reached a host; the errors
# it names by their class (``NoRouteError: …``, ``ConnectError: … Network is unreachable``) included.
NETWORK_FAILURES = (
    ("DNS lookup failed", re.compile(r"^DNS lookup failed|^(DNSLookupError|CannotResolveHostError)\b")),
    (
        "connection refused",
        re.compile(r"^connection refused|^(ConnectionRefusedError|DownloadConnectionRefusedError)\b"),
    ),
    (
        "unreachable",
        re.compile(r"^(NoRouteError|ConnectError|ConnectingCancelledError)\b|unreachable|no route to host", re.I),
    ),
    ("timeout", re.compile(r"^timeout\b|^(TimeoutError|TCPTimedOutError|DownloadTimeoutError)\b")),
)
# An entry error is "<url>: <what went wrong>" (``SectionSpider.entry_page_failed``).
_URL_PREFIX = re.compile(r"^[a-z][a-z0-9+.-]*://\S*?: ", re.I)


def network_failure(entry_error: str | None) -> str | None:
    """The kind of network-level failure ``entry_error`` describes ("DNS lookup failed", "connection
    refused", "unreachable", "timeout"), or None: no error, or an answer came back (HTTP 404, a malformed
    feed, robots.txt, an interrupted run…)."""
    if not entry_error:
        return None
    message = _URL_PREFIX.sub("", entry_error, count=1)
    return next((kind for kind, rx in NETWORK_FAILURES if rx.search(message)), None)


@dataclass(frozen=True)
class Verdict:
    """An offline run: how many sections and hosts it tried, and how they failed."""

    sections: int
    hosts: int
    kinds: dict[str, int]  # failure kind → sections

    @property
    def cause(self) -> str:
        kinds = ", ".join(f"{kind} ({n})" for kind, n in sorted(self.kinds.items(), key=lambda kv: -kv[1]))
        return (
            f"{self.sections} section{'s' if self.sections != 1 else ''} on {self.hosts} "
            f"host{'s' if self.hosts != 1 else ''}: {kinds}"
        )


def verdict(crawl: dict[str, dict], urls: dict[str, str]) -> Verdict | None:
    """The run's verdict from its section reports (``ctx.crawl``: key → ``SectionReport.as_dict()``), with
    ``urls`` (key → entry URL) naming the hosts: a ``Verdict`` when every section failed at the network
    level, else None (the run reached the network, or crawled nothing)."""
    if not crawl:
        return None
    kinds: Counter[str] = Counter()
    for report in crawl.values():
        kind = network_failure(report.get("entry_error"))
        if kind is None:
            return None
        kinds[kind] += 1
    hosts = {urlsplit(urls.get(key, "")).netloc.lower() or key for key in crawl}
    return Verdict(len(crawl), len(hosts), dict(kinds))


@dataclass(frozen=True)
class Connectivity:
    """The ``connectivity`` row: ``state`` online | offline (confirmed: ``crawler_offline`` fired); ``runs``
    consecutive offline runs up to ``last_run_id`` (0: the last run reached the network), the first of
    them ``first_run_id`` at ``since``; ``cause`` the last offline run's failures in words."""

    state: str = "online"
    runs: int = 0
    since: str | None = None
    first_run_id: int | None = None
    cause: str | None = None
    last_run_id: int | None = None

    @property
    def offline(self) -> bool:
        """The last run folded in was offline (confirmed or not yet)."""
        return self.runs > 0


def step(
    st: Connectivity, run_id: int, at: str, found: Verdict | None, hysteresis_runs: int
) -> tuple[Connectivity, list[Event]]:
    """Fold one run's verdict in; the new row and the events it causes."""
    if found is None:
        back = Connectivity(last_run_id=run_id)
        if st.state != "offline":
            return back, []
        cause = (
            f"a run reached the network again (offline since {st.since}, {st.runs} run{'s' if st.runs != 1 else ''})"
        )
        details = {
            "state": "online",
            "offline_since": st.since,
            "offline_runs": st.runs,
            "first_offline_run": st.first_run_id,
        }
        return back, [Event("crawler_online", None, at, run_id, cause, details)]
    runs = st.runs + 1
    since, first = (st.since, st.first_run_id) if st.runs else (at, run_id)
    new = replace(st, runs=runs, since=since, first_run_id=first, cause=found.cause, last_run_id=run_id)
    if st.state == "offline" or runs < hysteresis_runs:
        return new, []
    cause = (
        f"every host failed at the network level ({runs} consecutive run{'s' if runs != 1 else ''}, "
        f"since {since}): {found.cause}"
    )
    details = {
        "state": "offline",
        "since": since,
        "runs": runs,
        "first_offline_run": first,
        "sections": found.sections,
        "hosts": found.hosts,
        "failures": found.kinds,
    }
    return replace(new, state="offline"), [Event("crawler_offline", None, at, run_id, cause, details)]


def status_line(st: Connectivity) -> str:
    """The one line ``newsmon status`` gives an offline crawler."""
    return (
        f"crawler offline since {st.since} ({st.runs} run{'s' if st.runs != 1 else ''}): every host failed "
        f"at the network level ({st.cause})"
    )


# ---------------------------------------------------------------- the connectivity row
def load(conn: sqlite3.Connection) -> Connectivity:
    row = conn.execute("SELECT * FROM connectivity WHERE id = 1").fetchone()
    if row is None:
        return Connectivity()
    return Connectivity(**{k: row[k] for k in row.keys() if k != "id"})


def save(conn: sqlite3.Connection, st: Connectivity) -> None:
    values = asdict(st)
    cols = list(values)
    conn.execute(
        f"INSERT OR REPLACE INTO connectivity(id, {', '.join(cols)}) VALUES (1, {', '.join('?' * len(cols))})",
        [values[c] for c in cols],
    )
