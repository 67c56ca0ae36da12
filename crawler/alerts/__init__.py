"""Events → output/alerts.jsonl and Apprise channels, with retry; reading them back."""
