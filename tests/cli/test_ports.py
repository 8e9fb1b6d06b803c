"""Free-port checks that agree with how gunicorn and uvicorn bind (SO_REUSEADDR)."""

from __future__ import annotations

import socket

import pytest

from services.cli.fleet.ports import free_loopback_ports, listening_socket, port_is_free
from tests.processes import wait_until


def time_wait_port() -> int:
    """A port whose only socket is in TIME_WAIT, as after a server that served traffic
    stopped: the server's side closed the connection first, so it waits there."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = int(server.getsockname()[1])
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server closes first: TIME_WAIT lands on `port`
    server.close()
    wait_until(lambda: client.recv(1) == b"", 5, "the client to see the close")
    client.close()
    return port


def binds_without_reuse(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_a_port_in_time_wait_is_free_as_the_servers_see_it() -> None:
    port = time_wait_port()
    assert not binds_without_reuse(port)  # the old check's answer: "port in use"
    assert port_is_free(port)
    with listening_socket(port) as held:  # and the launcher can really listen there
        assert held.getsockname() == ("127.0.0.1", port)


def test_a_live_listener_still_makes_a_port_busy() -> None:
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = int(other.getsockname()[1])
        assert not port_is_free(port)
        with pytest.raises(OSError):
            listening_socket(port)


def test_free_ports_prefer_the_given_one_and_skip_busy_ones() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        ports = free_loopback_ports(3, taken)
    assert len(set(ports)) == 3 and taken not in ports
