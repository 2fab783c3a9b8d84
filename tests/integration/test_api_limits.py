"""The API's body limit over real HTTP (uvicorn on loopback): no body is read past
MAX_BODY_BYTES whatever its framing. A chunked body over the limit is answered 413 once the
limit is passed, the route never runs and the app reads no more of it; a Content-Length over
the limit is answered before any of the body is read; a body at the limit is taken."""
from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from typing import Iterator

import httpx
import pytest
import uvicorn

import services.api.routes as routes
from services.adapters.kafka.local_broker import free_port
from services.api import create_app
from services.api.app import MAX_BODY_BYTES
from services.config import Settings
from tests.helpers import bearer, role_spec

pytestmark = pytest.mark.integration
OVER = {"detail": f"request body over {MAX_BODY_BYTES:,} bytes"}
CHUNK = 64 * 1024


class Server:
    """create_app under uvicorn in a thread, behind a spy that counts the body bytes the app
    took from the server; what the route handler was called with; what was published."""

    def __init__(self, database_url: str):
        self.published: list = []
        self.pieces: list[int] = []  # the size of each http.request message the app received

        async def produce(topic, messages):
            self.published.append((topic, messages))

        app = create_app(Settings(database_url=database_url, kafka_bootstrap=f"127.0.0.1:{free_port()}"),
                         produce=produce)

        async def spy(scope, receive, send):
            async def counted():
                message = await receive()
                if message["type"] == "http.request":
                    self.pieces.append(len(message.get("body", b"")))
                return message
            await app(scope, counted, send)

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(spy, host="127.0.0.1", port=self.port, lifespan="off",
                                                   log_level="warning", log_config=None))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def body_bytes_read(self) -> int:
        return sum(self.pieces)

    def read_until_over(self) -> bool:
        """The app took the body up to the piece that passed the limit, and none after it."""
        return sum(self.pieces[:-1]) <= MAX_BODY_BYTES < sum(self.pieces)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Server":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        assert not self.thread.is_alive()


@pytest.fixture
def handled(monkeypatch) -> list:
    """Every call of the PUT /roles route's work (after its body was read and parsed)."""
    calls: list = []
    original = routes._role_action

    async def recording(ctx, who, action, role_id, spec=None):
        calls.append((action, role_id))
        return await original(ctx, who, action, role_id, spec)

    monkeypatch.setattr(routes, "_role_action", recording)
    return calls


@pytest.fixture
def server(database_url) -> Iterator[Server]:
    with Server(database_url) as running:
        running.headers = bearer(database_url, "admin")
        yield running


def chunks(total: int, head: bytes = b'{"padding": "', tail: bytes = b'"}') -> Iterator[bytes]:
    """A JSON object of exactly `total` bytes, in pieces of CHUNK bytes (sent chunked)."""
    yield head
    left = total - len(head) - len(tail)
    while left > 0:
        piece = min(CHUNK, left)
        yield b"a" * piece
        left -= piece
    yield tail


def test_a_chunked_body_over_the_limit_is_refused_and_not_read(server, handled):
    answer = httpx.put(f"{server.url}/roles/r-big", content=chunks(5_000_000), timeout=60,
                       headers={**server.headers, "Content-Type": "application/json"})
    assert answer.status_code == 413 and answer.json() == OVER
    assert answer.headers["connection"] == "close"  # the rest of the body is not read either
    assert handled == [] and server.published == []
    assert server.read_until_over() and server.body_bytes_read < 2 * MAX_BODY_BYTES


def test_a_chunked_body_over_the_limit_needs_no_credentials_to_be_refused(server, handled):
    answer = httpx.put(f"{server.url}/roles/r-big", content=chunks(2 * MAX_BODY_BYTES), timeout=60,
                       headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and answer.json() == OVER and handled == []


def test_a_chunked_body_at_the_limit_is_read_and_one_byte_more_is_not(server, handled):
    at_limit = httpx.put(f"{server.url}/roles/r-big", content=chunks(MAX_BODY_BYTES), timeout=60,
                         headers={**server.headers, "Content-Type": "application/json"})
    assert at_limit.status_code == 422, at_limit.text  # read and parsed: not a role spec
    assert handled == [("put", "r-big")] and server.body_bytes_read == MAX_BODY_BYTES
    over = httpx.put(f"{server.url}/roles/r-big", content=chunks(MAX_BODY_BYTES + 1), timeout=60,
                     headers={**server.headers, "Content-Type": "application/json"})
    assert over.status_code == 413 and over.json() == OVER and handled == [("put", "r-big")]
    assert sum(server.pieces) == 2 * MAX_BODY_BYTES + 1  # both bodies in full: the second one ends past it


def test_a_small_chunked_body_goes_through(server, handled):
    spec = json.dumps(role_spec("r-small")).encode()
    answer = httpx.put(f"{server.url}/roles/r-small", content=iter([spec[:10], spec[10:]]), timeout=30,
                       headers={**server.headers, "Content-Type": "application/json"})
    assert answer.status_code == 202, answer.text
    assert handled == [("put", "r-small")] and len(server.published) == 1


def test_a_content_length_over_the_limit_is_refused_before_the_body_is_sent(server, handled):
    """Only the head is sent: the answer comes without the server waiting for 50 MB."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"PUT /roles/r-big HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 50000000\r\n\r\n")
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        assert answer.status == 413 and json.loads(answer.read()) == OVER
    assert handled == [] and server.body_bytes_read == 0
