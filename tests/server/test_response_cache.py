from __future__ import annotations

import threading

from server.response_cache import MemoryCache, ResponseCache


def test_least_recently_used_answers_go_first_within_the_byte_bound() -> None:
    # given room for about three answers of 100 bytes (keys counted too)
    cache = MemoryCache(max_bytes=330, largest=330)
    value = b"x" * 100
    for key in ("a", "b", "c"):
        cache.put(key * 10, value)
    assert cache.get("a" * 10) == value  # a is now the most recently used
    cache.put("d" * 10, value)
    # then b, the least recently used, went; the total stays within the bound
    assert cache.get("b" * 10) is None
    assert cache.get("a" * 10) == value and cache.get("d" * 10) == value
    assert cache.size_bytes <= 330


def test_an_answer_too_large_for_its_share_is_not_kept() -> None:
    cache = MemoryCache(max_bytes=1600)
    cache.put("k", b"x" * 200)
    assert cache.get("k") is None and len(cache) == 0
    cache.put("k", b"x" * 90)
    assert cache.get("k") == b"x" * 90


def test_replacing_an_answer_counts_its_bytes_once() -> None:
    cache = MemoryCache(max_bytes=16 * 1000)
    cache.put("k", b"x" * 100)
    cache.put("k", b"y" * 50)
    assert cache.size_bytes == 51 and cache.get("k") == b"y" * 50


def test_concurrent_puts_keep_the_bound() -> None:
    cache = MemoryCache(max_bytes=16 * 1000)

    def fill(n: int) -> None:
        for i in range(2000):
            cache.put(f"{n}-{i}", b"x" * (i % 90))
            cache.get(f"{n}-{i - 1}")

    threads = [threading.Thread(target=fill, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.size_bytes <= cache.max_bytes
    assert cache.size_bytes == sum(len(k) + len(v) for k, v in cache._entries.items())


class BrokenRedis:
    def __init__(self) -> None:
        self.calls = 0

    def get(self, key: str) -> bytes | None:
        self.calls += 1
        raise ConnectionError("down")

    def set(self, key: str, value: bytes, ex: int) -> None:
        self.calls += 1
        raise ConnectionError("down")


def test_a_failing_redis_is_left_alone_for_a_while() -> None:
    redis = BrokenRedis()
    cache = ResponseCache(MemoryCache(16 * 1000), redis)
    assert cache.get("k") is None
    cache.put("k", b"v")
    assert cache.get("other") is None
    assert redis.calls == 1  # not asked again straight away
    assert cache.get("k") == b"v"  # the process's own answers still serve
