"""Restore a backup made by `scripts.backup` into an empty database and storage.

Refuses a database that already has tables (restoring over live data would mix two
states) and checks every file against the manifest's digest before storing it. Then
brings the database up to the newest migration, so a backup from an older release works.

    .venv/bin/python -m scripts.restore /backups/20260302T090000Z
    .venv/bin/python -m scripts.restore BACKUP --database-url postgresql://.../fresh

PostgreSQL: the dump is restored with `pg_restore` into the URL's database, under the
schema it was taken from (create the database first: `createdb fresh`). SQLite: the copy
becomes the file the URL names, which must not exist yet.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from scripts.backup import FORMAT, MANIFEST, UPLOADS, postgres, sqlite_path
from server.claims.core import make_storage
from server.crypto import vault_for
from server.db import make_engine, migrate
from server.settings import from_env
from server.storage.backend import Storage, check_key, new_temp_file


class RestoreRefused(Exception):
    pass


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as e:
        raise RestoreRefused(f"{folder} is not a backup: {type(e).__name__}") from None
    if manifest.get("format") != FORMAT:
        raise RestoreRefused(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def restore_database(folder: Path, manifest: dict[str, Any], url: str) -> None:
    backend = make_url(url).get_backend_name()
    if backend != manifest["database"]["backend"]:
        raise RestoreRefused(
            f"the backup is of a {manifest['database']['backend']} database, not {backend}"
        )
    source = folder / manifest["database"]["file"]
    if backend == "sqlite":
        target = sqlite_path(url)
        if target.exists():
            raise RestoreRefused(f"{target} exists: restore into a new file")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return
    pg = postgres(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if inspect(conn).get_table_names(schema=pg.schema):
                raise RestoreRefused("the database already has tables: restore into an empty one")
    finally:
        engine.dispose()
    subprocess.run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--dbname={pg.conninfo}",
            str(source),
        ],
        check=True,
        env=pg.env(),
    )


def restore_storage(folder: Path, manifest: dict[str, Any], storage: Storage) -> int:
    for entry in manifest["uploads"]:
        key = check_key(entry["key"])
        source = folder / UPLOADS / key
        data = source.read_bytes()
        if len(data) != entry["size"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise RestoreRefused(f"{key} does not match the manifest: the backup is damaged")
        temp = new_temp_file(storage)
        temp.write_bytes(data)
        storage.put_file(key, temp)
    return len(manifest["uploads"])


def restore(folder: Path, url: str, storage: Storage, *, vault: Any = None) -> int:
    """Restores the database and the files; returns the number of files."""
    manifest = _manifest(folder)
    restore_database(folder, manifest, url)
    engine = make_engine(url)
    try:
        migrate(engine, vault)  # a backup of an older release comes up to date
    finally:
        engine.dispose()
    return restore_storage(folder, manifest, storage)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.restore", description=__doc__.splitlines()[0]
    )
    parser.add_argument("backup", type=Path, help="a folder made by scripts.backup")
    parser.add_argument("--database-url", help="instead of the settings' database")
    args = parser.parse_args(argv)
    settings = from_env()
    url = args.database_url or settings.resolved_database_url
    vault = vault_for(settings.secret_key, settings.encryption_key)
    try:
        files = restore(args.backup, url, make_storage(settings), vault=vault)
    except RestoreRefused as e:
        parser.exit(1, f"restore refused: {e}\n")
    print(f"restored the database and {files} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
