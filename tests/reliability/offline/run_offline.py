"""Run a command with the network cut off, so "offline" is a fact, not a hope.

    python tests/reliability/offline/run_offline.py COMMAND [ARGS...]

The command (and every process it starts: notebook kernels, the book build)
runs in a new Linux network namespace that holds only the loopback
interface, which is brought up so Jupyter kernels can talk to their clients.
Nothing else can be reached: a connection to any other address fails at once
with "Network is unreachable", and no name resolves.

Two ways to get that namespace, tried in order:

1. ``unshare(CLONE_NEWNET)``: needs root (CI runs as root);
2. ``unshare(CLONE_NEWUSER | CLONE_NEWNET)``: an unprivileged user namespace,
   allowed by most Linux kernels for ordinary users.

Where neither works (another OS, a locked-down container), the command runs
with a Python-level guard instead: this folder goes on ``PYTHONPATH``, so
every Python process, kernels included, loads ``sitecustomize.py``, which
makes any connection to a non-loopback address fail with a clear error (see
``netguard.py``).  The guard cannot stop native code that opens sockets
itself; the namespace can.

The chosen way is exported as ``VISIONBOOK_OFFLINE`` (``netns``,
``netns-user`` or ``guard``) so the tests can check that they run offline.
Setting ``VISIONBOOK_OFFLINE_MODE=guard`` skips the namespace (to test the
guard); ``VISIONBOOK_OFFLINE_MODE=off`` runs the command unchanged.

Only the standard library is used, so any Python 3 can run this file.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
_IFREQ = "16sh22x"  # struct ifreq: interface name, then the flags (40 bytes)


def _unshare(flags: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def _loopback_up() -> None:
    """Bring ``lo`` up: a new namespace starts with it down."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        request = struct.pack(_IFREQ, b"lo", 0)
        flags = struct.unpack(_IFREQ, fcntl.ioctl(probe, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(probe, SIOCSIFFLAGS, struct.pack(_IFREQ, b"lo", flags | IFF_UP))


def _check_loopback() -> None:
    """Fail clearly now, not as a hung notebook kernel later."""
    with socket.socket() as server, socket.socket() as client:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        client.settimeout(30)
        client.connect(server.getsockname())


def isolate() -> str:
    """Move this process into a loopback-only network namespace; say how."""
    try:
        _unshare(CLONE_NEWNET)
        mode = "netns"
    except OSError:
        uid, gid = os.getuid(), os.getgid()
        try:
            _unshare(CLONE_NEWUSER | CLONE_NEWNET)
        except OSError:
            return "guard"
        # Map our own ids to themselves, so files keep their owner.
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
        mode = "netns-user"
    _loopback_up()
    _check_loopback()
    return mode


def offline_environment(mode: str, environ: dict[str, str]) -> dict[str, str]:
    """The environment for the command: the mode, and the guard where needed."""
    env = dict(environ, VISIONBOOK_OFFLINE=mode)
    if mode == "guard":
        paths = [str(HERE), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
        env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    wanted = os.environ.get("VISIONBOOK_OFFLINE_MODE", "auto")
    if wanted == "off":
        os.execvp(argv[0], argv)
    if wanted not in ("auto", "guard"):
        print(f"VISIONBOOK_OFFLINE_MODE must be auto, guard or off, got {wanted!r}", file=sys.stderr)
        return 2
    try:
        mode = "guard" if wanted == "guard" or not sys.platform.startswith("linux") else isolate()
    except OSError as err:
        print(
            f"offline: a network namespace was made but its loopback could not be used ({err}); "
            "run again with VISIONBOOK_OFFLINE_MODE=guard",
            file=sys.stderr,
        )
        return 1
    print(f"offline: network cut off ({mode})", file=sys.stderr, flush=True)
    os.execvpe(argv[0], argv, offline_environment(mode, dict(os.environ)))
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
