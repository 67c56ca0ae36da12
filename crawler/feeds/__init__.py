"""Atom feeds of the events: output/feeds/alerts.atom, edits.atom and one watch-<name>.atom per watch."""
