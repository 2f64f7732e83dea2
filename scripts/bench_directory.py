"""Directory search benchmark.

For each size (10k, 100k, 1M synthetic facilities) and each engine: index build
time, then p50/p95 of in-process searches of three shapes: text, text + distance
sort, distance only. With --http (each size and engine): requests/s of the GraphQL search
endpoint against a plain Starlette + orjson endpoint making the same service call,
both served by uvicorn in a subprocess and loaded by `wrk` over loopback in alternating
2-second rounds (requests/s, and requests per CPU second of the server process).

    .venv/bin/python -m scripts.bench_directory --sizes 10k,100k,1m --engines whoosh,tantivy --http

--clock cpu times each search by its thread's CPU time instead of the wall clock: on a
shared, loaded machine the wall clock measures the wait for a core as much as the search.

Synthetic directories are written under var/bench/ and never served as real data.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.directory.loader import load_folder
from server.directory.models import FacilityKind
from server.directory.service import DirectoryService, FacilityQuery, Sort
from server.ids import global_id
from server.search import analysis
from server.search.factory import build_engine
from server.settings import ROOT

BENCH_DIR = ROOT / "var" / "bench"
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}

# Realistic words: hospital name parts, specialties and places, in the three scripts.
TEXTS = [
    "医院",
    "中医",
    "口腔",
    "儿童",
    "妇幼",
    "人民医院",
    "社区卫生服务中心",
    "门诊部",
    "诊所",
    "第一",
    "浦东",
    "闵行",
    "hospital",
    "clinic",
    "dental",
    "children",
    "renmin",
    "zhongyi",
    "kouqiang",
    "内分泌科",
    "肿瘤科",
    "眼科",
    "Pudong",
    "community health",
]
# What a foreign client types: half-typed, mistyped, spaced or apostrophed pinyin and
# English, and English words of the synonym table. They go through the lexicon's
# completions and one-typo neighbours, which real words skip.
FORGIVING = [
    "renj",
    "hospitl",
    "clinc",
    "zhongy",
    "kouqaing",
    "ren min",
    "Jing'an",
    "pudng",
    "childern",
    "emergency",
    "dental",
    "minhan",
    "hosp",
    "communty helth",
]
SHANGHAI = ((30.9, 31.45), (121.2, 121.75))

GRAPHQL = (
    "query($text: String, $near: GeoPointInput, $sort: FacilitySort) { facilities(text: $text, "
    "near: $near, sort: $sort, first: 20) { totalCount edges { distanceKm node { id nameZh nameEn "
    "addressZh district location { lat lng } ownership grade category departments { zh en } phone } } } }"
)


def ensure_synthetic(size: str) -> Path:
    folder = BENCH_DIR / size
    if not (folder / "facilities.csv").exists():
        from scripts.generate_synthetic import generate

        t = time.perf_counter()
        generate(SIZES[size], folder, seed=7)
        print(f"  generated {size} in {time.perf_counter() - t:.1f} s", flush=True)
    return folder


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return p50 * 1000, p95 * 1000


def queries(n: int, seed: int) -> list[tuple[str, FacilityQuery]]:
    rnd = random.Random(seed)
    out: list[tuple[str, FacilityQuery]] = []
    for _ in range(n):
        near = (rnd.uniform(*SHANGHAI[0]), rnd.uniform(*SHANGHAI[1]))
        text = rnd.choice(TEXTS)
        out.append(("text", FacilityQuery(text=text, limit=20)))
        out.append(
            ("text+distance", FacilityQuery(text=text, near=near, sort=Sort.DISTANCE, limit=20))
        )
        out.append(("distance", FacilityQuery(near=near, sort=Sort.DISTANCE, limit=20)))
        typed = rnd.choice(FORGIVING)
        out.append(("forgiving", FacilityQuery(text=typed, limit=20)))
        out.append(
            (
                "forgiving+distance",
                FacilityQuery(text=typed, near=near, sort=Sort.DISTANCE, limit=20),
            )
        )
        # a list page: the search on one list and the counts of the other lists
        kind = rnd.choice(list(FacilityKind))
        out.append(("list page", FacilityQuery(text=typed, kind=kind, limit=20)))
    return out


def bench_engine(
    size: str, engine_name: str, n: int, clock: Any = time.perf_counter
) -> dict[str, object]:
    folder = ensure_synthetic(size)
    t = time.perf_counter()
    directory = load_folder(folder, allow_synthetic=True)
    load_s = time.perf_counter() - t
    index = Path(tempfile.mkdtemp(prefix=f"bench-{engine_name}-", dir=BENCH_DIR))
    try:
        t = time.perf_counter()
        engine = build_engine(engine_name, directory, index / "ix")
        build_s = time.perf_counter() - t
        service = DirectoryService(directory, engine)
        qs = queries(n, seed=11)
        for _, q in qs[:30]:  # warm caches
            service.search(q)
        samples: dict[str, list[float]] = {
            "text": [],
            "text+distance": [],
            "distance": [],
            "forgiving": [],
            "forgiving+distance": [],
            "list page": [],
        }
        shown: dict[str, list[float]] = {"text+distance": [], "distance": []}
        for shape, q in qs:
            t = clock()
            page = service.search(q)
            if shape == "list page":
                service.other_lists(q)
            samples[shape].append(clock() - t)
            if shape in shown:  # and with the geodesic km of the 20 rows, as a page shows them
                [r.distance_km for r in page.results]
                shown[shape].append(clock() - t)
        engine.close()
    finally:
        shutil.rmtree(index, ignore_errors=True)
    result: dict[str, object] = {
        "size": size,
        "engine": engine_name,
        "load_s": round(load_s, 2),
        "build_s": round(build_s, 2),
    }
    for shape, values in samples.items():
        p50, p95 = percentiles(values)
        result[shape] = {"p50_ms": round(p50, 2), "p95_ms": round(p95, 2), "n": len(values)}
    for shape, values in shown.items():
        p50, p95 = percentiles(values)
        result[shape + " shown"] = {"p50_ms": round(p50, 2), "p95_ms": round(p95, 2)}
    return result


# Places a visitor types instead of sharing a position (the gazetteer's worst cases too)
PLACES = [
    "Pudong",
    "浦东",
    "Jing'an",
    "Middle Shandong Road",
    "上海市黄浦区山东中路145号",
    "Huashan Hospital",
    "renji hosp",
    "No. 12 Middle Urumqi Road, Jing'an District",
    "a b " * 25,
    "浦" * 100,
]


def bench_places(n: int, clock: Any = time.perf_counter) -> dict[str, object]:
    """Resolving typed places from the gazetteer, as the H5 form and `places` do."""
    from server.directory.places import load_gazetteer
    from server.settings import Settings

    gazetteer = load_gazetteer(Settings(environment="test").data_dir)
    samples = []
    for i in range(n * len(PLACES)):
        text = PLACES[i % len(PLACES)]
        t = clock()
        gazetteer.find(text, 5)
        samples.append(clock() - t)
    p50, p95 = percentiles(samples)
    return {
        "places": len(gazetteer),
        "p50_ms": round(p50, 3),
        "p95_ms": round(p95, 3),
        "n": len(samples),
    }


# ---- HTTP: GraphQL vs a plain endpoint over the same service call ---------------------------


def bench_app():  # type: ignore[no-untyped-def]
    """uvicorn factory: the real app plus /plain/facilities (orjson, no GraphQL)."""
    from server.app import create_app
    from server.settings import from_env

    app = create_app(from_env())
    service: DirectoryService = app.state.services.directory

    async def plain(request: Request) -> Response:
        body = orjson.loads(await request.body())
        v = body.get("variables") or {}
        near = v.get("near")
        page = service.search(
            FacilityQuery(
                text=v.get("text"),
                near=(near["lat"], near["lng"]) if near else None,
                sort=Sort.DISTANCE if v.get("sort") == "DISTANCE" else Sort.RELEVANCE,
                limit=20,
            )
        )
        edges = [
            {
                "distanceKm": r.distance_km,
                "node": {
                    "id": global_id("Facility", r.facility.id),
                    "nameZh": r.facility.name_zh,
                    "nameEn": r.facility.name_en,
                    "addressZh": r.facility.address_zh,
                    "district": r.facility.district,
                    "location": {"lat": r.facility.lat, "lng": r.facility.lng},
                    "ownership": r.facility.ownership.name,
                    "grade": r.facility.grade,
                    "category": r.facility.category.name,
                    "departments": [{"zh": d.zh, "en": d.en} for d in r.facility.departments],
                    "phone": r.facility.phone,
                },
            }
            for r in page.results
        ]
        data = {"data": {"facilities": {"totalCount": page.total, "edges": edges}}}
        return Response(orjson.dumps(data), media_type="application/json")

    app.router.routes.append(Route("/plain/facilities", plain, methods=["POST"]))
    return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wrk(url: str, body: dict[str, object], seconds: int) -> int:
    """Requests completed by `wrk -t1 -c8` in `seconds`."""
    lua = Path(tempfile.mkstemp(suffix=".lua")[1])
    lua.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n",
        encoding="utf-8",
    )
    out = subprocess.run(
        ["wrk", "-t1", "-c8", f"-d{seconds}s", "-s", str(lua), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lua.unlink()
    for line in out.splitlines():
        if " requests in " in line:
            return int(line.split()[0])
    raise RuntimeError(out)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _serve(env: dict[str, str]) -> Iterator[tuple[int, int]]:
    """uvicorn (one worker) on a free loopback port: (port, pid) once it answers."""
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "scripts.bench_directory:bench_app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.time() + 3600
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit("the benchmark server stopped") from None
                time.sleep(0.5)
        yield port, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


BODY: dict[str, object] = {
    "query": GRAPHQL,
    "variables": {"text": "医院", "near": {"lat": 31.23, "lng": 121.47}},
}


def bench_http(size: str, engine_name: str, seconds: int) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("the HTTP benchmark needs wrk (apt-get install wrk)")
    folder = ensure_synthetic(size)
    var = Path(tempfile.mkdtemp(prefix="bench-var-", dir=BENCH_DIR))
    env = dict(
        os.environ,
        APP_ENV="test",
        # the load comes from one address: cost budgets out of the way of the figures
        GRAPHQL_ANONYMOUS_BUDGET=str(10**9),
        GRAPHQL_SIGNED_IN_BUDGET=str(10**9),
        DIRECTORY_SOURCE=str(folder),
        SEARCH_ENGINE=engine_name,
        VAR_DIR=str(var),
    )
    env.pop("REDIS_URL", None)  # one worker: the in-process cache is what is measured
    try:
        # uncached: every GraphQL request is executed, as a query not seen before would be
        with _serve({**env, "RESPONSE_CACHE_MB": "0"}) as (port, pid):
            endpoints = {"graphql": "/graphql", "plain": "/plain/facilities"}
            for path in endpoints.values():
                _wrk(f"http://127.0.0.1:{port}{path}", BODY, 2)  # warm-up
            # Alternating 2-second rounds, so that other load on the machine falls on both
            # endpoints alike; the server's own CPU time gives a second, load-independent
            # figure.
            requests = dict.fromkeys(endpoints, 0)
            cpu = dict.fromkeys(endpoints, 0.0)
            rounds = max(1, seconds // 2)
            for _ in range(rounds):
                for name, path in endpoints.items():
                    before = _cpu_seconds(pid)
                    requests[name] += _wrk(f"http://127.0.0.1:{port}{path}", BODY, 2)
                    cpu[name] += _cpu_seconds(pid) - before
        # cached: the same query again and again, answered by the response cache (the
        # index built above is reused)
        with _serve(env) as (port, pid):
            url = f"http://127.0.0.1:{port}/graphql"
            _wrk(url, BODY, 1)  # warm-up, and the answer cached
            before = _cpu_seconds(pid)
            cached = _wrk(url, BODY, seconds)
            cached_cpu = _cpu_seconds(pid) - before
    finally:
        shutil.rmtree(var, ignore_errors=True)
    rps = {name: requests[name] / (2 * rounds) for name in endpoints}
    per_cpu = {name: requests[name] / cpu[name] if cpu[name] else 0.0 for name in endpoints}
    return {
        "size": size,
        "engine": engine_name,
        "graphql_rps": round(rps["graphql"], 1),
        "plain_rps": round(rps["plain"], 1),
        "ratio": round(rps["graphql"] / rps["plain"], 3),
        "graphql_per_cpu_s": round(per_cpu["graphql"], 1),
        "plain_per_cpu_s": round(per_cpu["plain"], 1),
        "cpu_ratio": round(per_cpu["graphql"] / per_cpu["plain"], 3) if per_cpu["plain"] else None,
        "cached_rps": round(cached / seconds, 1),
        "cached_per_cpu_s": round(cached / cached_cpu, 1) if cached_cpu else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bench_directory",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", default="10k,100k,1m")
    parser.add_argument("--engines", default="whoosh,tantivy")
    parser.add_argument("--queries", type=int, default=200, help="queries of each shape")
    parser.add_argument(
        "--http",
        action="store_true",
        help="also measure GraphQL vs plain req/s, for each of --sizes and --engines",
    )
    parser.add_argument("--http-seconds", type=int, default=10)
    parser.add_argument(
        "--http-only", action="store_true", help="only the HTTP part (implies --http)"
    )
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="time searches by the wall clock, or by the CPU time of the searching thread "
        "(steadier on a machine other work shares)",
    )
    parser.add_argument(
        "--places", action="store_true", help="also time typed places against the gazetteer"
    )
    args = parser.parse_args(argv)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if args.places:
        clock = time.thread_time if args.clock == "cpu" else time.perf_counter
        print(json.dumps(bench_places(50, clock)), flush=True)
    analysis.initialize()
    rows = []
    args.http = args.http or args.http_only
    sizes = [x.strip() for x in args.sizes.split(",") if x.strip()]
    engines = [x.strip() for x in args.engines.split(",") if x.strip()]
    for size in sizes if not args.http_only else []:
        for engine in engines:
            clock = time.thread_time if args.clock == "cpu" else time.perf_counter
            row = bench_engine(size.strip(), engine.strip(), args.queries, clock)
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    print()
    shapes = (
        "text",
        "text+distance",
        "distance",
        "text+distance shown",
        "distance shown",
        "forgiving",
        "forgiving+distance",
        "list page",
    )
    print(
        "| size | engine | load s | build s | text p50/p95 ms | text+distance p50/p95 ms "
        "| distance p50/p95 ms | text+distance, km shown | distance, km shown "
        "| forgiving text | forgiving text+distance | list page with other lists' counts |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        cells = [f"{r[s]['p50_ms']} / {r[s]['p95_ms']}" for s in shapes]  # type: ignore[index]
        print(
            f"| {r['size']} | {r['engine']} | {r['load_s']} | {r['build_s']} | "
            + " | ".join(cells)
            + " |"
        )
    if args.http:
        for size in args.sizes.split(","):
            for engine in args.engines.split(","):
                h = bench_http(size.strip(), engine.strip(), args.http_seconds)
                print()
                print(json.dumps(h))
                print(
                    f"{h['size']} {h['engine']}: GraphQL {h['graphql_rps']} req/s vs plain "
                    f"{h['plain_rps']} req/s: {h['ratio'] * 100:.0f} %"
                )
                if h["cpu_ratio"] is not None:
                    print(
                        f"per server CPU second: GraphQL {h['graphql_per_cpu_s']} vs plain "
                        f"{h['plain_per_cpu_s']}: {h['cpu_ratio'] * 100:.0f} %"
                    )
                print(
                    f"cached repeated GraphQL query: {h['cached_rps']} req/s "
                    f"({h['cached_per_cpu_s']} per server CPU second)"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
