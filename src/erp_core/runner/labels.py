"""Spanish titles of job kinds and statuses: the runner names what it runs (no domain import)."""

from __future__ import annotations

KIND_ES = {
    "create": "Creación",
    "suspend": "Suspensión",
    "reactivate": "Reactivación",
    "delete": "Eliminación",
    "backup": "Respaldo",
    "restore": "Restauración",
    "restore_copy": "Restauración como nuevo tenant",
    "backup_drill": "Simulacro de restauración",
    "template_build": "Construcción de plantilla Odoo",
    "move_to_dedicated": "Traslado a contenedor dedicado",
    "move_to_shared": "Traslado a servidor compartido",
}
JOB_STATUS_ES = {
    "queued": "En cola",
    "running": "En curso",
    "succeeded": "Completado",
    "failed": "Fallido",
    "cancelled": "Cancelado",
}


def kind_label(kind: str) -> str:
    if kind in KIND_ES:  # e.g. move_to_dedicated: a kind of its own, not a dedicated variant
        return KIND_ES[kind]
    base = kind.removesuffix("_dedicated")
    label = KIND_ES.get(base, "Operación")
    return f"{label} (contenedor dedicado)" if kind != base else label


__all__ = ["JOB_STATUS_ES", "KIND_ES", "kind_label"]
