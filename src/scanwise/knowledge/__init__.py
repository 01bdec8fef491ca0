"""The bundled knowledge (YAML data files) and the loader that validates it.

Importing the package loads nothing: :mod:`scanwise.knowledge.files` says which data and
packs a process uses and the data's version, :mod:`scanwise.knowledge.loader` reads and
validates them into the models of :mod:`scanwise.domain.kb`.
"""
