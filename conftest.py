"""Shared by every pytest run in this repository (the unit tests, and the notebooks under nbval).

Tests never call real AWS. ``STREAMKIT_BACKEND=aws`` in the shell is how a user runs the notebooks
on their account; under pytest, whatever the shell says, the notebooks' kernels (started by nbval
after this file is imported) get the embedded backend.
"""

import os

os.environ["STREAMKIT_BACKEND"] = "local"
