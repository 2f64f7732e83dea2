"""What storing a photo costs: a real-size 12-megapixel phone photo and a small one.

    .venv/bin/python -m scripts.bench_images              # 9 rounds each
    .venv/bin/python -m scripts.bench_images --rounds 21

The phone photo is made as `scripts/bench_claims.py` makes it (4000×3000, about 3.5 MB,
EXIF orientation 6). Prints CPU milliseconds of this process (min and median of the
rounds): `store_upload` as a whole (hashing, decoding, turning upright, encoding the
image and its thumbnail, writing both to local storage in a temporary folder) and its
image steps alone, in memory.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from scripts.bench_claims import phone_photo, photo
from server.storage import LocalStorage, store_upload
from server.storage.uploads import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_MAX_SIDE,
    JPEG,
    _decode,
    _flatten,
    _thumbnail,
)


def cpu_ms(work: Callable[[], object], rounds: int) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        started = time.process_time()
        work()
        times.append((time.process_time() - started) * 1000)
    return min(times), statistics.median(times)


def measure(storage: LocalStorage, folder: Path, title: str, data: bytes, rounds: int) -> None:
    path = folder / "in.jpg"
    path.write_bytes(data)
    stored = store_upload(storage, data)
    print(
        f"{title}: {len(data) / 1e6:.2f} MB in, stored {stored.width}×{stored.height}"
        f" {stored.size / 1e6:.2f} MB + thumbnail"
    )
    image = _decode(path, JPEG, DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE)

    def decode() -> None:
        _decode(path, JPEG, DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE)

    def encode() -> None:
        _flatten(image).save(io.BytesIO(), "JPEG", quality=88)

    def thumbnail() -> None:
        _thumbnail(image).save(io.BytesIO(), "JPEG", quality=80)

    def reencode() -> None:
        decode()
        encode()
        thumbnail()

    steps: list[tuple[str, Callable[[], object]]] = [
        ("store_upload, all of it", lambda: store_upload(storage, data)),
        ("re-encoded with its thumbnail, in memory", reencode),
        ("  decode (draft scale) and turn upright", decode),
        ("  encode, quality 88", encode),
        ("  thumbnail, made and encoded", thumbnail),
    ]
    for name, work in steps:
        low, mid = cpu_ms(work, rounds)
        print(f"  {name:44s} min {low:6.1f} ms  median {mid:6.1f} ms CPU")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_images", description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        storage = LocalStorage(Path(folder) / "store")
        measure(storage, Path(folder), "12 MP phone photo, 4000×3000", phone_photo(), args.rounds)
        measure(storage, Path(folder), "small photo, 640×480", photo(3), args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
