"""How a model service's gunicorn workers share its port: evenly, and not past their master.

The connections each worker holds are read from /proc: a worker's socket inodes
(its file descriptors) matched against the established TCP connections on the
service's port.
"""

from __future__ import annotations

import json
import os
import signal
import socket
from pathlib import Path

from tests.conftest import ServeModel
from tests.processes import alive, child_pids, wait_until

IRIS_ROW = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
ESTABLISHED, LISTEN = "01", "0A"


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _sockets_on(port: int, state: str) -> list[list[str]]:
    """The /proc/net/tcp rows of the sockets in `state` whose local port is `port`."""
    rows = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                rows.append(fields)
    return rows


def _served_connections(port: int) -> set[str]:
    """The socket inodes of the established connections whose local port is `port`."""
    return {fields[9] for fields in _sockets_on(port, ESTABLISHED)}


def _waiting_to_be_accepted(port: int, inodes: set[str]) -> int:
    """Connections queued on the listening sockets among `inodes` (rx_queue)."""
    rows = [f for f in _sockets_on(port, LISTEN) if f[9] in inodes]
    return sum(int(f[4].split(":")[1], 16) for f in rows)


def _predict_on(connection: socket.socket) -> bytes:
    body = json.dumps(IRIS_ROW).encode()
    connection.sendall(
        b"POST /v1/models/iris/predict HTTP/1.1\r\nhost: test\r\ncontent-type: "
        b"application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
    )
    return connection.recv(65536).split(b"\r\n", 1)[0]


def test_a_burst_of_new_connections_is_spread_over_the_workers(serve_model: ServeModel) -> None:
    """64 keep-alive connections opened while one of two workers is busy (stopped,
    here), as a load balancer or the benchmark opens them: each worker still holds
    half of them for their lifetime, where from one shared socket the free worker
    took them all (the benchmark saw 32/0 splits of its connections, and half the
    throughput)."""
    server = serve_model("iris", "v1", workers=2)
    port = int(server.url.rsplit(":", 1)[1])
    workers = child_pids(server.process.pid)
    busy, free = workers
    os.kill(busy, signal.SIGSTOP)
    try:
        connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(64)]
        wait_until(
            lambda: _waiting_to_be_accepted(port, _socket_inodes(free)) == 0, 10,
            "the free worker to accept every connection it can",
        )  # fmt: skip
    finally:
        os.kill(busy, signal.SIGCONT)
    try:
        assert {_predict_on(c) for c in connections} == {b"HTTP/1.1 200 OK"}
        served = _served_connections(port)
        shares = [len(_socket_inodes(pid) & served) for pid in workers]
    finally:
        for connection in connections:
            connection.close()
    assert sum(shares) == len(connections)
    # Evenly by hash: 32 each on average, 16 is four standard deviations away.
    assert min(shares) >= 16, f"connections per worker: {shares}"


def test_the_workers_do_not_outlive_a_killed_master(serve_model: ServeModel) -> None:
    """An orphaned worker would keep its socket on the port and take a share of a
    successor's connections."""
    server = serve_model("iris", "v1", workers=2)
    workers = child_pids(server.process.pid)
    assert len(workers) == 2
    os.kill(server.process.pid, signal.SIGKILL)
    wait_until(lambda: not any(alive(pid) for pid in workers), 10, "the orphaned workers to exit")
