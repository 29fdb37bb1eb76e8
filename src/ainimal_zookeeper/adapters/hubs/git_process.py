"""Run git with its output bounded and a deadline: what a remote says cannot fill the server's memory.

A remote controls much of what git prints: `ls-remote` lists every ref it advertises matching
a pattern, and its sideband messages ("remote: ...") go to git's error output. So git's output
is read through pipes as it comes: its standard output up to `max_stdout` bytes (past that git
is stopped and the call refused), its error output keeping only the last `STDERR_TAIL_BYTES`.
`on_tick` runs every `tick_seconds` while git runs (a fetch measures its folder there) and may
raise to stop it.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ainimal_zookeeper.errors import Unavailable

#: The end of git's error output kept for its message.
STDERR_TAIL_BYTES = 64 * 1024
#: What one git command may print on its standard output (a ref list, a commit id).
MAX_STDOUT_BYTES = 4 << 20
_READ_BYTES = 64 * 1024


@dataclass(frozen=True)
class Finished:
    """A git command that ended: its exit code, its output and the end of its error output."""

    returncode: int
    stdout: bytes
    stderr_tail: bytes


def run_bounded(
    argv: list[str],
    *,
    cwd: Path | None,
    env: dict[str, str],
    deadline: float,
    allowed: float,
    what: str,
    max_stdout: int = MAX_STDOUT_BYTES,
    on_tick: Callable[[], None] | None = None,
    tick_seconds: float = 0.1,
) -> Finished:
    """Run `argv` until it ends, `deadline` (monotonic seconds) passes or `on_tick` raises.

    `allowed`: the time limit `deadline` comes from, for the message.

    Raises:
        Unavailable: git is not installed, did not finish in time, or printed more than
            `max_stdout` bytes (`what` names the operation); whatever `on_tick` raises.
    """
    try:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise Unavailable(f"{what}: the git program is not installed") from None
    stdout, stderr = bytearray(), bytearray()
    with process, selectors.DefaultSelector() as selector:
        assert process.stdout is not None and process.stderr is not None
        selector.register(process.stdout, selectors.EVENT_READ, stdout)
        selector.register(process.stderr, selectors.EVENT_READ, stderr)
        next_tick = time.monotonic() + tick_seconds
        try:
            while selector.get_map():
                now = time.monotonic()
                if now >= deadline:
                    raise Unavailable(f"{what}: git did not finish within {allowed:g} s") from None
                if on_tick is not None and now >= next_tick:
                    started = time.monotonic()
                    on_tick()
                    # A tick that takes long (measuring a large tree) comes less often: at most a tenth of the time.
                    next_tick = time.monotonic() + max(tick_seconds, 10 * (time.monotonic() - started))
                for key, _ in selector.select(timeout=max(0.0, min(next_tick, deadline) - time.monotonic())):
                    chunk = os.read(key.fd, _READ_BYTES)
                    if not chunk:
                        selector.unregister(key.fileobj)
                        continue
                    kept: bytearray = key.data
                    kept += chunk
                    if kept is stderr and len(stderr) > 2 * STDERR_TAIL_BYTES:
                        del stderr[:-STDERR_TAIL_BYTES]
                    if kept is stdout and len(stdout) > max_stdout:
                        raise Unavailable(f"{what}: git printed more than {max_stdout} bytes; refused")
            try:
                returncode = process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:  # its output closed, but it goes on
                raise Unavailable(f"{what}: git did not finish within {allowed:g} s") from None
        except BaseException:
            process.kill()
            process.wait()
            raise
    return Finished(returncode, bytes(stdout), bytes(stderr[-STDERR_TAIL_BYTES:]))
