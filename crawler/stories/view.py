"""Which of a day's items the digest shows in full, and which as one "also:" line under it. Pure functions.

Of the items of one story present that day, the first published is shown (a wire story before its
reprints); items without a publication time count from when they were fetched, and a tie goes to the
story's first item. Items of a story whose other members are on other days are shown as usual.
"""

from __future__ import annotations

from crawler.stories.index import epoch


def day_copies(items: list[dict]) -> dict[str, list[dict]]:
    """Shown item id → the other items of its story that day, in the same order."""
    by_story: dict[str, list[dict]] = {}
    for item in items:
        story = item.get("story")
        if isinstance(story, dict) and story.get("id") and (story.get("size") or 1) > 1:
            by_story.setdefault(str(story["id"]), []).append(item)
    out = {}
    for story_id, group in by_story.items():
        if len(group) > 1:
            group.sort(key=lambda item: _first_key(item, story_id))
            out[group[0]["id"]] = group[1:]
    return out


def _first_key(item: dict, story_id: str) -> tuple:
    published = item.get("published_at") or ""
    # a date alone says no hour (crawler/store/published.py: precision "date", or an item from before it)
    timed = "T" in published and item.get("published_precision") != "date"
    stamp = published if timed else item.get("fetched_at")
    return epoch(stamp, float("inf")), item.get("id") != story_id, item.get("id") or ""
