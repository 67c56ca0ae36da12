"""Extraction health of a section, as pure functions: is what this run extracted like what it usually does?

The section lifecycle (``machine.py``) watches the listing; this watches the article pages behind it. A
template change there does not stop the crawl: links are found, pages fetched, and extraction yields the
copyright line, forty characters, no date, or a bot wall — items land looking fine. Per run and section:
items stored, their median text length, how many carry a publication date, how many are very short, and
how many fetched pages yielded no article at all (``RunHealth``). ``judge`` compares a run with the
section's own usual (``Usual``: its last ``health_runs`` runs that had items and were not judged degraded);
``step`` applies the lifecycle's hysteresis and says when to emit ``section_extraction_degraded`` and
``section_extraction_recovered``. No history yet, or too few pages in the run: no judgement. No I/O here.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from crawler.lifecycle.events import Event
from crawler.lifecycle.judged import JudgedState, fold
from crawler.lifecycle.settings import DEFAULTS

DEGRADED, RECOVERED = "section_extraction_degraded", "section_extraction_recovered"
# Dates: a section whose items usually carry one (this share or more) and now mostly do not (this share or
# less) lost its date to a template change; shares in between are a site's normal untidiness.
DATES_USUAL, DATES_LOST = 0.8, 0.2


@dataclass(frozen=True)
class HealthSettings:
    """``[lifecycle]`` keys of extraction health; defaults: ``crawler.lifecycle.settings``."""

    hysteresis_runs: int = DEFAULTS["hysteresis_runs"]
    # the usual: the section's last runs that had items, at most this many
    health_runs: int = DEFAULTS["health_runs"]
    # a run with fewer fetched pages (or items, for text and dates) is not judged
    health_min_items: int = DEFAULTS["health_min_items"]
    # degraded below this share of the usual median text length
    health_text_ratio: float = DEFAULTS["health_text_ratio"]
    # degraded when more than this share of fetched pages yield no article
    health_failed_share: float = DEFAULTS["health_failed_share"]
    # a text shorter than this counts as very short (reported, not judged)
    short_text_chars: int = DEFAULTS["short_text_chars"]


@dataclass(frozen=True)
class RunHealth:
    """What one run extracted in one section (a ``section_health`` row)."""

    section: str
    run_id: int
    at: str
    items: int = 0  # items the run stored
    median_chars: int | None = None  # their median text length, in characters
    dated: int = 0  # of which with a publication date
    short: int = 0  # of which shorter than short_text_chars
    pages: int = 0  # article pages that answered (extracted, or not)
    failed: int = 0  # of which no article could be extracted from
    failure: str | None = None  # the first of those failures, in words

    @property
    def date_share(self) -> float:
        return self.dated / self.items if self.items else 0.0


def measure(
    section: str,
    run_id: int,
    at: str,
    items: list[tuple[int, bool]],
    pages: int,
    failed: int,
    failure: str | None,
    cfg: HealthSettings,
) -> RunHealth:
    """``items``: (text length, has a date) of every item the run stored in the section; ``pages``: the article
    pages that answered (the crawl report's, or none known: a stage run without it still counts the items)."""
    lengths = [n for n, _dated in items]
    return RunHealth(
        section,
        run_id,
        at,
        items=len(items),
        median_chars=round(statistics.median(lengths)) if lengths else None,
        dated=sum(1 for _n, dated in items if dated),
        short=sum(1 for n in lengths if n < cfg.short_text_chars),
        pages=max(pages, len(items) + failed),
        failed=failed,
        failure=failure,
    )


@dataclass(frozen=True)
class Usual:
    runs: int
    median_chars: int
    dated: int
    items: int

    @property
    def date_share(self) -> float:
        return self.dated / self.items if self.items else 0.0


def usual_of(history: list[RunHealth]) -> Usual | None:
    """The section's usual from its past healthy runs that had items (newest first); None without any."""
    runs = [r for r in history if r.items and r.median_chars is not None]
    if not runs:
        return None
    return Usual(
        len(runs),
        round(statistics.median(r.median_chars for r in runs)),
        sum(r.dated for r in runs),
        sum(r.items for r in runs),
    )


@dataclass(frozen=True)
class Verdict:
    state: str | None  # ok | degraded | None (not judged)
    cause: str


def judge(run: RunHealth, history: list[RunHealth], cfg: HealthSettings) -> Verdict:
    """This run against the section's usual, in words."""
    usual = usual_of(history)
    if usual is None:
        return Verdict(None, "no history yet: no run with items to compare with")
    if run.pages < cfg.health_min_items:
        return Verdict(
            None, f"{run.pages} article page(s) fetched, fewer than health_min_items = {cfg.health_min_items}"
        )
    problems = []
    if run.failed > cfg.health_failed_share * run.pages:
        problems.append(_failures(run))
    if run.items >= cfg.health_min_items:
        if run.median_chars < cfg.health_text_ratio * usual.median_chars:
            problems.append(f"median text {run.median_chars:,} characters (usual {usual.median_chars:,})")
        if usual.date_share >= DATES_USUAL and run.date_share <= DATES_LOST:
            problems.append(f"dates on {run.dated} of {run.items} items ({_usual_dates(usual)})")
    elif not problems:
        return Verdict(None, f"{run.items} item(s), fewer than health_min_items = {cfg.health_min_items}")
    if problems:
        return Verdict("degraded", "; ".join(problems))
    return Verdict(
        "ok",
        f"median text {run.median_chars:,} characters (usual {usual.median_chars:,}); dates on "
        f"{run.dated} of {run.items} items ({_usual_dates(usual)}); {run.failed} of "
        f"{run.pages} pages without an article",
    )


def _failures(run: RunHealth) -> str:
    first = f"; first: {run.failure}" if run.failure else ""
    return f"{run.failed} of {run.pages} fetched pages yielded no article{first}"


def _usual_dates(usual: Usual) -> str:
    over = f" over the last {usual.runs} runs" if usual.runs > 1 else ""
    return f"usual {usual.dated} of {usual.items}{over}"


# ---------------------------------------------------------------- state and hysteresis
@dataclass(frozen=True)
class HealthState(JudgedState):
    """A section's extraction state (an ``extraction_states`` row): ok | degraded."""

    state: str = "ok"


def step(st: HealthState, run: RunHealth, verdict: Verdict, cfg: HealthSettings) -> tuple[HealthState, list[Event]]:
    """Fold one run's verdict into the state (``judged.fold``: degraded takes ``hysteresis_runs`` judged runs
    in a row, ok takes one)."""
    st, turn = fold(
        st,
        run.run_id,
        run.at,
        verdict.state,
        verdict.cause,
        good="ok",
        runs_needed=cfg.hysteresis_runs,
        bad_words="extraction degraded",
    )
    if turn is None:
        return st, []
    return st, [_event(RECOVERED if turn.to == "ok" else DEGRADED, run, turn.cause, turn.details, verdict)]


def _event(kind: str, run: RunHealth, cause: str, details: dict, verdict: Verdict) -> Event:
    # The figures under their own key: "items" in details means a list of items to every other reader.
    measured = {
        "items": run.items,
        "median_chars": run.median_chars,
        "dated": run.dated,
        "short": run.short,
        "pages": run.pages,
        "failed": run.failed,
    }
    details = {**details, "measured": measured, "observed": verdict.cause}
    return Event(type=kind, section=run.section, at=run.at, run_id=run.run_id, cause=cause, details=details)
