"""Make every network access from Python fail at once with a clear error.

:func:`install` replaces the socket functions that reach other machines
(``connect``, ``connect_ex``, ``sendto``, ``sendmsg``, name resolution) by
versions that refuse any address that is not loopback.  Loopback stays open
because Jupyter kernels talk to their clients through it.  The error is an
:class:`OSError` (``ENETUNREACH``), the kind of error code written for
unreachable networks already expects, with a message that says why.

This is the fallback of ``run_offline.py`` where no network namespace can be
made; it guards Python code only, not native code that opens sockets itself.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_ORIGINALS: dict[str, Any] = {}


class NetworkBlockedError(OSError):
    """Raised for any attempt to reach a non-loopback address."""

    def __init__(self, target: object) -> None:
        super().__init__(
            errno.ENETUNREACH,
            f"network access blocked: this run is offline (tried to reach {target!r}); "
            "everything the book needs must already be on disk",
        )


def is_local(host: object) -> bool:
    """True for loopback, the wildcard address, or a local name."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    name = str(host).strip("[]").split("%")[0].lower()
    if name in _LOCAL_NAMES or name == "":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _host_of(sock: socket.socket, address: Any) -> Any:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
        return address[0]
    return None  # Unix sockets, netlink: local by nature


def install() -> None:
    """Switch the guard on (idempotent)."""
    if _ORIGINALS:
        return
    cls = socket.socket
    for name in ("connect", "connect_ex", "sendto", "sendmsg"):
        _ORIGINALS[name] = getattr(cls, name)
    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "create_connection"):
        _ORIGINALS[name] = getattr(socket, name)

    @functools.wraps(_ORIGINALS["connect"])
    def connect(self: socket.socket, address: Any) -> None:
        if not is_local(_host_of(self, address)):
            raise NetworkBlockedError(address)
        return _ORIGINALS["connect"](self, address)

    @functools.wraps(_ORIGINALS["connect_ex"])
    def connect_ex(self: socket.socket, address: Any) -> int:
        if not is_local(_host_of(self, address)):
            return errno.ENETUNREACH
        return _ORIGINALS["connect_ex"](self, address)

    @functools.wraps(_ORIGINALS["sendto"])
    def sendto(self: socket.socket, data: Any, *args: Any) -> int:
        if args and not is_local(_host_of(self, args[-1])):
            raise NetworkBlockedError(args[-1])
        return _ORIGINALS["sendto"](self, data, *args)

    @functools.wraps(_ORIGINALS["sendmsg"])
    def sendmsg(self: socket.socket, buffers: Any, *args: Any) -> int:
        if len(args) >= 3 and args[2] is not None and not is_local(_host_of(self, args[2])):
            raise NetworkBlockedError(args[2])
        return _ORIGINALS["sendmsg"](self, buffers, *args)

    def _resolver(name: str) -> Any:
        original = _ORIGINALS[name]

        @functools.wraps(original)
        def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
            if not is_local(host):
                raise NetworkBlockedError(host)
            return original(host, *args, **kwargs)

        return resolve

    @functools.wraps(_ORIGINALS["create_connection"])
    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if not is_local(address[0]):
            raise NetworkBlockedError(address)
        return _ORIGINALS["create_connection"](address, *args, **kwargs)

    cls.connect, cls.connect_ex, cls.sendto, cls.sendmsg = connect, connect_ex, sendto, sendmsg
    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        setattr(socket, name, _resolver(name))
    socket.create_connection = create_connection


def uninstall() -> None:
    """Switch the guard off again (used by tests that install it briefly)."""
    if not _ORIGINALS:
        return
    for name in ("connect", "connect_ex", "sendto", "sendmsg"):
        setattr(socket.socket, name, _ORIGINALS[name])
    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "create_connection"):
        setattr(socket, name, _ORIGINALS[name])
    _ORIGINALS.clear()


def installed() -> bool:
    """Whether the guard is on in this process."""
    return bool(_ORIGINALS)


@contextlib.contextmanager
def blocked() -> Iterator[None]:
    """The guard on inside a ``with`` block; afterwards, as it was before."""
    was_on = installed()
    install()
    try:
        yield
    finally:
        if not was_on:
            uninstall()
