"""Load the plan administrator's outpatient totals (spending outside the platform) per year.

The university plan decides what is claimed online by the calendar year's outpatient total
(seed 002 §三); what members spent before using the platform, or at the office, comes from
the plan administrator as a CSV file with the header `id_number,year,amount` (amount in
yuan). A bad row refuses the whole file; a person not insured here is skipped and reported
by line number. ID numbers are never printed.

    .venv/bin/python -m scripts.load_outpatient_totals totals-2026.csv --source "医保办 2026-03"
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from server.claims.outpatient_year import load_totals
from server.crypto import vault_for
from server.db import make_engine, make_sessionmaker, migrate, unit_of_work, utcnow
from server.errors import ValidationFailed
from server.settings import from_env

HEADER = ["id_number", "year", "amount"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.load_outpatient_totals", description=__doc__.splitlines()[0]
    )
    parser.add_argument("file", type=Path, help="CSV: id_number,year,amount")
    parser.add_argument("--source", required=True, help="where the figures come from")
    args = parser.parse_args(argv)
    try:
        with args.file.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            if header != HEADER:
                print(
                    f"load_outpatient_totals: the header must be {','.join(HEADER)}",
                    file=sys.stderr,
                )
                return 1
            rows = []
            for line, row in enumerate(reader, start=2):
                if not row or not any(cell.strip() for cell in row):
                    continue
                if len(row) != 3:
                    print(
                        f"load_outpatient_totals: line {line}: 3 columns expected", file=sys.stderr
                    )
                    return 1
                rows.append((line, row[0], row[1], row[2]))
    except OSError as e:
        print(f"load_outpatient_totals: {e.strerror}: {args.file}", file=sys.stderr)
        return 1
    settings = from_env()
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine)
        vault = vault_for(settings.secret_key, settings.encryption_key)
        with unit_of_work(make_sessionmaker(engine)) as db:
            report = load_totals(db, vault, rows, source=args.source, now=utcnow())
    except ValidationFailed as e:
        for p in e.problems:
            print(f"load_outpatient_totals: {p.field}: {p.message}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"loaded {report.loaded} totals")
    if report.unknown_lines:
        lines = ", ".join(map(str, report.unknown_lines))
        print(f"skipped (not insured here): lines {lines}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
