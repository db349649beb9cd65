"""Custom domains of tenants (issue 17): Cloudflare for SaaS custom hostnames, the tunnel
ingress that sends them to the tenant's Odoo, their state machine and the primary domain."""
