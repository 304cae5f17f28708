"""Loaded first by every pytest run of this repository (``pyproject.toml``: ``addopts``), before
the plugins that pytest finds installed.

nbval imports nbformat, which imports jsonschema, which imports ``rfc3987_syntax`` when it is
installed (JupyterLab's dependencies bring it): that module builds 38 Lark parsers as it is
imported, 1.8 s of every pytest process (the main one and each pytest-xdist worker). It serves
only jsonschema's ``iri`` format checks, which neither nbformat nor any test uses, so pytest runs
go without it: jsonschema leaves those two checks out when the import fails.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # None: `import rfc3987_syntax` raises ImportError
