"""Shared by every pytest run in this repository (the unit tests, and the notebooks under nbval).

Tests never call real AWS. ``STREAMKIT_BACKEND=aws`` in the shell is how a user runs the notebooks
on their account; under pytest, whatever the shell says, the notebooks' kernels (started by nbval
after this file is imported) get the embedded backend.
"""

import os

os.environ["STREAMKIT_BACKEND"] = "local"

# Real-time demos (``polling.poll_stream`` in notebook 05) run for ``polling.demo_seconds(5)``: 5 s
# for a reader, 0.5 s under the test suite (same calls, same outputs checked, shorter wait).
os.environ.setdefault("STREAMKIT_DEMO_SECONDS", "0.5")


# -- the walkthrough's AWS calls, for tests/test_iam_policy.py -------------------------------------
#
# The IAM policy test checks every AWS call the five notebooks make. When this session runs the
# notebooks under nbval, it reads what their kernels did instead of running the notebooks again:
# after a notebook's last cell, its kernel writes its backend's API call counts (``aws.api_calls``)
# and what its teardown left behind (an inventory with plain boto3 calls) to a file. The IAM test
# is moved after the notebooks, and fails if a notebook's report is missing or a cell failed.
# Without the notebooks in the session (``make test-unit``), the IAM test runs them itself.

import json  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

_ROOT = Path(__file__).resolve().parent
#: This session's nbval run of the notebooks: the folder of one JSON report per notebook, the
#: notebooks collected, and those with a failed cell.
WALKTHROUGH = pytest.StashKey[dict]()
_WALKTHROUGH_TEST = "test_the_policy_allows_every_call_of_the_walkthrough"
_REPORT = """
import json as _json, pathlib as _pathlib, runpy as _runpy
_report = {{"notebook": {name!r}}}
try:
    _report.update(kind=aws.kind, endpoint_url=aws.endpoint_url, calls=dict(aws.api_calls))
    _report["left"] = sorted(
        _runpy.run_path({helpers!r})["inventory"](aws, "streamkit-")  # after the calls are taken
    )
except Exception as _exc:
    _report["error"] = f"{{type(_exc).__name__}}: {{_exc}}"
_pathlib.Path({path!r}).write_text(_json.dumps(_report))
"""


def _is_notebook_cell(item: pytest.Item) -> bool:
    return type(item).__name__ == "IPyNbCell" and hasattr(item.parent, "kernel")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    notebooks = {Path(str(i.parent.path)).name for i in items if _is_notebook_cell(i)}
    if not notebooks:
        return
    folder = Path(tempfile.mkdtemp(prefix="streamkit-walkthrough-"))
    config.stash[WALKTHROUGH] = {"folder": folder, "notebooks": notebooks, "failed": set()}
    # the IAM test reads the notebooks' reports: it runs after them
    items.sort(key=lambda item: item.name == _WALKTHROUGH_TEST)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    walkthrough = item.config.stash.get(WALKTHROUGH, None)
    if walkthrough is not None and _is_notebook_cell(item) and outcome.get_result().failed:
        walkthrough["failed"].add(Path(str(item.parent.path)).name)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    walkthrough = item.config.stash.get(WALKTHROUGH, None)
    if walkthrough is None or not _is_notebook_cell(item):
        return
    if nextitem is not None and nextitem.parent is item.parent:
        return  # not the notebook's last cell
    kernel = item.parent.kernel
    if kernel is None or not kernel.is_alive():
        return
    name = Path(str(item.parent.path)).name
    code = _REPORT.format(
        name=name,
        helpers=str(_ROOT / "tests" / "helpers.py"),
        path=str(walkthrough["folder"] / f"{name}.json"),
    )
    msg_id = kernel.kc.execute(code, store_history=False, stop_on_error=False)
    kernel.await_idle(msg_id, 120)


# -- parallel runs (pytest-xdist, ``make test``: ``-n auto --dist loadfile``) -----------------------
#
# With ``--dist loadfile`` (or ``loadscope``) each test file runs whole in one worker, in order, and
# so does each notebook (nbval's cells follow one another in one kernel). The IAM test above reads
# the reports of the notebooks' kernels, which exist only in the worker that ran them: when a run
# holds both, the five notebooks and that test are one unit of work, in one worker, the test last.
# Units are handed out longest first, so that no long one starts last while the other workers idle.

