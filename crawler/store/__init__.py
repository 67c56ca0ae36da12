"""The state DB's core: the item store and its change feed (items.py), the day files as an export of it
(dayfiles.py), schema migrations (migrate.py), consistency checks and imports (verify.py, importer.py)."""
