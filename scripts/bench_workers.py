"""Requests/s of a trivial endpoint (/healthz) with 1 and 4 workers of the production start.

    .venv/bin/python -m scripts.bench_workers                      # 1 and 4 workers, 5 s each
    .venv/bin/python -m scripts.bench_workers --workers 1,2,4 --seconds 10 --stock

Each configuration is started afresh (`python -m server.serving`, SQLite and the curated
directory in a temporary VAR_DIR, LOG_LEVEL=WARNING so the access log is not measured),
then `wrk` keeps --connections keep-alive connections busy for --seconds. With --stock
the same is measured on plain `uvicorn --workers N` with asyncio's loop and its default
protocol, the start before this one: there every keep-alive response waited for the
client's delayed ACK (Nagle's algorithm). Needs `wrk` (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from server.settings import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(workers: int, var: Path, *, stock: bool) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = dict(
        os.environ,
        APP_ENV="test",
        VAR_DIR=str(var),
        LOG_LEVEL="WARNING",
        PORT=str(port),
        HOST="127.0.0.1",
        WORKERS=str(workers),
    )
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    if stock:
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "server.app:create_app",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--loop",
            "asyncio",
            "--http",
            "h11",
            "--log-level",
            "warning",
            "--no-access-log",
        ]
    else:
        argv = [sys.executable, "-m", "server.serving"]
    server = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            time.sleep(3 + workers)  # the other workers finish starting
            return server, port
        except OSError:
            if server.poll() is not None:
                raise SystemExit("the server did not start") from None
            time.sleep(0.3)
    stop(server)
    raise SystemExit("the server did not answer /healthz")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def measure(port: int, seconds: float, connections: int) -> float:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds:g}s",
            f"http://127.0.0.1:{port}/healthz",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m is None:
        raise SystemExit(f"wrk printed no figure:\n{out}")
    return float(m.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bench_workers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--workers", default="1,4", help="worker counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--stock", action="store_true", help="plain uvicorn too")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("needs wrk (apt-get install wrk)")
    counts = [int(n) for n in args.workers.split(",")]

    var = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    try:
        rows = []
        for stock in [False, True] if args.stock else [False]:
            for n in counts:
                server, port = start(n, var, stock=stock)
                try:
                    rate = measure(port, args.seconds, args.connections)
                finally:
                    stop(server)
                name = "uvicorn --workers (asyncio, h11)" if stock else "python -m server.serving"
                rows.append((name, n, rate))
                print(f"{name:34} {n} worker(s): {rate:8.0f} req/s", flush=True)
        print()
        print(
            f"| start | workers | /healthz requests/s ({args.connections} keep-alive connections) |"
        )
        print("|---|---|---|")
        for name, n, rate in rows:
            print(f"| `{name}` | {n} | {rate:.0f} |")
        return 0
    finally:
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
