"""Deliver queued SMS and e-mail notifications (the notification outbox) until stopped.

Uses the configured database (DATABASE_URL or var/), the SMS gateway (SMS_GATEWAY_URL;
empty: the development outbox table) and the mail server (SMTP_*; empty: the log).
Several copies may run at once: a message is claimed (FOR UPDATE SKIP LOCKED on
PostgreSQL) in a short transaction, delivered outside any transaction under
NOTIFY_CONNECT_TIMEOUT and SMTP_TIMEOUT / SMS_GATEWAY_TIMEOUT, and its result written in
another; SMS and e-mail are delivered side by side, so a stuck mail server holds no SMS.

    .venv/bin/python -m scripts.run_notifier            # every 5 s until SIGTERM / Ctrl-C
    .venv/bin/python -m scripts.run_notifier --once     # one round, then exit
"""

from __future__ import annotations

import argparse
import signal
import threading

from server.crypto import vault_for
from server.db import make_engine, make_sessionmaker, migrate, utcnow
from server.logs import configure_logging
from server.notify.email import make_email_sender
from server.notify.sms import make_sender
from server.notify.worker import deliver_round, run_forever
from server.settings import from_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.run_notifier", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between rounds")
    parser.add_argument(
        "--batch", type=int, default=50, help="messages per channel and round at most"
    )
    parser.add_argument("--once", action="store_true", help="deliver what is due and exit")
    args = parser.parse_args(argv)
    if args.interval <= 0 or args.batch <= 0:
        parser.error("--interval and --batch must be positive")

    settings = from_env()
    configure_logging(settings)
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    factory = make_sessionmaker(engine)
    vault = vault_for(settings.secret_key, settings.encryption_key)
    sms = make_sender(
        settings.sms_gateway_url,
        vault,
        timeout=settings.sms_gateway_timeout,
        connect_timeout=settings.notify_connect_timeout,
    )
    email = make_email_sender(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_from,
        user=settings.smtp_user,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout,
        connect_timeout=settings.notify_connect_timeout,
    )
    try:
        if args.once:
            report = deliver_round(factory, sms, email, utcnow(), vault=vault, batch=args.batch)
            print(
                f"sent {len(report.sent)}, retrying {len(report.retrying)}, "
                f"failed {len(report.failed)}"
            )
            return 0
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        run_forever(
            factory, sms, email, vault=vault, interval=args.interval, batch=args.batch, stop=stop
        )
        return 0
    finally:
        engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
