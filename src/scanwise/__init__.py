"""scanwise: evidence-based imaging guidance in cancer care."""

__version__ = "0.1.0"
