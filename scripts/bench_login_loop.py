"""Does the event loop keep serving while members log in? /healthz latency with and
without `--clients` (default 8) clients logging in at once.

A one-worker uvicorn serves the app (PostgreSQL, a schema of its own dropped at the end).
First /healthz alone for `--seconds`; then the same while each client posts `logIn` in a
loop (each try with a fresh fictional mobile, so every try reaches argon2 and none is
throttled). Prints /healthz p50/p95/max in ms for both phases, and log-ins per second.

    .venv/bin/python -m scripts.bench_login_loop
    .venv/bin/python -m scripts.bench_login_loop --source /tmp/older-tree   # another tree

`--source` runs the server from another checkout of the code (e.g. `git archive` of an
older commit unpacked somewhere), for before/after figures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import secrets
import statistics
import threading
import time
import uuid
from pathlib import Path
from tempfile import TemporaryDirectory

from scripts.bench_claims import DEFAULT_DB, drop, start_server, stop_server
from server.settings import ROOT

LOGIN = json.dumps(
    {
        "query": 'mutation($m: String!) { logIn(input: {mobile: $m, password: "Bench2026!x"}) '
        "{ __typename } }",
        "variables": {"m": "13700000000"},
    }
)


def _percentiles(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    if not ordered:
        return (0.0, 0.0, 0.0)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered), p95, ordered[-1]


def probe(port: int, until: float) -> list[float]:
    """/healthz one after another until `until`; latencies in ms."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies = []
    while time.time() < until:
        start = time.perf_counter()
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        latencies.append((time.perf_counter() - start) * 1000)
        time.sleep(0.01)
    conn.close()
    return latencies


def log_in_loop(port: int, until: float, counts: dict[str, int], lock: threading.Lock) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while time.time() < until:
        body = LOGIN.replace("13700000000", f"137{secrets.randbelow(10**8):08d}")
        conn.request("POST", "/graphql", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        ok = response.status == 200 and b"LoginFailedError" in data
        with lock:
            counts["ok" if ok else "other"] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--source", type=Path, default=ROOT, help="the code tree to serve")
    args = parser.parse_args()

    schema = f"bench_login_{uuid.uuid4().hex[:8]}"
    from sqlalchemy import create_engine, text

    with create_engine(args.database_url).begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        with TemporaryDirectory() as var:
            server, port = start_server(
                args.database_url, schema, 1, Path(var), cwd=args.source.resolve()
            )
            try:
                # warm up: a first log-in builds the hasher's state and the schema caches
                counts = {"ok": 0, "other": 0}
                log_in_loop(port, time.time() + 1, counts, threading.Lock())
                idle = probe(port, time.time() + args.seconds)

                until = time.time() + args.seconds
                counts = {"ok": 0, "other": 0}
                lock = threading.Lock()
                clients = [
                    threading.Thread(target=log_in_loop, args=(port, until, counts, lock))
                    for _ in range(args.clients)
                ]
                for c in clients:
                    c.start()
                busy = probe(port, until)
                for c in clients:
                    c.join()
            finally:
                stop_server(server)
    finally:
        drop(args.database_url, schema)

    print(f"code: {args.source.resolve()}")
    print("phase | /healthz requests | p50 ms | p95 ms | max ms | log-ins/s | other answers")
    for name, latencies, logins in (
        ("idle", idle, None),
        (f"{args.clients} clients logging in", busy, counts),
    ):
        p50, p95, top = _percentiles(latencies)
        rate = f"{logins['ok'] / args.seconds:.1f}" if logins else "-"
        other = str(logins["other"]) if logins else "-"
        print(f"{name} | {len(latencies)} | {p50:.1f} | {p95:.1f} | {top:.1f} | {rate} | {other}")


if __name__ == "__main__":
    main()
