"""newsmon quotes PHRASE… [--speaker NAME] [--since DATE] [--json]"""

from __future__ import annotations

import argparse
import json

from crawler.commands._options import add_config, add_day, add_output, load

HELP = "transcript turns where phrases occur, with the question each answers, original and English"
QUESTION_CHARS = 400  # a long question is shown by its end (where the question is)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Examples:\n"
        '  newsmon quotes "Chinese cars" --speaker "Vladimir Putin"\n'
        "  newsmon quotes Путин* --since 2026-09-01\n"
        '  newsmon quotes 习近平 "Xi Jinping" --speaker Putin --json\n\n'
        "Phrases are written as watch phrases (docs/watch.md): any one of them makes a quote; a\n"
        'trailing * matches any word ending. Speakers are named as in docs/analysis.md, "Speakers\n'
        'and quotes": "Putin", "Путин" and "Vladimir Putin" are one speaker.\n'
        "Exit status: 0 with quotes, 1 without (as grep), 2 on an error."
    )
    parser.add_argument("phrases", metavar="PHRASE", nargs="+", help="a phrase to look for (any one matches)")
    parser.add_argument("--speaker", metavar="NAME", action="append", help="only turns of this speaker (repeatable)")
    add_day(parser, "--since", "only transcripts dated on or after this day")
    parser.add_argument("--json", action="store_true", help="one JSON object per quote, for scripts")
    add_config(parser)
    add_output(parser)


def run(args: argparse.Namespace) -> int:
    from crawler import state
    from crawler.exceptions import NewsmonError
    from crawler.phrases import PhraseError, parse

    for phrase in args.phrases:
        try:
            parse(phrase)
        except PhraseError as exc:
            raise NewsmonError(f"phrase {exc}") from None
    config = load(args)
    if not state.exists(config.output_dir):
        print("no quotes (nothing stored yet)")
        return 1
    conn = state.connect(config.output_dir)
    try:
        found = find(conn, args.phrases, args.speaker or [], args.since)
    finally:
        conn.close()
    for quote in found:
        print(json.dumps(quote_json(quote), ensure_ascii=False) if args.json else describe(quote))
    if not args.json:
        print(f"{len(found)} quote{'s' if len(found) != 1 else ''}")
    return 0 if found else 1


def find(conn, phrases: list[str], speakers: list[str], since: str | None) -> list:
    """The quotes of every stored transcript dated ``since`` or later, oldest transcript first."""
    from crawler.extract.quotes import item_day, quotes_in
    from crawler.store import items as item_store

    found = []
    # Only transcripts have turns: the LIKE spares parsing every other item's JSON.
    rows = conn.execute(f"""SELECT json FROM items WHERE {item_store.sql_json()} LIKE '%"turns":%' ORDER BY seq""")
    for (raw,) in rows:
        item = item_store.loads(raw)
        if item is None:
            continue  # a damaged row: `newsmon verify` names it
        if since and item_day(item) < since:
            continue
        found += quotes_in(item, phrases, speakers)
    found.sort(key=lambda q: q.day)  # stable: a transcript's quotes stay in speaking order
    return found


def quote_json(quote) -> dict:
    from crawler.items import english_title

    item, turn, question = quote.item, quote.turn, quote.question
    return {
        "day": quote.day,
        "id": item.get("id"),
        "section": item.get("section_key"),
        "url": item.get("url"),
        "title": item.get("title"),
        "title_en": english_title(item),
        "lang": item.get("lang"),
        "phrases": list(quote.phrases),
        "in": list(quote.fields),
        "turn": turn.index,
        "speaker": turn.speaker,
        "speaker_label": turn.label,
        "text": turn.text,
        "text_en": turn.text_en,
        "question": None
        if question is None
        else {
            "turn": question.index,
            "speaker": question.speaker,
            "speaker_label": question.label,
            "text": question.text,
            "text_en": question.text_en,
        },
    }


def describe(quote) -> str:
    """The transcript, then the question (its end) and the answer's matching paragraphs, each original then
    English (one line only on an English page)."""
    from crawler.items import english_title

    item, turn, question = quote.item, quote.turn, quote.question
    lang = (item.get("lang") or "?").upper()
    lines = [
        f"{quote.day}  {item.get('section_key') or '?'}  {turn.speaker}  "
        f"{', '.join(repr(p) for p in quote.phrases)} in {', '.join(quote.fields)}",
        f"  {item.get('title') or '(untitled)'}",
    ]
    if lang != "EN" and english_title(item):
        lines.append(f"  {english_title(item)}")
    lines.append(f"  {item.get('url')}  #{(item.get('id') or '')[:8]}")
    if question is not None:
        lines.append(f"  Q {who(question)}:")
        last = len(question.paragraphs) - 1
        lines += said(lang, question, [last], tail=True)
    lines.append(f"  A {who(turn)}:")
    lines += said(lang, turn, quote.matching_paragraphs())
    return "\n".join(lines)


def who(turn) -> str:
    return turn.speaker if turn.label == turn.speaker else f"{turn.speaker} [{turn.label}]"


def said(lang: str, turn, shown: list[int], tail: bool = False) -> list[str]:
    """The turn's paragraphs at ``shown``, each in the original then in English (an English page: once),
    with "[…]" where paragraphs are left out; ``tail``: a long paragraph shown by its end."""
    cut = _tail if tail else (lambda text: text)
    english = turn.paragraphs_en
    lines, last = [], -1
    for i in shown:
        if i != last + 1:
            lines.append("    […]")
        lines.append(f"    {lang}: {cut(turn.paragraphs[i])}")
        if lang != "EN":
            lines.append(f"    EN: {cut(english[i])}" if i < len(english) else "    EN: (translation pending)")
        last = i
    if last < len(turn.paragraphs) - 1:
        lines.append("    […]")
    return lines


def _tail(text: str) -> str:
    return text if len(text) <= QUESTION_CHARS else "…" + text[-(QUESTION_CHARS - 1) :].lstrip()
