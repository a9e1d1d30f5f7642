"""The one exception type users see: its message is printed as a single line."""


class SparkembedError(Exception):
    """A user-facing error (bad input, bad config, missing table); no traceback shown."""


class ConfigError(SparkembedError):
    """A config file or --set override names an unknown key or has a wrong type."""
