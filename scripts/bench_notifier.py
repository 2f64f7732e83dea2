"""The notifier against a mail server that accepts and never answers, on SQLite.

A SQLite file as `make serve` has it; the notifier runs (`run_forever`, SMTP_TIMEOUT and
NOTIFY_CONNECT_TIMEOUT as given) while a mail server on loopback accepts connections and
never says a word, with e-mails queued ahead of SMS. Meanwhile a member-like writer
commits one small write every 50 ms (write first: a transaction that reads and then writes
can be refused by SQLite when any other writer is active, notifier or not). Prints the writes' p50/p95/max latency and
failures, and how long each SMS queued behind the e-mails took to leave.

    .venv/bin/python -m scripts.bench_notifier                 # 10 s
    .venv/bin/python -m scripts.bench_notifier --seconds 20 --emails 5
"""

from __future__ import annotations

import argparse
import datetime
import socket
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from server.crypto import Vault
from server.db import make_engine, make_sessionmaker, migrate, utcnow
from server.notify.email import SmtpEmailSender
from server.notify.outbox import Notification, Status, enqueue
from server.notify.sms import OutboxSender
from server.notify.worker import RetryPolicy, run_forever


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bench_notifier", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--emails", type=int, default=3, help="e-mails queued ahead of the SMS")
    parser.add_argument("--sms", type=int, default=3)
    parser.add_argument("--smtp-timeout", type=float, default=30)
    parser.add_argument("--connect-timeout", type=float, default=3)
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="bench-notifier-"))
    engine = make_engine(f"sqlite:///{folder / 'app.sqlite3'}")
    migrate(engine)
    factory = make_sessionmaker(engine)
    vault = Vault("bench-notifier")
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (the backlog), never answers
    port = silent.getsockname()[1]
    now = utcnow()
    with factory() as s:
        for i in range(args.emails):
            enqueue(s, "email", f"m{i}@example.com", "主题", "正文", f"e{i}", vault=vault, now=now)
        for i in range(args.sms):
            enqueue(s, "sms", f"1391234{i:04d}", "", "短信", f"s{i}", vault=vault, now=now)
        s.commit()
    mailer = SmtpEmailSender(
        "127.0.0.1",
        port,
        "claims@insurer.example",
        timeout=args.smtp_timeout,
        connect_timeout=args.connect_timeout,
    )
    stop = threading.Event()
    policy = RetryPolicy(first_delay=datetime.timedelta(hours=1))
    worker = threading.Thread(
        target=run_forever,
        args=(factory, OutboxSender(vault), mailer),
        kwargs={"vault": vault, "interval": 0.1, "stop": stop, "policy": policy},
    )
    started = time.monotonic()
    worker.start()
    latencies: list[float] = []
    failures = 0
    sms_left: dict[str, float] = {}
    n = 0
    while time.monotonic() - started < args.seconds:
        t = time.monotonic()
        try:
            with factory() as s:  # a member's write, write first (as BEGIN IMMEDIATE would)
                s.add(
                    Notification(
                        channel="sms",
                        recipient_enc="-",
                        recipient_hash="-",
                        subject="",
                        body_enc="-",
                        status=Status.SENT,
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                        dedupe_key=f"w{n}",
                    )
                )
                s.commit()
            latencies.append((time.monotonic() - t) * 1000)
        except OperationalError:
            failures += 1
        n += 1
        with factory() as s:
            for key in s.scalars(
                select(Notification.dedupe_key).where(
                    Notification.status == Status.SENT, Notification.dedupe_key.like("s%")
                )
            ):
                sms_left.setdefault(key, time.monotonic() - started)
        time.sleep(0.05)
    stop.set()
    silent.close()
    worker.join(args.smtp_timeout + 10)
    engine.dispose()
    print(
        f"member writes: {len(latencies)} ok, {failures} failed; latency p50 "
        f"{percentile(latencies, 0.5):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms, "
        f"max {max(latencies, default=0):.1f} ms"
    )
    left = sorted(sms_left.values())
    print(
        f"SMS queued behind {args.emails} hung e-mails: {len(left)}/{args.sms} sent, "
        f"after {', '.join(f'{v:.2f}' for v in left)} s"
    )
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
