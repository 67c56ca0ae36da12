"""Story grouping: LSH candidate lookup in the state DB against brute-force pairwise comparison, side by side.

    .venv/bin/python benchmarks/bench_stories.py [--items 20000] [--copies 0.08] [--cross 0.02] [--seed 7]
                                                 [--same-language-only] [--new 1000 [--rounds 3]]

Builds N synthetic items from the recorded pages' sentences (the real extractor's paragraphs of the eleven
Kremlin articles, four People's Daily / Xinhua pages and the Kommersant page, split into sentences, each
sentence's words reshuffled): a third each English, Chinese and Russian, 6–20 sentences in 3–6 paragraphs;
Chinese and Russian items carry English sentences, reshuffled too, as their "translation". ``--copies`` of
them are syndicated copies of an earlier item of their language (own dateline and footer, two words of a
paragraph changed); ``--cross`` are Chinese/Russian items whose English is an earlier English item's text
with a sixth of its words dropped and some neighbours swapped (a paraphrasing translation). All fall in one
look-back window, the worst case for both methods.

  fingerprint  ``index.entries_of`` for every item, in the stage's batches (both methods need it): items/s;
  LSH          ``StoryIndex.add_many`` in item order on a fresh state DB, in the stage's batches of
               ``stage.BATCH`` items, one transaction each: insert the bands, look up the candidates,
               confirm them, join stories (the stage's code path): items/s;
  brute force  every item against every earlier one with the same test (estimated Jaccard of the
               signatures, in memory, numpy-vectorised: the fastest brute force there is, no DB reads): items/s.

Prints both rates and their ratio, the pairs each found, and the LSH's recall and precision against the
brute force at the configured thresholds (same-language and cross-language pairs apart), plus how many
planted copies were found. ``--same-language-only`` drops the English fingerprints (the scheme that makes
most candidates: its 2-row bands are what finds translations at Jaccard 0.1).

``--new N`` measures the stage instead: the ``--items`` items stored through the item store (day files
exported) and grouped by ``update_stories`` once, then N more of the same kind stored and the stage timed on
them (default settings: a 3-day window, which holds every item). Each round starts from a copy of the
grouped archive; prints the wall seconds (min/median/max over ``--rounds``), the seconds per 1,000 new items
and the process's CPU seconds.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler import state  # noqa: E402
from crawler.extract.extraction import extract_article  # noqa: E402
from crawler.store import dayfiles  # noqa: E402
from crawler.store import items as item_store
from crawler.stories import fingerprint as fp  # noqa: E402
from crawler.stories import index as story_index
from crawler.stories.index import StoryIndex, StorySettings  # noqa: E402
from crawler.stories.stage import BATCH, update_stories  # noqa: E402
from tests import digestkit  # noqa: E402
from tests.recorded import recorded  # noqa: E402

PAGES = {
    **{
        f"kremlin-en/news-{n}.html": (f"http://en.kremlin.ru/events/president/news/{n}", "en")
        for n in (11287, 17109, 34018, 52988, 56514, 57246, 62299, 62861, 63440, 63953, 8043)
    },
    "peoples-daily/politics-2024-0424-c1001-40223222.html": ("http://politics.people.com.cn/n1/x.html", "zh"),
    "peoples-daily/culture-2019-0615-c1013-31153719.html": ("http://culture.people.com.cn/n1/y.html", "zh"),
    "xinhua/local-2020-02-19-c_1125597921.html": ("http://www.xinhuanet.com/local/z.htm", "zh"),
    "xinhua/world-2019-12-10-c_1125327450.html": ("http://www.xinhuanet.com/world/w.htm", "zh"),
    "kommersant/doc-7715044.html": ("https://www.kommersant.ru/doc/7715044", "ru"),
}
SENTENCE_END = {
    "zh": re.compile(r"(?<=[。！？])"),
    "en": re.compile(r"(?<=[.!?])\s+"),
    "ru": re.compile(r"(?<=[.!?])\s+"),
}
DATELINE = {"en": "MOSCOW, November 28. /TASS/. ", "zh": "本报北京11月28日电 ", "ru": "МОСКВА, 28 ноября. /ТАСС/. "}
FOOTER = {
    "en": "All rights reserved. Follow us on Telegram.",
    "zh": "（责编：王某、李某）人民网版权所有",
    "ru": "Все права защищены. Подписывайтесь на наш канал.",
}
START = 1_795_000_000  # Unix seconds of the first item; items are a second apart


def sentence_pools() -> dict[str, list[str]]:
    pools: dict[str, list[str]] = {"en": [], "zh": [], "ru": []}
    for name, (url, lang) in PAGES.items():
        html = recorded(name).read_bytes().decode("utf-8", errors="replace")
        for paragraph in extract_article(html, url).paragraphs:
            pools[lang] += [s.strip() for s in SENTENCE_END[lang].split(paragraph) if len(s.strip()) > 8]
    return pools


def shuffled(sentence: str, rng: random.Random) -> str:
    """The sentence's words (Chinese: 2-character pieces) in a random order: the recorded pages' vocabulary,
    but no longer their n-grams, so that two synthetic items share text only where one copies the other
    (drawn as they are, items from one small pool of sentences would overlap by whole sentences)."""
    cjk = bool(re.search(r"[\u4e00-\u9fff]", sentence))
    pieces = [sentence[i : i + 2] for i in range(0, len(sentence), 2)] if cjk else sentence.split()
    rng.shuffle(pieces)
    return ("" if cjk else " ").join(pieces)


def paragraphs_of(sentences: list[str], rng: random.Random) -> list[str]:
    cuts = sorted(rng.sample(range(1, len(sentences)), k=min(len(sentences) - 1, rng.randint(2, 5))))
    bounds = [0, *cuts, len(sentences)]
    joiner = {True: "", False: " "}[bool(re.search(r"[\u4e00-\u9fff]", sentences[0]))]
    return [joiner.join(sentences[a:b]) for a, b in zip(bounds, bounds[1:])]


def reword(text: str, lang: str, rng: random.Random) -> str:
    if lang == "zh":
        at = rng.randrange(max(1, len(text) - 4))
        return text[:at] + "有关方面" + text[at + 2 :]
    words = text.split()
    for _ in range(2):
        words[rng.randrange(len(words))] = rng.choice(["reportedly", "также", "officials", "вновь"])
    return " ".join(words)


def paraphrase(text: str, rng: random.Random) -> str:
    """A sixth of the words dropped, one neighbour pair in ten swapped."""
    words = [w for w in text.split() if rng.random() > 1 / 6]
    for i in range(0, len(words) - 1, 10):
        if rng.random() < 0.5:
            words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def make_items(
    n: int, copies: float, cross: float, rng: random.Random, before: list[dict] = ()
) -> tuple[list[dict], set[tuple[int, int]]]:
    """``n`` items (numbered after the ``before`` items, which they may copy): items, planted (copied, copy)."""
    pools = sentence_pools()
    langs = ["en", "zh", "ru"]
    items: list[dict] = list(before)
    planted: set[tuple[int, int]] = set()
    by_lang: dict[str, list[int]] = {lang: [] for lang in langs}
    for i, item in enumerate(items):
        by_lang[item["lang"]].append(i)
    for i in range(len(items), len(items) + n):
        lang = langs[i % 3]
        roll = rng.random()
        earlier = by_lang[lang][-1000:]
        if roll < copies and earlier:  # a syndicated copy in the same language
            j = rng.choice(earlier)
            paragraphs = list(items[j]["paragraphs"])
            paragraphs[0] = DATELINE[lang] + paragraphs[0]
            k = rng.randrange(len(paragraphs))
            paragraphs[k] = reword(paragraphs[k], lang, rng)
            paragraphs.append(FOOTER[lang])
            planted.add((j, i))
        else:
            sentences = [shuffled(x, rng) for x in rng.sample(pools[lang], k=rng.randint(6, 20))]
            paragraphs = paragraphs_of(sentences, rng)
        item = digestkit.base_item(
            f"src{i % 7}", "news", f"https://example.org/{i}", lang, f"item {i}", paragraphs, None
        )
        item["fetched_at"] = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(START + i))
        if lang != "en":
            english_items = by_lang["en"][-1000:]
            if roll > 1 - cross and english_items:  # its translation paraphrases an English item
                j = rng.choice(english_items)
                english = paraphrase(items[j]["text"], rng)
                planted.add((j, i))
            else:
                english = " ".join(shuffled(x, rng) for x in rng.sample(pools["en"], k=rng.randint(6, 20)))
            digestkit.translate(item, f"item {i}", [english])
        items.append(item)
        by_lang[lang].append(i)
    return items[len(before) :], planted


def stage_cost(archive: list[dict], new: list[dict], rounds: int) -> None:
    """``update_stories`` on ``new`` items stored in an archive of ``archive`` items, already grouped."""
    now = START + len(archive) + len(new)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "archive"
        with closing(state.connect(base)) as conn:
            with state.transaction(conn):
                for item in archive:
                    item_store.insert(conn, item, digestkit.DAY)
            started = time.perf_counter()
            update_stories(conn, base, StorySettings(), now=now)
            catch_up = time.perf_counter() - started
            dayfiles.export_changed(conn, base)
        times, cpu, summary = [], [], {}
        for _ in range(rounds):
            out = Path(tmp) / "run"
            shutil.rmtree(out, ignore_errors=True)
            shutil.copytree(base, out)
            with closing(state.connect(out)) as conn:
                with state.transaction(conn):
                    for item in new:
                        item_store.insert(conn, item, digestkit.DAY)
                started, started_cpu = time.perf_counter(), time.process_time()
                summary = update_stories(conn, out, StorySettings(), now=now)
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
    print(
        f"archive of {len(archive)} items grouped in {catch_up:.1f} s; stage on {len(new)} new items "
        f"({summary['items']} fingerprinted, {summary['copies']} with a copy, {summary['synced']} story fields "
        f"written): wall min {min(times):.2f} s, median {statistics.median(times):.2f} s, max {max(times):.2f} s "
        f"= {statistics.median(times) / len(new) * 1000:.2f} s per 1,000 new items; CPU median "
        f"{statistics.median(cpu):.2f} s (on a shared machine the wall time is mostly waiting for a core)"
    )


class Clock:
    """Wall and CPU seconds since it was made: on a shared machine the wall time includes waiting for a core,
    and the load can change between the methods; the process's CPU time does not depend on it."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def elapsed(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def lsh_run(entries, settings: StorySettings, out: Path) -> tuple[tuple[float, float], set[tuple[int, int]], float]:
    position = {e.item_id: n for n, e in enumerate(entries)}
    pairs: set[tuple[int, int]] = set()
    candidates: list[int] = []
    with closing(state.connect(out)) as conn:
        index = StoryIndex(conn, settings)
        started = Clock()
        for first in range(0, len(entries), BATCH):  # as the stage does: one transaction per batch
            with state.transaction(conn):
                results = index.add_many(entries[first : first + BATCH])
            for n, (_story, copies) in enumerate(results, first):
                pairs |= {(position[c], n) for c in copies}
        seconds = started.elapsed()
        sample = entries[:: max(1, len(entries) // 500)]  # candidates against the whole index, untimed
        candidates = index.candidate_counts(sample)
    return seconds, pairs, sum(candidates) / len(candidates)


def brute_force(entries, settings: StorySettings) -> tuple[tuple[float, float], set[tuple[int, int]]]:
    n = len(entries)
    original = np.zeros((n, fp.ORIGINAL.size), dtype=np.uint32)
    english = np.zeros((n, fp.ENGLISH.size), dtype=np.uint32)
    has_original = np.array([e.signature is not None for e in entries])
    has_english = np.array([e.signature_en is not None for e in entries])
    langs = np.array([e.lang for e in entries])
    pairs: set[tuple[int, int]] = set()
    started = Clock()
    for i, e in enumerate(entries):
        if e.signature is not None:
            original[i] = e.signature
            same = (langs[:i] == e.lang) & has_original[:i]
            rows = np.nonzero(same)[0]
            hits = rows[(original[rows] == e.signature).mean(axis=1) >= settings.threshold]
            pairs |= {(int(j), i) for j in hits}
        if e.signature_en is not None:
            english[i] = e.signature_en
            other = (langs[:i] != e.lang) & has_english[:i]
            rows = np.nonzero(other)[0]
            hits = rows[(english[rows] == e.signature_en).mean(axis=1) >= settings.cross_threshold]
            pairs |= {(int(j), i) for j in hits}
    return started.elapsed(), pairs


def rates(n: int, seconds: tuple[float, float]) -> str:
    return f"{n / seconds[0]:10.1f} {n / seconds[1]:10.1f}"


def share(part: set, whole: set) -> str:
    return f"{len(part & whole) / len(whole):.4f}" if whole else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--copies", type=float, default=0.08, help="share of same-language syndicated copies")
    parser.add_argument("--cross", type=float, default=0.02, help="share of cross-language (translated) copies")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--same-language-only",
        action="store_true",
        help="no English fingerprints: the original-text scheme alone (42 bands of 3)",
    )
    parser.add_argument("--new", type=int, default=0, help="time the stage on this many new items instead")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --new")
    args = parser.parse_args()
    settings = StorySettings(window_days=365)
    rng = random.Random(args.seed)
    items, planted = make_items(args.items, args.copies, args.cross, rng)
    if args.new:
        stage_cost(items, make_items(args.new, args.copies, args.cross, rng, before=items)[0], args.rounds)
        return
    started = Clock()
    entries = []
    for first in range(0, len(items), BATCH):
        entries += story_index.entries_of([(digestkit.DAY, item) for item in items[first : first + BATCH]], START)[0]
    fingerprinting = started.elapsed()
    if args.same_language_only:
        for entry in entries:
            entry.signature_en = None
        story_index.with_keys(entries)
        planted = {(a, b) for a, b in planted if entries[a].lang == entries[b].lang}
    with tempfile.TemporaryDirectory() as tmp:
        lsh_seconds, lsh_pairs, candidates = lsh_run(entries, settings, Path(tmp))
        db_mb = state.db_path(tmp).stat().st_size / 1e6
    brute_seconds, brute_pairs = brute_force(entries, settings)
    lang = {n: e.lang for n, e in enumerate(entries)}
    same = {p for p in brute_pairs if lang[p[0]] == lang[p[1]]}
    n = len(entries)
    print(
        f"{n} items ({sum(e.lang == 'zh' for e in entries)} zh, {sum(e.lang == 'ru' for e in entries)} ru, "
        f"{sum(e.lang == 'en' for e in entries)} en); {len(planted)} planted copies; thresholds "
        f"{settings.threshold} (same language) / {settings.cross_threshold} (across, through English)"
    )
    print(f"{'':28}{'wall':>10} {'CPU':>10}")
    print(f"fingerprint (both methods): {rates(n, fingerprinting)} items/s")
    print(
        f"LSH index lookup + confirm: {rates(n, lsh_seconds)} items/s ({lsh_seconds[0]:.1f} s; state DB "
        f"{db_mb:.0f} MB; an item has {candidates:.1f} candidates among all {n})"
    )
    print(f"brute force, numpy:         {rates(n, brute_seconds)} items/s ({brute_seconds[0]:.1f} s)")
    print(
        f"ratio LSH / brute force:    {brute_seconds[0] / lsh_seconds[0]:9.2f}x "
        f"{brute_seconds[1] / lsh_seconds[1]:9.2f}x"
    )
    print(f"pairs: brute force {len(brute_pairs)} ({len(same)} same-language), LSH {len(lsh_pairs)}")
    print(
        f"LSH recall {share(lsh_pairs, brute_pairs)} (same-language {share(lsh_pairs, same)}, "
        f"cross-language {share(lsh_pairs, brute_pairs - same)}), precision {share(brute_pairs, lsh_pairs)}"
    )
    print(f"planted copies found: LSH {share(lsh_pairs, planted)}, brute force {share(brute_pairs, planted)}")


if __name__ == "__main__":
    main()
