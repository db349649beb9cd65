"""Custom domain tests run the control plane against the lab (fixtures: control_plane_lab)."""

from collections.abc import Iterator

import pytest

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
from erp_core.lab import LabStack


@pytest.fixture(autouse=True)
def clean_custom_hostnames(lab_stack: LabStack) -> Iterator[None]:
    """The shared lab keeps custom hostnames between tests unless cleared here."""
    state = lab_stack.cloudflare_state

    def clear() -> None:
        with state.lock:
            state.custom_hostnames.clear()
            state.fallback_origin = None

    clear()
    yield
    clear()