#: Rough seconds of the units that take longest on the 2-core development box (the rest take about
#: 0.1 s a test). Only the order in which units are handed out depends on them.
_UNIT_SECONDS = {
    "walkthrough": 45.0,
    "notebooks/04_failures_and_idempotency.ipynb": 15.0,
    "notebooks/03_inspect_events.ipynb": 9.0,
    "notebooks/02_create_trigger.ipynb": 8.0,
    "notebooks/05_pricing.ipynb": 7.0,
    "notebooks/01_enable_streams.ipynb": 4.0,
    "tests/test_shards.py": 18.0,
    "tests/test_security.py": 13.0,
    "tests/test_parallel_windows.py": 13.0,
    "tests/test_fault_injection.py": 11.0,
    "tests/test_streams.py": 8.0,
    "tests/test_node_runtime.py": 8.0,
    "tests/test_plain_moto.py": 8.0,
    "tests/test_runtime.py": 7.5,
    "tests/test_pricing.py": 7.5,
    "tests/test_aws_path.py": 7.0,
    "tests/test_lambda_service.py": 6.0,
    "tests/test_moto_floor.py": 5.0,
}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    if config.getvalue("dist") not in ("loadfile", "loadscope"):
        return None  # pytest-xdist's own
    from xdist.scheduler import LoadFileScheduling

    class WalkthroughScheduling(LoadFileScheduling):
        """``--dist loadfile``, with the walkthrough as one unit and the longest units first."""

        walkthrough = False
        ordered = False

        def schedule(self) -> None:
            if self.collection is None and self.registered_collections:
                collection = next(iter(self.registered_collections.values()))
                self.walkthrough = any(
                    nodeid.endswith(f"::{_WALKTHROUGH_TEST}") for nodeid in collection
                ) and any(nodeid.startswith("notebooks/") for nodeid in collection)
            super().schedule()

        def _split_scope(self, nodeid: str) -> str:
            scope = super()._split_scope(nodeid)
            if self.walkthrough and (
                scope.startswith("notebooks/") or nodeid.endswith(f"::{_WALKTHROUGH_TEST}")
            ):
                return "walkthrough"
            return scope

        def _assign_work_unit(self, node: object) -> None:
            if not self.ordered:  # the first time: the queue is complete
                self.ordered = True
                units = sorted(
                    self.workqueue.items(),
                    key=lambda unit: -_UNIT_SECONDS.get(unit[0], 0.1 * len(unit[1])),
                )
                self.workqueue.clear()
                self.workqueue.update(units)
            super()._assign_work_unit(node)

    return WalkthroughScheduling(config, log)


def pytest_unconfigure(config: pytest.Config) -> None:
    walkthrough = config.stash.get(WALKTHROUGH, None)
    if walkthrough is not None:
        shutil.rmtree(walkthrough["folder"], ignore_errors=True)


@pytest.fixture
def walkthrough_reports(request: pytest.FixtureRequest) -> object:
    """``reports(notebooks)``: the reports of ``notebooks`` (file names) their kernels wrote in this
    session's nbval run, one dict each (``notebook``, ``kind``, ``endpoint_url``, ``calls``,
    ``left``, or ``error``), or ``None`` when the session did not run them all under nbval. Fails
    the test if one of them failed or wrote no report."""

    def reports(notebooks: list[str]) -> list[dict] | None:
        walkthrough = request.config.stash.get(WALKTHROUGH, None)
        if walkthrough is None or not set(notebooks) <= walkthrough["notebooks"]:
            return None
        failed = sorted(set(notebooks) & walkthrough["failed"])
        if failed:
            pytest.fail(f"{failed} failed under nbval: their API calls are not all known")
        found = []
        for name in notebooks:
            path = walkthrough["folder"] / f"{name}.json"
            if not path.exists():
                pytest.fail(f"{name} ran under nbval, but its kernel wrote no report of its calls")
            found.append(json.loads(path.read_text()))
        return found

    return reports
