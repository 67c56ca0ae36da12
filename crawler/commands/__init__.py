"""One module per CLI command (see crawler/cli.py for the contract)."""
