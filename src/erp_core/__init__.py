"""Jeturing Core: the control plane for hosted Odoo ERP."""

__version__ = "0.1.0"
