"""Every place a secret is stored encrypted, for key rotation.

Rooms that add an encrypted column register it with `register_column`; job parameters keep
secrets under keys ending in `_enc`.
"""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.security import SecretBox

_COLUMNS: list[tuple[str, str, str]] = [
    ("system_config", "key", "value"),
    ("odoo_servers", "id", "master_password_enc"),
]


def register_column(table: str, key_column: str, column: str) -> None:
    if (table, key_column, column) not in _COLUMNS:
        _COLUMNS.append((table, key_column, column))


async def rotate_all(session: AsyncSession, old: SecretBox, new: SecretBox) -> int:
    count = 0
    for table, key_column, column in _COLUMNS:
        where = " AND is_secret" if table == "system_config" else ""
        query = f"SELECT {key_column}, {column} FROM {table} WHERE {column} <> ''{where}"  # noqa: S608
        rows = (await session.execute(text(query))).all()
        for key, value in rows:
            await session.execute(
                text(f"UPDATE {table} SET {column} = :v WHERE {key_column} = :k"),  # noqa: S608
                {"v": new.encrypt(old.decrypt(value)), "k": key},
            )
            count += 1
    jobs = (
        await session.execute(
            text("SELECT id, params FROM jobs WHERE params::text LIKE '%\\_enc%'")
        )
    ).all()
    for job_id, params in jobs:
        changed = {
            k: new.encrypt(old.decrypt(v)) if k.endswith("_enc") and isinstance(v, str) else v
            for k, v in params.items()
        }
        if changed != params:
            await session.execute(
                text("UPDATE jobs SET params = CAST(:p AS jsonb) WHERE id = :i"),
                {"p": json.dumps(changed), "i": job_id},
            )
            count += 1
    return count
