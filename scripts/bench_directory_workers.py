"""Start time and memory of directory servers: one worker, then several.

For a synthetic directory of the given size (written under var/bench/ as
scripts/bench_directory.py does) and engine, with a VAR_DIR of its own kept between runs:

1. a cold start when that VAR_DIR holds no store or index yet (read and validate the
   CSVs, write the memory-mapped store, build the index), timed to the first /healthz;
2. warm starts of one server (the store and the index opened, nothing read or built),
   timed to the first /healthz, after a few searches: its resident memory;
3. uvicorn with ``--workers N``: after searches spread over the workers, each worker's
   resident memory (RSS), the part no other process shares (USS: private pages) and its
   proportional share (PSS), from /proc/<pid>/smaps_rollup (Linux).

An extra worker costs the machine about its USS: the pages it shares (the mapped store
and index, the interpreter's files) are in memory once however many workers map them,
though each worker's RSS counts them.

    .venv/bin/python -m scripts.bench_directory_workers --size 100k --engine whoosh --workers 4
    .venv/bin/python -m scripts.bench_directory_workers --size 100k --start uvicorn  # spawned

The several workers start as production starts them (`python -m server.serving`, workers
forked from a parent that loaded the application and the directory: `--start fork`) or
spawned (`--start spawn`, or plain `uvicorn --workers N`: `--start uvicorn`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from scripts.bench_directory import BENCH_DIR, GRAPHQL, SHANGHAI, TEXTS, ensure_synthetic
from server.settings import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _memory(pid: int) -> dict[str, float]:
    """RSS, PSS and USS (private) of a process in MB."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[-1] == "kB":
            fields[name.strip()] = int(parts[0])
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return {
        "rss_mb": round(fields.get("Rss", 0) / 1024, 1),
        "pss_mb": round(fields.get("Pss", 0) / 1024, 1),
        "uss_mb": round(uss / 1024, 1),
    }


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_until_started(pids: list[int], deadline: float) -> None:
    """Until no worker has used CPU for a second: all have finished starting, so the
    searches that follow are spread over all of them."""
    last = [_cpu_seconds(p) for p in pids]
    while time.time() < deadline:
        time.sleep(1.0)
        now = [_cpu_seconds(p) for p in pids]
        if all(b - a < 0.02 for a, b in zip(last, now, strict=True)):
            return
        last = now


