"""The one error the staging package raises for bad input."""

from __future__ import annotations


class StagingError(ValueError):
    """A value that cannot be read as what its field needs.

    ``field`` is the input name (``"t"``, ``"her2"``, ...), ``value`` what was given, and
    the message names both, so a batch report can point at the exact cell.
    """

    def __init__(self, field: str, value: object, message: str) -> None:
        self.field = field
        self.value = value
        self.reason = message
        super().__init__(f"{field}: {value!r} {message}")

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form: which field, the bad value as text, and why."""
        return {"field": self.field, "value": str(self.value), "message": str(self)}
