"""Section lifecycle (snapshots → states → events) and article re-checks (edits, deletions)."""
