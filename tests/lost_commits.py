"""A TCP proxy before PostgreSQL that can lose the answer to a COMMIT the server carried out.

The client's connection breaks after the server committed: the client cannot tell a commit made from one
never received, which is what a network cut or a server killed just after its commit leaves it with.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

COMMIT = b"COMMIT\x00"  # the statement in the client's Parse or Query message, the tag of the server's answer
CHUNK = 65536


class CommitAnswerLoser:
    """Forwards every connection to `host:port`. Armed (`lose_next`), it swallows the server's answer to the next
    COMMIT sent through it and closes that connection on both sides once the server has said it committed."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.lost = 0  # answers lost so far
        self._armed = threading.Event()
        self._closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def lose_next(self) -> None:
        self._armed.set()

    def close(self) -> None:
        self._closing = True
        self.listener.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            committing = threading.Event()  # a COMMIT went to the server while armed: its answer is to be lost
            threading.Thread(target=self._to_server, args=(client, server, committing), daemon=True).start()
            threading.Thread(target=self._to_client, args=(server, client, committing), daemon=True).start()

    def _to_server(self, client: socket.socket, server: socket.socket, committing: threading.Event) -> None:
        with suppress(OSError):
            while data := client.recv(CHUNK):
                if COMMIT in data and self._armed.is_set():
                    self._armed.clear()
                    committing.set()
                server.sendall(data)
        _close(client, server)

    def _to_client(self, server: socket.socket, client: socket.socket, committing: threading.Event) -> None:
        answered = b""
        with suppress(OSError):
            while data := server.recv(CHUNK):
                if not committing.is_set():
                    client.sendall(data)
                    continue
                answered = (answered + data)[-len(COMMIT) - CHUNK :]
                if COMMIT in answered:  # the server's CommandComplete: the transaction is durable
                    self.lost += 1
                    break
        _close(client, server)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


@contextmanager
def commit_answer_loser(host: str, port: int) -> Iterator[CommitAnswerLoser]:
    proxy = CommitAnswerLoser(host, port)
    try:
        yield proxy
    finally:
        proxy.close()
