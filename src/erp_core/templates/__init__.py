"""Per-server Odoo templates (issue 15): a tenant is a clone of a prepared database plus
its own identity, instead of Odoo's minutes-long ``create_database``.

``service`` finds or queues a template and clones it for a tenant's create job (called
from provisioning's create step); ``operations`` is the ``template_build`` job; ``routes``
lists a server's templates and rebuilds one on request.
"""
