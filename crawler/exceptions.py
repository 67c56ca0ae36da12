"""Project errors. The CLI turns each into one clear line (never a traceback)."""


class NewsmonError(Exception):
    """Base of every error newsmon reports to the user."""


class ConfigError(NewsmonError):
    """A sources/config file is malformed; the message names the file, line and key."""


class ExtractionError(NewsmonError):
    """A page was fetched but no article could be extracted from it."""


class ModelMissing(NewsmonError):
    """No translation model is installed for a language pair."""


class LockHeld(NewsmonError):
    """Another newsmon cycle holds the run lock."""
