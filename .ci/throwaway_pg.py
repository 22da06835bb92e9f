"""Create, drop or probe a PostgreSQL database for one CI run (no psql needed on the machine)."""

from __future__ import annotations

import sys

import psycopg
from psycopg import sql


def main(action: str, base_url: str, name: str = "") -> int:
    try:
        conn = psycopg.connect(f"{base_url}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if action == "check":
            print(f"PostgreSQL unreachable: {exc}".strip(), file=sys.stderr)
            return 1
        raise
    with conn:
        if action == "create":
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        elif action == "drop":
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
