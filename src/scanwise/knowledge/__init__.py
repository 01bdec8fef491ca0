"""The bundled knowledge (YAML data files) and the loader that validates it.

The models come first: :mod:`scanwise.domain.kb` defines them and re-exports the loader's
entry points, so importing it before the loader keeps the two in a fixed order.
"""

import scanwise.domain.kb  # noqa: F401
