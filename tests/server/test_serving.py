"""The production start: TCP_NODELAY in every worker, a connection cap below the
descriptor limit, idle and slow-header connections closed, descriptor errors logged once
per interval. The servers run as processes of their own (tests/serving.py)."""

from __future__ import annotations

import errno
import http.client
import json
import logging
import resource
import socket
import time
from pathlib import Path

import pytest

from server import serving
from server.serving import OncePerInterval, OutOfDescriptors, connection_cap, set_nodelay
from tests.serving import serve


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def emfile_record() -> logging.LogRecord:
    try:
        raise OSError(errno.EMFILE, "Too many open files")
    except OSError:
        import sys

        exc_info = sys.exc_info()
    return logging.LogRecord(
        "asyncio",
        logging.ERROR,
        __file__,
        1,
        "socket.accept() out of system resource",
        (),
        exc_info,
    )


def test_descriptor_errors_pass_once_per_interval_as_one_line() -> None:
    # given
    clock = FakeClock()
    only = OutOfDescriptors(60, clock)
    # when
    passed = [r for r in (emfile_record() for _ in range(1000)) if only.filter(r)]
    clock.now += 61
    later = emfile_record()
    # then
    assert len(passed) == 1
    assert only.filter(later)
    assert "999 more like it in the last 60 s" in later.getMessage()
    assert "Too many open files" in later.getMessage()
    assert later.exc_info is None  # one line, no traceback


def test_other_records_are_not_held_back() -> None:
    only = OutOfDescriptors(60, FakeClock())
    records = [
        logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "something else", (), None)
        for _ in range(5)
    ]
    assert all(only.filter(r) for r in records)


def test_a_repeating_condition_is_counted() -> None:
    clock = FakeClock()
    once = OncePerInterval(10, clock)
    for _ in range(5):
        once.filter(logging.LogRecord("x", logging.WARNING, __file__, 1, "cap", (), None))
    clock.now += 10
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "cap", (), None)
    assert once.filter(record)
    assert record.getMessage() == "cap (4 more like it in the last 10 s)"


def test_connection_cap_leaves_a_reserve_below_the_descriptor_limit() -> None:
    assert connection_cap(1024, 40) == 1024 - 40 - 128
    assert connection_cap(160, 40) == 160 - 40 - 64
    assert connection_cap(60, 40) == 1


def test_nodelay_is_set_on_a_socket_accepted_from_a_shared_listener() -> None:
    # uvicorn's parent makes the workers' socket without a protocol number, and asyncio
    # only sets TCP_NODELAY itself on sockets whose protocol is TCP
    with socket.socket(socket.AF_INET) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()) as _client:
            accepted, _ = listener.accept()
            with accepted:

                class Transport:
                    def get_extra_info(self, name: str) -> object:
                        return accepted if name == "socket" else None

                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
                set_nodelay(Transport())  # type: ignore[arg-type]
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_keep_alive_requests_on_several_workers_are_not_held_by_nagle(
    tmp_path: Path, loop: str
) -> None:
    # given two workers sharing one socket (with asyncio's loop each keep-alive response
    # used to wait ~40 ms for the client's delayed ACK: 50 requests took over 2 s)
    with serve(tmp_path, args=["--workers", "2", "--loop", loop]) as served:
        c = served.connection()
        c.request("GET", "/healthz")
        c.getresponse().read()
        # when
        started = time.perf_counter()
        for _ in range(50):
            c.request("GET", "/healthz")
            r = c.getresponse()
            r.read()
            assert r.status == 200
        took = time.perf_counter() - started
        c.close()
    # then: a generous bound, far below 50 x 40 ms
    assert took < 1.2, f"50 keep-alive requests took {took:.2f} s"


def _low_descriptor_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (160, 160))


def test_idle_connections_cannot_exhaust_descriptors(tmp_path: Path) -> None:
    # given a worker with 160 descriptors and request heads due within 2 s
    with serve(
        tmp_path,
        env={"HEADER_TIMEOUT_SECONDS": "2", "KEEPALIVE_TIMEOUT_SECONDS": "2"},
        preexec_fn=_low_descriptor_limit,
    ) as served:
        before = len(served.log_lines())
        # when 400 connections open and send nothing
        idle = [socket.create_connection((served.host, served.port)) for _ in range(400)]
        try:
            time.sleep(0.5)
            # then the worker refuses what it cannot hold, with a 503 it can afford to send
            refused = _first_refusal(served.host, served.port)
            if refused is not None:
                assert refused["errors"][0]["extensions"]["code"] == "OVERLOADED"
            # and answers a fresh connection once the idle ones are closed
            deadline = time.monotonic() + 20
            status = 0
            while time.monotonic() < deadline and status != 200:
                status = _healthz(served.host, served.port)
                time.sleep(0.2)
            assert status == 200
            answers = [_closed_by_server(s) for s in idle]
            assert all(closed for closed, _ in answers)
            # those past the cap were told why, the others closed silently when due
            refusals = [first for _, first in answers if first.startswith(b"HTTP/1.1 503")]
            assert len(refusals) > len(idle) // 2
            assert b'"code":"OVERLOADED"' in refusals[0]
            assert b"retry-after: 1" in refusals[0]
        finally:
            for s in idle:
                s.close()
        # and a request head dripped in byte by byte is cut off all the same
        assert _dripped_head_is_cut_off(served.host, served.port, within=8)
        # and the log did not grow by a line per attempt
        grown = served.log_lines()[before:]
        assert len(grown) < 30, "\n".join(grown[:40])
        assert not any("Too many open files" in line for line in grown)


