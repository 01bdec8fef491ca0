"""The command line's warm reader: the clinical reader kept loaded in a background process.

Why: importing spaCy and building the medspaCy pipeline takes about a second on a small
machine, several times the rest of a command. So the first ``scanwise recommend`` or ``ask``
that reads text does it in its own process, as always, and on its way out starts a reader
process in the background; later commands send it their text over a Unix socket and get the
reading back in milliseconds, without importing spaCy at all. ``scanwise ask --json`` sends
the whole question: the background process also keeps the answer engine loaded (and the
knowledge base, whose models alone take a tenth of a second to import), so the command loads
neither and prints the answer it gets back (``Scanwise.answer_json``, the same as in-process).

This module is the command's side and the messages; the background process is
:mod:`scanwise.warm_server` (which runs the core, so the core, which uses this module, does
not import it).

What keeps it safe and correct:

- The socket lives in a directory only this user may enter (mode 0700, owned by us: checked
  on every use, else the warm reader is not used) and the server serves only callers with
  its own user id (``SO_PEERCRED``).
- Text is held in memory for the length of one request; it is never logged or stored.
- The socket's name carries a fingerprint of the knowledge base's version and of the code,
  so a reader built from other data or another version of scanwise is never asked.
- The reader exits after ten idle minutes (``SCANWISE_WARM_READER_IDLE`` seconds) and
  ``SCANWISE_NO_WARM_READER=1`` turns the whole thing off.
- Nothing here is ever needed: any failure (no server, a timeout, an odd answer) means the
  command reads the text in its own process, exactly as without it.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import json
import os
import socket
import stat
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scanwise.domain.profile import Indication, PatientProfile

IDLE_SECONDS = 600.0
#: Longest wait for one reading before the command reads in its own process instead.
REPLY_TIMEOUT = 10.0
MAX_MESSAGE = 8 * 1024 * 1024
_LENGTH = struct.Struct(">I")
_PEER = struct.Struct("3i")  # struct ucred: pid, uid, gid


class Refused(ValueError):
    """The reader read the text and found it unusable (empty, too long, binary): the same
    message the in-process reader gives. From :meth:`WarmReader.answer`: the core's whole
    ``UnusableInput`` message (field first)."""


def enabled() -> bool:
    return os.environ.get("SCANWISE_NO_WARM_READER", "") not in ("1", "true", "yes")


def _idle_seconds() -> float:
    try:
        return max(1.0, float(os.environ.get("SCANWISE_WARM_READER_IDLE", IDLE_SECONDS)))
    except ValueError:
        return IDLE_SECONDS


def runtime_dir() -> Path | None:
    """This user's private folder for the socket, or None when it is not private."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    folder = Path(base) / f"scanwise-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    private = stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077
    return folder if private else None


def fingerprint(kb_version: str) -> str:
    """What the reading depends on: the data's version and the code (each source file's size
    and modification time: an edited checkout gets a fresh reader)."""
    from scanwise.cache import code_fingerprint

    return hashlib.sha256(f"{code_fingerprint()}|{kb_version}".encode()).hexdigest()[:20]


def address(kb_version: str) -> Path | None:
    folder = runtime_dir()
    return None if folder is None else folder / f"reader-{fingerprint(kb_version)}.sock"


def _send(conn: socket.socket, message: dict[str, Any]) -> None:
    data = json.dumps(message).encode()
    conn.sendall(_LENGTH.pack(len(data)) + data)


def _receive(conn: socket.socket) -> dict[str, Any]:
    def exactly(n: int) -> bytes:
        chunks = bytearray()
        while len(chunks) < n:
            chunk = conn.recv(n - len(chunks))
            if not chunk:
                raise ConnectionError("the other side closed the connection")
            chunks += chunk
        return bytes(chunks)

    (size,) = _LENGTH.unpack(exactly(_LENGTH.size))
    if size > MAX_MESSAGE:
        raise ValueError(f"a message of {size:,} bytes is over the limit")
    message = json.loads(exactly(size))
    if not isinstance(message, dict):
        raise ValueError("a message is not a JSON object")
    return message


# --- the command's side ----------------------------------------------------------------------

class WarmReader:
    """Reads text through the background reader for this knowledge base, when one is up."""

    def __init__(self, kb_version: str) -> None:
        self.kb_version = kb_version
        self.address = address(kb_version)

    def read(self, text: str, known: PatientProfile | None) -> tuple[PatientProfile, Indication] | None:
        """The reading, or None when the warm reader cannot give it (then read in-process).
        Raises :class:`Refused` for text the reader finds unusable."""
        reply = self._ask({"text": text, "known": None if known is None else known.model_dump(mode="json")})
        if reply is None:
            return None
        from scanwise.domain.profile import Indication, PatientProfile

        try:
            return (PatientProfile.model_validate(reply["profile"]),
                    Indication.model_validate(reply["indication"]))
        except (KeyError, ValueError):
            return None

    def answer(self, question: str, context: str | None, *, include_retired: bool) -> dict[str, Any] | None:
        """``Scanwise.answer_json(question, context=context, context_field="--context", ...)``
        as the background process computes it, or None when it cannot give it (then answer
        in-process). Raises :class:`Refused` with the core's message for unusable input."""
        reply = self._ask({"ask": question, "context": context, "include_retired": include_retired})
        answer = None if reply is None else reply.get("answer")
        return answer if isinstance(answer, dict) else None

    def _ask(self, request: dict[str, Any]) -> dict[str, Any] | None:
        if self.address is None:
            return None
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(REPLY_TIMEOUT)
                conn.connect(str(self.address))
                _send(conn, request)
                reply = _receive(conn)
        except (OSError, ValueError):
            _start_later(self.kb_version)
            return None
        if "refused" in reply:
            raise Refused(str(reply["refused"]))
        return reply


_starting: set[str] = set()


def _start_later(kb_version: str) -> None:
    """Start a reader when this command ends (so its start-up does not slow this one); once
    per process, however many readers found none."""
    if kb_version not in _starting:
        _starting.add(kb_version)
        atexit.register(start, kb_version)


def start(kb_version: str) -> None:
    """Start a background reader for ``kb_version``, detached from this process."""
    target = address(kb_version)
    if target is None:
        return
    with contextlib.suppress(OSError):
        subprocess.Popen(  # noqa: S603 (our own interpreter and module, no user input)
            [sys.executable, "-m", "scanwise.warm_server", str(target)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True)


def stop(kb_version: str) -> bool:
    """End the background reader for ``kb_version``, if one is up; whether one was."""
    import signal

    target = address(kb_version)
    if target is None:
        return False
    try:
        with open(target.with_suffix(".lock"), "rb") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return False  # nobody holds it: no reader is up (the pid in it is stale)
            except OSError:
                pid = int(lock.read() or 0)
    except (OSError, ValueError):
        return False
    if pid <= 0:
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGTERM)
        return True
    return False
