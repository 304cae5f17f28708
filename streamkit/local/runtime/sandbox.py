"""What a function's execution environment sees of this machine: an allow-listed environment and
scratch folders owned by the run.

**Environment.** A worker process gets exactly what AWS Lambda's runtime sets (the ``AWS_LAMBDA_*``
variables, ``AWS_REGION``, ``_HANDLER``, ``TZ=:UTC``, ``LANG``, ``PATH``, the execution role's
credentials, ...: :func:`base_environment` and the reserved variables the runtime adds), plus the
function's configured variables, plus the few variables the interpreter itself needs to start
(:data:`INTERPRETER_VARIABLES`, passed on only when the kernel has them). Nothing else of the
kernel's environment reaches a handler: no ``GITHUB_TOKEN``, ``JUPYTER_TOKEN``, ``AWS_PROFILE``,
proxy settings or the user's ``PATH``. Source for AWS's variables: Lambda Developer Guide, "Defined
runtime environment variables"
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).

**Scratch folders.** ``HOME`` and ``TMPDIR`` point into a folder of the run
(``<root>/home/<function>``, ``<root>/tmp/<function>``: a ``/tmp`` per function, as each function
has its own ``/tmp`` on AWS), so ``~/.aws/credentials``, ``~/.ssh`` or ``~/.netrc`` resolve to empty
folders, not to the user's. The roots are named ``streamkit-lambda-<pid>-<random>`` in the system's
temporary folder and hold an owner file (:data:`OWNER_FILE`: the pid and the start time of the
process that made them). :func:`sweep` removes the roots whose owner is gone (a kernel that was
killed), and only those.

What this does *not* isolate (see ``SECURITY.md``): the worker runs as the same OS user as the
kernel, so it can still open the user's files by their absolute path, and it shares the network.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

__all__ = [
    "INTERPRETER_VARIABLES",
    "OWNER_FILE",
    "ROOT_PREFIX",
    "base_environment",
    "new_root",
    "owner_alive",
    "scratch",
    "sweep",
]

#: Prefix of every scratch root (in the system's temporary folder).
ROOT_PREFIX = "streamkit-lambda-"
#: The file in a root naming the process that owns it: ``<pid> <start time>``.
OWNER_FILE = ".streamkit-owner"
#: Passed on from the kernel, when set, because the interpreter may need them to start or to find
#: its packages (a conda or non-system Python, a PYTHONPATH install); AWS sets its own values.
INTERPRETER_VARIABLES = ("LD_LIBRARY_PATH", "PYTHONHOME", "PYTHONPATH")
#: ``PATH`` after the interpreter's own folder, as AWS's ``/usr/local/bin:/usr/bin/:/bin:/opt/bin``
#: follows ``/var/lang/bin``.
_SYSTEM_PATH = ("/usr/local/bin", "/usr/bin", "/bin")
_ROOT_NAME = re.compile(re.escape(ROOT_PREFIX) + r"(\d+)-")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _start_time(pid: int) -> str:
    """A process's start time (clock ticks since boot; Linux), or ``""`` where it is not known."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return fields[19].decode()
    except (OSError, IndexError):
        return ""


def new_root() -> Path:
    """A fresh scratch root owned by this process (``streamkit-lambda-<pid>-<random>``, mode 0700)."""
    root = Path(tempfile.mkdtemp(prefix=f"{ROOT_PREFIX}{os.getpid()}-"))
    (root / OWNER_FILE).write_text(f"{os.getpid()} {_start_time(os.getpid())}\n")
    return root


def owner_alive(root: Path) -> bool:
    """Whether the process that made ``root`` still runs (a reused pid with another start time
    counts as gone). Roots that do not say who owns them count as alive: they are never swept."""
    match = _ROOT_NAME.match(root.name)
    if match is None:
        return True
    pid = int(match[1])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: not ours to judge
        return True
    try:
        recorded = (root / OWNER_FILE).read_text().split()
    except OSError:
        return True
    started = _start_time(pid)
    return not (len(recorded) == 2 and started and recorded[1] != started)


def sweep(folder: str | Path | None = None) -> list[Path]:
    """Remove the scratch roots whose owning process is gone; the roots removed.

    Only roots of this OS user named ``streamkit-lambda-<pid>-...`` are considered, and a root is
    removed only when process ``<pid>`` no longer runs (or is another process with that pid).

    Parameters
    ----------
    folder : str or Path, optional
        Where to look (default: the system's temporary folder).
    """
    base = Path(folder) if folder is not None else Path(tempfile.gettempdir())
    removed: list[Path] = []
    try:
        candidates = [p for p in base.iterdir() if p.name.startswith(ROOT_PREFIX)]
    except OSError:
        return removed
    for root in candidates:
        try:
            if not root.is_dir() or root.is_symlink() or root.stat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        if not owner_alive(root):
            shutil.rmtree(root, ignore_errors=True)
            removed.append(root)
    return removed


def scratch(root: Path, function_name: str) -> tuple[Path, Path]:
    """``(HOME, TMPDIR)`` of a function's environments under ``root``, created (mode 0700)."""
    safe = _UNSAFE.sub("_", function_name) or "_"
    home, tmp = root / "home" / safe, root / "tmp" / safe
    for folder in (home, tmp):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return home, tmp


def base_environment(*, home: Path, tmp: Path, endpoint_url: str) -> dict[str, str]:
    """The variables every environment starts from, before the function's own and Lambda's
    reserved ones: ``TZ``, ``LANG``, ``PATH``, ``HOME``, ``TMPDIR``, ``AWS_ENDPOINT_URL`` and the
    :data:`INTERPRETER_VARIABLES` the kernel has. Nothing else of ``os.environ``."""
    env = {
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": os.pathsep.join((str(Path(sys.executable).parent), *_SYSTEM_PATH)),
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "AWS_ENDPOINT_URL": endpoint_url,
    }
    for name in INTERPRETER_VARIABLES:
        value = os.environ.get(name)
        if value:
            env[name] = value
    return env