def _dripped_head_is_cut_off(host: str, port: int, within: float) -> bool:
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200
    with socket.create_connection((host, port)) as s:
        s.settimeout(0.3)
        deadline = time.monotonic() + within
        for byte in head:
            if time.monotonic() > deadline:
                return False
            try:
                s.sendall(bytes([byte]))
                if s.recv(1) == b"":
                    return True
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                return True
    return False


def _healthz(host: str, port: int) -> int:
    try:
        c = http.client.HTTPConnection(host, port, timeout=3)
        c.request("GET", "/healthz")
        status = c.getresponse().status
        c.close()
        return status
    except OSError:
        return 0


def _first_refusal(host: str, port: int) -> dict[str, object] | None:
    try:
        c = http.client.HTTPConnection(host, port, timeout=3)
        c.request("GET", "/healthz")
        r = c.getresponse()
        body = r.read()
        c.close()
    except OSError:
        return None
    if r.status != 503:
        return None
    data: dict[str, object] = json.loads(body)
    return data


def _closed_by_server(s: socket.socket) -> tuple[bool, bytes]:
    """Whether the server closed `s` (within 5 s), and what it sent first."""
    s.settimeout(5)
    received = b""
    try:
        data = s.recv(4096)
        while data:  # a 503 first, or nothing, then the end
            received += data
            data = s.recv(4096)
        return True, received
    except ConnectionResetError:
        return True, received
    except TimeoutError:
        return False, received


def test_a_bad_worker_count_is_refused_with_its_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WORKERS", raising=False)
    with pytest.raises(SystemExit) as stopped:
        serving.main(["--workers", "0", "--prepare-only"])
    assert stopped.value.code == 2
    assert "WORKERS" in capsys.readouterr().err


def test_prepare_only_migrates_and_builds_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_logging: None
) -> None:
    # given a fresh VAR_DIR
    for name in ("DATABASE_URL", "REDIS_URL", "STORAGE_DIR", "SEARCH_ENGINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    # when
    assert serving.main(["--prepare-only"]) == 0
    # then the database is at the newest migration and the index is built
    assert (tmp_path / "app.sqlite3").exists()
    assert any((tmp_path / "index").rglob("*"))


def _workers(parent: int) -> list[bytes]:
    """The command lines of a supervisor's workers: forked ones carry the parent's,
    spawned ones multiprocessing's (its resource tracker left out)."""
    own = Path(f"/proc/{parent}/cmdline").read_bytes()
    children: set[int] = set()
    for task in Path(f"/proc/{parent}/task").iterdir():
        children.update(int(p) for p in (task / "children").read_text().split())
    commands = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in sorted(children)]
    return [c for c in commands if c == own or b"spawn_main" in c]


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_workers_are_forked_from_a_parent_that_loaded_the_app(tmp_path: Path, start: str) -> None:
    # given the production start with two workers
    with serve(tmp_path, args=["--workers", "2", "--start", start]) as served:
        deadline = time.monotonic() + 60
        while len(_workers(served.process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        commands = _workers(served.process.pid)
        parent = Path(f"/proc/{served.process.pid}/cmdline").read_bytes()
        c = served.connection()
        body = json.dumps({"query": "{ facilities(first: 1) { totalCount } }"})
        c.request("POST", "/graphql", body=body, headers={"content-type": "application/json"})
        r = c.getresponse()
        data = json.loads(r.read())
        c.close()
    # then the workers answer from the directory
    assert r.status == 200 and data["data"]["facilities"]["totalCount"] > 0
    if start == "fork":  # copies of the parent, which had loaded the app and the directory
        assert commands == [parent, parent]
    else:  # fresh interpreters, as uvicorn starts them (and multiprocessing's helper)
        assert len(commands) == 2 and all(b"spawn_main" in c for c in commands)


def test_a_preloaded_directory_is_what_load_directory_gives_for_the_same_settings(
    tmp_path: Path,
) -> None:
    from server.directory import loader
    from server.settings import Settings

    settings = Settings(environment="test", var_dir=tmp_path / "var")
    other = Settings(environment="test", var_dir=tmp_path / "other")
    kept = loader.load_directory(settings)
    try:
        loader.keep_preloaded(settings, kept)
        assert loader.load_directory(settings) is kept
        assert loader.load_directory(settings.with_(port=8001)) is kept
        assert loader.load_directory(other) is not kept
    finally:
        loader._preloaded = None
