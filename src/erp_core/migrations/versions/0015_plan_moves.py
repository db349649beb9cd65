"""plan moves: backups may be of kind ``pre-move`` (the verified backup a shared <-> dedicated
plan move restores on its target, kept like the pre-delete and pre-restore ones).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = "kind IN ('scheduled', 'manual', 'pre-delete', 'pre-restore')"
NEW_KINDS = "kind IN ('scheduled', 'manual', 'pre-delete', 'pre-restore', 'pre-move')"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_backups_kind"), "backups", type_="check")
    op.create_check_constraint(op.f("ck_backups_kind"), "backups", NEW_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM backups WHERE kind = 'pre-move'")
    op.drop_constraint(op.f("ck_backups_kind"), "backups", type_="check")
    op.create_check_constraint(op.f("ck_backups_kind"), "backups", OLD_KINDS)
