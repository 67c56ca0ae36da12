"""Is a section still about its subject? Pure functions: the share of a run's new items that mention it.

A section may name its ``subject`` (the phrase syntax of ``crawler.phrases``, docs/watch.md): the People's
Daily Russia section ["俄罗斯", "俄", "普京", "Russia*", "Росси*"]. When a site repoints the section's URL to a
generic feed,
links are found and articles extract fine, so neither the lifecycle (``machine.py``) nor extraction health
(``health.py``) sees anything wrong — but the section's items stop being about Russia. Per run: how many of the
section's new items mention the subject in their original or English title or text (``RunSubject``).
``judge`` calls a run off subject when that share is below ``subject_min_share`` over at least
``health_min_items`` items; ``step`` applies the lifecycle's hysteresis and says when to emit
``section_off_subject`` and ``section_on_subject``. A section without ``subject`` is never judged. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.lifecycle.events import Event
from crawler.lifecycle.judged import JudgedState, fold
from crawler.lifecycle.settings import DEFAULTS
from crawler.watch.matcher import CompiledWatch, Texts
from crawler.watch.settings import Watch

OFF, ON = "section_off_subject", "section_on_subject"
EXAMPLES = 2  # titles of off-subject items quoted in the cause
PHRASES_SHOWN = 3  # phrases named in the cause before "…"


@dataclass(frozen=True)
class SubjectSettings:
    """``[lifecycle]`` keys of the subject judgement; defaults: ``crawler.lifecycle.settings``."""

    hysteresis_runs: int = DEFAULTS["hysteresis_runs"]
    health_runs: int = DEFAULTS["health_runs"]  # the usual: the last on-subject runs that had items
    health_min_items: int = DEFAULTS["health_min_items"]  # a run with fewer new items is not judged
    # off subject below this share of new items mentioning the subject
    subject_min_share: float = DEFAULTS["subject_min_share"]


@dataclass(frozen=True)
class RunSubject:
    """How many of one run's new items in one section mention its subject (a ``section_subject`` row)."""

    section: str
    run_id: int
    at: str
    items: int = 0  # new items the run stored in the section
    on_subject: int = 0  # of which mention a subject phrase
    examples: tuple[str, ...] = ()  # titles of the first items that do not

    @property
    def share(self) -> float:
        return self.on_subject / self.items if self.items else 0.0


def matcher_of(phrases: tuple[str, ...]) -> CompiledWatch:
    return CompiledWatch(Watch("subject", tuple(phrases)))


def measure(section: str, run_id: int, at: str, items: list[dict], phrases: tuple[str, ...]) -> RunSubject:
    """``items``: the run's new items of the section (``title``, ``text``, ``title_en``, ``text_en``), oldest
    first; an item is on subject when any phrase occurs in any of those fields, as a watch hit would."""
    matcher = matcher_of(phrases)
    off = [item for item in items if matcher.match(Texts(item)) is None]
    return RunSubject(
        section,
        run_id,
        at,
        items=len(items),
        on_subject=len(items) - len(off),
        examples=tuple(title_of(item) for item in off[:EXAMPLES]),
    )


def title_of(item: dict) -> str:
    """The original title, with its English translation when there is one: what an editor recognises."""
    title = (item.get("title") or "").strip() or "(no title)"
    english = (item.get("title_en") or "").strip()
    return f"'{title}' ({english})" if english and english != title else f"'{title}'"


@dataclass(frozen=True)
class Usual:
    runs: int
    on_subject: int
    items: int


def usual_of(history: list[RunSubject]) -> Usual | None:
    """The section's past on-subject runs that had items, summed (newest first); None without any."""
    runs = [r for r in history if r.items]
    if not runs:
        return None
    return Usual(len(runs), sum(r.on_subject for r in runs), sum(r.items for r in runs))


@dataclass(frozen=True)
class Verdict:
    state: str | None  # on | off | None (not judged)
    cause: str


def judge(run: RunSubject, history: list[RunSubject], phrases: tuple[str, ...], cfg: SubjectSettings) -> Verdict:
    """This run's share of on-subject items against ``subject_min_share``, in words. The threshold is
    absolute: a section's subject list is a promise of what it is about, history only explains."""
    if run.items < cfg.health_min_items:
        return Verdict(None, f"{run.items} new item(s), fewer than health_min_items = {cfg.health_min_items}")
    said = f"{run.on_subject} of {run.items} new items mention the section's subject ({phrases_in_words(phrases)})"
    usual = usual_of(history)
    if usual is not None:
        over = f" over the last {usual.runs} runs" if usual.runs > 1 else ""
        said += f"; usually {usual.on_subject} of {usual.items}{over}"
    if run.share < cfg.subject_min_share:
        return Verdict("off", f"{said} — e.g. {', '.join(run.examples)}" if run.examples else said)
    return Verdict("on", said)


def phrases_in_words(phrases: tuple[str, ...]) -> str:
    shown = ", ".join(phrases[:PHRASES_SHOWN])
    return shown + (", …" if len(phrases) > PHRASES_SHOWN else "")


# ---------------------------------------------------------------- state and hysteresis
@dataclass(frozen=True)
class SubjectState(JudgedState):
    """A section's subject state (a ``subject_states`` row): on | off."""

    state: str = "on"


def step(
    st: SubjectState, run: RunSubject, verdict: Verdict, phrases: tuple[str, ...], cfg: SubjectSettings
) -> tuple[SubjectState, list[Event]]:
    """Fold one run's verdict into the state (``judged.fold``: off subject takes ``hysteresis_runs`` judged
    runs in a row, back on subject takes one)."""
    st, turn = fold(
        st,
        run.run_id,
        run.at,
        verdict.state,
        verdict.cause,
        good="on",
        runs_needed=cfg.hysteresis_runs,
        bad_words="off subject",
    )
    if turn is None:
        return st, []
    return st, [_event(ON if turn.to == "on" else OFF, run, turn.cause, turn.details, verdict, phrases)]


def _event(kind: str, run: RunSubject, cause: str, details: dict, verdict: Verdict, phrases: tuple[str, ...]) -> Event:
    # The figures under their own key: "items" in details means a list of items to every other reader.
    measured = {"items": run.items, "on_subject": run.on_subject, "share": round(run.share, 3)}
    details = {
        **details,
        "measured": measured,
        "subject": list(phrases),
        "examples": list(run.examples),
        "observed": verdict.cause,
    }
    return Event(type=kind, section=run.section, at=run.at, run_id=run.run_id, cause=cause, details=details)
