"""Loopback ports of the local fleet, checked the way its servers bind them.

gunicorn, uvicorn and aiohttp set SO_REUSEADDR before they bind, so a port whose
only sockets are in TIME_WAIT (the connections of a run that just stopped) binds
at once, and only a live listener blocks it. The checks here bind the same way:
without SO_REUSEADDR, `make run` right after a run that served traffic would call
a free port busy for a minute.
"""

from __future__ import annotations

import socket

__all__ = ["free_loopback_ports", "listening_socket", "port_is_free"]

HOST = "127.0.0.1"
PORT_SEARCH = 200  # ports tried after the preferred one before asking the kernel
BACKLOG = 1024  # connections the kernel queues while no gateway process accepts


def _reusable(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def port_is_free(port: int, host: str = HOST) -> bool:
    """True when a server could bind `port` now (TIME_WAIT leftovers do not count)."""
    try:
        _reusable(host, port).close()
    except OSError:
        return False
    return True


def listening_socket(port: int, host: str = HOST) -> socket.socket:
    """A listening socket on `port` (OSError when it is taken), for a child to inherit."""
    sock = _reusable(host, port)
    sock.listen(BACKLOG)
    return sock


def _kernel_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_loopback_ports(count: int, first: int, host: str = HOST) -> list[int]:
    """`count` free ports, preferring `first`, `first + 1`, ... (stable URLs run to run)."""
    ports: list[int] = []
    candidate = first
    while len(ports) < count and candidate < first + count + PORT_SEARCH:
        if port_is_free(candidate, host):
            ports.append(candidate)
        candidate += 1
    while len(ports) < count:
        port = _kernel_port(host)
        if port not in ports:
            ports.append(port)
    return ports
