"""Watch phrases: ``[[watch]]`` entries matched in every item's original and English text (issue: watchlist)."""
