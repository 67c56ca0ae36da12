"""Analysis: per-item flags (held datelines, items off their section's subject), phrase trends, the week's brief."""
