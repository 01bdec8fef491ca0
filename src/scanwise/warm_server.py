"""The warm reader's background process: the clinical reader and the answer engine kept loaded
behind a private Unix socket, for the command line (see :mod:`scanwise.warm_reader`, the
command's side, for why and for what keeps it safe).

It serves two requests, one at a time, each only to this user and each forgotten once
answered (nothing is logged or stored):

- ``{"text", "known"}``: the reading of a scenario (``recommend``, ``ask --context``);
- ``{"ask", "context", "include_retired"}``: ``Scanwise.answer_json``, what ``ask --json``
  prints, computed by the same core as in the command's own process.

Started by :func:`scanwise.warm_reader.start` as ``python -m scanwise.warm_server SOCKET``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from scanwise.warm_reader import _PEER, REPLY_TIMEOUT, _idle_seconds, _receive, _send, address

if TYPE_CHECKING:
    from scanwise.core import Scanwise


def serve(target: Path) -> None:
    """Serve on ``target`` until idle; exits at once if another reader holds it or if this
    process's data or code is not what the name was made for."""
    from scanwise.core import Scanwise

    core = Scanwise.default()  # the bundled data and configured packs, as the command's core
    if address(core.kb_version) != target:
        return  # the data or code changed between the command and now
    lock = open(target.with_suffix(".lock"), "a+b")  # noqa: SIM115 (held for the server's life)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return  # another reader is already serving this address
    lock.truncate(0)
    lock.write(str(os.getpid()).encode())  # who holds it, for `stop`
    lock.flush()
    # Build the pipeline and load the answer engine before serving, so that no command waits.
    core.answer_json("What is a PET scan?", context="stage I breast cancer, staging?")
    with contextlib.suppress(FileNotFoundError):
        target.unlink()  # left by a reader that died
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # runs the clean-up below
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(target))
        os.chmod(target, 0o600)
        server.listen(16)
        server.settimeout(_idle_seconds())
        try:
            while True:
                try:
                    conn, _ = server.accept()
                except TimeoutError:
                    return
                with conn:
                    _answer(conn, core)
        finally:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()


def _answer(conn: socket.socket, core: Scanwise) -> None:
    """One request: only from this user; the text is read, answered and forgotten."""
    from scanwise.core import NotFound, UnusableInput
    from scanwise.domain.profile import PatientProfile
    from scanwise.nlp.scenario import UnusableText, read_scenario

    try:
        _, uid, _ = _PEER.unpack(conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEER.size))
        if uid != os.getuid():
            return
        conn.settimeout(REPLY_TIMEOUT)
        request = _receive(conn)
        if "ask" in request:
            question, context = request.get("ask"), request.get("context")
            if not isinstance(question, str) or not isinstance(context, str | None):
                return
            try:
                data = core.answer_json(question, context=context, context_field="--context",
                                        include_retired=request.get("include_retired") is True)
            except (UnusableInput, NotFound) as exc:  # the command prints the same message
                _send(conn, {"refused": str(exc)})
                return
            _send(conn, {"answer": data})
            return
        text = request.get("text")
        known = request.get("known")
        if not isinstance(text, str):
            return
        try:
            profile, indication = read_scenario(
                text, core.kb, known=None if known is None else PatientProfile.model_validate(known))
        except UnusableText as exc:  # the caller words it as the in-process reader would
            _send(conn, {"refused": str(exc)})
            return
        _send(conn, {"profile": profile.model_dump(mode="json"),
                     "indication": indication.model_dump(mode="json")})
    except Exception:  # noqa: BLE001 (one bad request must not end the reader; nothing is logged)
        return


if __name__ == "__main__":
    if len(sys.argv) == 2:
        serve(Path(sys.argv[1]))
