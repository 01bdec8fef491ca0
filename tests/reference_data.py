"""Where the tests find the project's shared reference data, and what they say without it.

The data (ACR tables as published, guideline statements, the TCGA-BRCA pathology reports,
example texts) is not in this repository: it sits beside the checkout in
``../shared/reference``, or wherever ``SCANWISE_REFERENCE`` points. Tests that need it are
skipped without it, with the reason below, and the test summary says how to run them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[1]
REFERENCE = Path(os.environ.get("SCANWISE_REFERENCE") or CHECKOUT.parent / "shared" / "reference")
REASON = (f"needs the shared reference data in {REFERENCE} (acr_breast.json, tcga_brca/reports.jsonl, "
          "examples/): put the project's shared/reference folder beside the checkout, or set "
          "SCANWISE_REFERENCE=DIR, and run pytest again")


def skip_without(*parts: str) -> pytest.MarkDecorator:
    """Skip unless the reference data (or the named file inside it) is present."""
    return pytest.mark.skipif(not REFERENCE.joinpath(*parts).exists(), reason=REASON)