def _children(pid: int) -> list[int]:
    """The worker processes of a uvicorn supervisor (not multiprocessing's helpers)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.update(int(p) for p in (task / "children").read_text().split())
        except OSError:
            continue
    workers = []
    for child in sorted(found):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        # spawned: a fresh interpreter; forked (server.serving): the parent's command line
        if b"spawn_main" in command or b"uvicorn" in command or b"server.serving" in command:
            workers.append(child)
    return workers


@contextlib.contextmanager
def _server(
    env: dict[str, str], workers: int, app_root: Path, start: str = "uvicorn"
) -> Iterator[tuple[int, int, float, float]]:
    """(port, pid, seconds to the first /healthz, the process's CPU seconds by then) of
    uvicorn serving the real app. On a loaded machine the CPU time is the steadier figure.
    `start`: plain `uvicorn --workers N` (spawned workers), or the production start
    `python -m server.serving` ("fork": workers forked from a parent that loaded the app
    and the directory; "spawn": its workers spawned)."""
    port = _free_port()
    if start != "uvicorn":
        command = [
            sys.executable,
            "-m",
            "server.serving",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--start",
            start,
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "server.app:create_app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
    if workers > 1 and start == "uvicorn":
        command += ["--workers", str(workers)]
    started = time.perf_counter()
    server = subprocess.Popen(command, cwd=app_root, env={**env, "PYTHONPATH": str(app_root)})
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit("the server stopped") from None
                time.sleep(0.05)
        yield port, server.pid, time.perf_counter() - started, _cpu_seconds(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)


def _searches(port: int, n: int) -> None:
    """n GraphQL searches (text, distance) on new connections, so all workers get some."""
    import random

    rnd = random.Random(5)
    for _ in range(n):
        body = {
            "query": GRAPHQL,
            "variables": {
                "text": rnd.choice(TEXTS),
                "near": {"lat": rnd.uniform(*SHANGHAI[0]), "lng": rnd.uniform(*SHANGHAI[1])},
                "sort": rnd.choice(["DISTANCE", "RELEVANCE"]),
            },
        }
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/graphql",
            data=json.dumps(body).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as r:
            r.read()


def _directory_open(env: dict[str, str], app_root: Path) -> dict[str, float]:
    """Seconds and MB of RSS to open the stored directory and its index, in a process of
    its own (imports and the search analysis loaded first, so not counted)."""
    code = """
import json, time
from pathlib import Path
def rss():
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith('VmRSS'):
            return int(line.split()[1]) / 1024
from server.directory.loader import load_directory
from server.search import analysis
from server.search.factory import open_engine
from server.settings import from_env
settings = from_env()
analysis.initialize()
before, t = rss(), time.perf_counter()
directory = load_directory(settings)
loaded = time.perf_counter() - t
engine = open_engine(settings, directory)
opened = time.perf_counter() - t
print(json.dumps({"directory_s": round(loaded, 3), "with_index_s": round(opened, 3),
                  "rss_added_mb": round(rss() - before, 1), "facilities": len(directory)}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "PYTHONPATH": str(app_root)},
        cwd=app_root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bench_directory_workers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--size", default="100k", help="10k, 100k or 1m")
    parser.add_argument("--engine", default="whoosh")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--start",
        choices=("uvicorn", "fork", "spawn"),
        default="fork",
        help="how the several workers start: `uvicorn --workers N`, or `python -m "
        "server.serving --start fork|spawn` (the production start)",
    )
    parser.add_argument("--warm-starts", type=int, default=3)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument(
        "--app-root",
        type=Path,
        default=ROOT,
        help="the checkout whose server is started (to compare with another version)",
    )
    args = parser.parse_args(argv)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    folder = ensure_synthetic(args.size)
    var = BENCH_DIR / f"var-{args.size}-{args.engine}-{args.app_root.name}"
    env = dict(
        os.environ,
        APP_ENV="test",
        DIRECTORY_SOURCE=str(folder.resolve()),
        SEARCH_ENGINE=args.engine,
        VAR_DIR=str(var.resolve()),
        RESPONSE_CACHE_MB="0",  # memory of the directory, not of cached answers
        NOTIFIER="off",
    )
    env.pop("REDIS_URL", None)
    results: dict[str, object] = {
        "size": args.size,
        "engine": args.engine,
        "app_root": str(args.app_root),
    }

    with _server(env, 1, args.app_root) as (_, _, seconds, cpu):
        results["first_start_s"] = round(seconds, 2)  # cold unless var/ was kept
        results["first_start_cpu_s"] = round(cpu, 2)
    print(
        f"first start (cold unless {var} held a store and index): {seconds:.2f} s, CPU {cpu:.2f} s",
        flush=True,
    )

    results["directory_open"] = _directory_open(env, args.app_root)
    print(f"directory store opened in process: {results['directory_open']}", flush=True)

    warm: list[float] = []
    warm_cpu: list[float] = []
    one: dict[str, float] = {}
    for _ in range(args.warm_starts):
        with _server(env, 1, args.app_root) as (port, pid, seconds, cpu):
            warm.append(seconds)
            warm_cpu.append(cpu)
            _searches(port, args.searches // 4)
            one = _memory(pid)
    results["warm_start_s"] = [round(s, 2) for s in warm]
    results["warm_start_cpu_s"] = [round(s, 2) for s in warm_cpu]
    results["one_worker"] = one
    print(
        f"warm start: {', '.join(f'{s:.2f}' for s in warm)} s (median {statistics.median(warm):.2f} s)"
    )
    print(f"one worker after searches: {one}", flush=True)

    results["start"] = args.start
    with _server(env, args.workers, args.app_root, args.start) as (port, pid, seconds, _):
        deadline = time.time() + 600
        while len(_children(pid)) < args.workers and time.time() < deadline:
            time.sleep(0.1)
        _wait_until_started(_children(pid), deadline)
        _searches(port, args.searches)
        workers = [_memory(child) for child in _children(pid)]
        # the supervisor: with forked workers it holds the pages they share
        results["parent"] = _memory(pid)
        results["workers_start_s"] = round(seconds, 2)
    results["workers"] = workers
    for i, w in enumerate(workers):
        print(f"worker {i + 1} of {args.workers}: {w}")
    uss = [w["uss_mb"] for w in workers]
    rss = [w["rss_mb"] for w in workers]
    results["mean_worker_uss_mb"] = round(statistics.mean(uss), 1)
    results["mean_worker_rss_mb"] = round(statistics.mean(rss), 1)
    results["total_pss_mb"] = round(sum(w["pss_mb"] for w in workers), 1)
    parent_pss = results["parent"]["pss_mb"]  # type: ignore[index]
    print(
        f"per worker: RSS {statistics.mean(rss):.0f} MB, private (USS) {statistics.mean(uss):.0f} MB; "
        f"all {args.workers} workers together (PSS): {results['total_pss_mb']:.0f} MB, "
        f"with the supervisor: {results['total_pss_mb'] + parent_pss:.0f} MB"  # type: ignore[operator]
    )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
