"""Tenant tests run the control plane against the lab (fixtures: control_plane_lab)."""

from control_plane_lab import (  # noqa: F401  (fixtures, registered by import)
    body,
    lab_ctx,
    lab_secrets,
    lab_stack,
    settings,
    suspended_page_server,
    wait,
    worker,
)
