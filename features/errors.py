"""The one error type for bad input: a file (or array) the toolkit cannot use, and why."""


class InputError(ValueError):
    """Raised for a user's input that cannot be processed.

    ``str(error)`` is the one line a user sees: ``"PATH: reason"``.
    """

    def __init__(self, path, reason: str):
        self.path = None if path is None else str(path)
        self.reason = reason
        super().__init__(reason if path is None else f"{path}: {reason}")
