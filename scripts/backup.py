"""Back up the database and the uploads into a new folder; `scripts.restore` reads it back.

The database first, then the files: a file is stored before the row naming it commits,
so every file the database copy names is already there when the files are copied (a few
files no row names may come along; `scripts.clean_uploads` removes those).

- SQLite: SQLite's online backup API (`sqlite3.Connection.backup`), a consistent copy
  taken while the server keeps running.
- PostgreSQL: `pg_dump --format=custom` (one consistent snapshot), of the schema the
  URL's search_path names when it names one; `pg_restore` reads it back.
- The uploads (STORAGE_BACKEND local or s3) are copied key by key through the storage
  interface into `uploads/`, with a manifest of sizes and SHA-256 digests.

    .venv/bin/python -m scripts.backup --to /backups            # -> /backups/20260302T090000Z
    .venv/bin/python -m scripts.backup --to /backups --database-url postgresql://...

Prints the folder made. Uses the settings (DATABASE_URL, STORAGE_*) unless told otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from server.claims.core import make_storage
from server.settings import from_env
from server.storage.backend import CHUNK_SIZE, Storage, check_key

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.dump"
UPLOADS = "uploads"
FORMAT = 1
_SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True, slots=True)
class Postgres:
    """What pg_dump and pg_restore need from a SQLAlchemy URL."""

    conninfo: str  # a libpq URL, without the SQLAlchemy driver and the password
    schema: str | None  # the one schema the URL's search_path pins, if any
    password: str | None = None  # given to the tools in their environment, not their arguments

    def env(self) -> dict[str, str]:
        env = dict(os.environ, PGCONNECT_TIMEOUT="10")
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def postgres(url: str | URL) -> Postgres:
    u = make_url(url)
    options = u.query.get("options")
    option = options if isinstance(options, str) else " ".join(options or ())
    found = _SEARCH_PATH.search(urllib.parse.unquote(option))
    plain = u.set(drivername="postgresql", password=None)
    return Postgres(
        plain.render_as_string(hide_password=False),
        found.group(1) if found else None,
        u.password,
    )


def sqlite_path(url: str | URL) -> Path:
    u = make_url(url)
    if not u.database or u.database == ":memory:":
        raise SystemExit("an in-memory SQLite database cannot be backed up")
    return Path(u.database)


def backup_database(url: str, folder: Path) -> str:
    """Writes the database's copy into `folder`; returns its file name."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        source = sqlite3.connect(f"file:{sqlite_path(url)}?mode=ro", uri=True)
        target = sqlite3.connect(folder / SQLITE_FILE)
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
        return SQLITE_FILE
    if backend == "postgresql":
        pg = postgres(url)
        command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges"]
        if pg.schema:
            command.append(f"--schema={pg.schema}")
        command += [f"--file={folder / PG_FILE}", f"--dbname={pg.conninfo}"]
        subprocess.run(command, check=True, env=pg.env())
        return PG_FILE
    raise SystemExit(f"no backup for a {backend} database")


def backup_storage(storage: Storage, folder: Path) -> list[dict[str, object]]:
    """Copies every stored object into `folder/uploads/`; returns the manifest entries."""
    far = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3650)
    out = folder / UPLOADS
    out.mkdir()
    entries: list[dict[str, object]] = []
    for key in sorted(storage.keys_older_than(far)):
        check_key(key)
        digest = hashlib.sha256()
        size = 0
        stream = storage.open(key)
        try:
            with (out / key).open("wb") as f:
                while chunk := stream.read(CHUNK_SIZE):
                    f.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
        finally:
            stream.close()
        entries.append({"key": key, "size": size, "sha256": digest.hexdigest()})
    return entries


def backup(url: str, storage: Storage, to: Path, *, now: datetime.datetime) -> Path:
    folder = to / now.strftime("%Y%m%dT%H%M%SZ")
    folder.mkdir(parents=True)
    database = backup_database(url, folder)
    files = backup_storage(storage, folder)
    manifest = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "database": {"backend": make_url(url).get_backend_name(), "file": database},
        "uploads": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.backup", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--to", type=Path, required=True, help="folder the backup goes under")
    parser.add_argument("--database-url", help="instead of the settings' database")
    args = parser.parse_args(argv)
    settings = from_env()
    url = args.database_url or settings.resolved_database_url
    folder = backup(url, make_storage(settings), args.to, now=datetime.datetime.now(datetime.UTC))
    manifest = json.loads((folder / MANIFEST).read_text())
    print(f"{folder} ({len(manifest['uploads'])} files)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
