"""The contract suites run the same tests against the lab emulators and the real vendors."""

from odoo_real import real_odoo  # noqa: F401  (session fixture: the real Odoo 19)
