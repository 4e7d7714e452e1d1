"""The converter's one error type: a source that cannot be converted, saying why."""


class ConvertError(ValueError):
    """The source cannot be converted; the message says why, naming the key or node."""
