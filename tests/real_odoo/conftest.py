"""The control plane against a REAL Odoo 19 (RPC mode): the lab still plays Cloudflare and
the public edge; the default Odoo server row points at the real server.

One Odoo process per test session (``odoo_real.real_odoo``); databases cost 5–11 s each, so
the tests create few and reuse them where that does not weaken what they prove."""

from __future__ import annotations

import pytest

from control_plane_lab import (  # noqa: F401  (fixtures, registered by import)
    LAB_MASTER,
    LAB_TOKEN,
    body,
    lab_ctx,
    lab_stack,
    reset_lab,
    suspended_page_server,
    wait,
    worker,
)
from erp_core.config import Settings
from erp_core.lab import LabServer, LabStack
from erp_core.lab.runtime import point_settings_at_lab
from leakguard import register_secret
from odoo_real import RealOdoo, real_odoo  # noqa: F401


@pytest.fixture
def settings(
    settings: Settings,
    lab_stack: LabStack,
    suspended_page_server: LabServer,
    real_odoo: RealOdoo,
) -> Settings:
    register_secret(LAB_MASTER, LAB_TOKEN, real_odoo.master_password)
    reset_lab(lab_stack)
    point_settings_at_lab(settings, lab_stack, LAB_MASTER, LAB_TOKEN)
    settings.erp_core_public_url = suspended_page_server.url
    settings.odoo_url = real_odoo.url
    settings.odoo_master_password = real_odoo.master_password
    settings.odoo_timeout_seconds = 60
    settings.odoo_create_timeout_seconds = 240
    # One real Odoo serves every test here: spares (prepared clones) would pile up on it and
    # compete for its CPU. test_templates_real turns them on through Ajustes.
    settings.odoo_template_spares = 0
    return settings
