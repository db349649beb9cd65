"""Spanish labels for the fields and query parameters the API accepts.

Validation errors must name a field the way the form names it ("Nombre de la empresa"), never
by its wire name (`company_name`): an operator reads the banner, not the JSON. A schema may
give its own label with `Field(title=...)`; everything else is looked up here, by the last
part of the error's location. A field missing here still gets a Spanish, generic label
("un campo") rather than its raw name; `tests/ops/test_validation_es.py` walks the OpenAPI
document and fails on any request field without a label, so this table cannot go stale.
"""

from __future__ import annotations

FIELD_LABELS: dict[str, str] = {
    "accept_downtime": "Aceptar la interrupción",
    "api_key": "Clave de API",
    "by": "Agrupar por",
    "checkout_id": "Alta",
    "customers": "Clientes",
    "dedicated": "Dedicado",
    "domain_id": "Dominio",
    "finding_id": "Desajuste",
    "hostname": "Nombre de host",
    "limit": "Límite",
    "login": "Usuario",
    "months": "Meses",
    "return_path": "Ruta de retorno",
    "seed": "Semilla",
    "source": "Origen",
    "ssl": "Certificado",
    "ssl_method": "Método de validación del certificado",
    "token": "Enlace",
    "action": "Acción",
    "active": "Activo",
    "admin_password": "Contraseña de administrador",
    "backup_id": "Respaldo",
    "body": "Cuerpo de la solicitud",
    "capacity": "Capacidad",
    "code": "Código",
    "company_name": "Nombre de la empresa",
    "country": "País",
    "cpu_cores": "Núcleos de CPU",
    "custom_create_script": "Script de creación personalizado",
    "customer_id": "Cliente",
    "disabled": "Deshabilitado",
    "disk_gb": "Disco (GB)",
    "email": "Correo electrónico",
    "event_pk": "Evento",
    "from": "Desde",
    "id": "Identificador",
    "include_deleted": "Incluir eliminados",
    "include_vanished": "Incluir desaparecidos",
    "integration": "Integración",
    "internal_url": "URL interna",
    "interval": "Periodicidad",
    "job_id": "Trabajo",
    "key": "Ajuste",
    "kind": "Tipo",
    "known_hosts": "Huellas SSH conocidas",
    "language": "Idioma",
    "last-event-id": "Último evento recibido",
    "level": "Nivel",
    "master_password": "Contraseña maestra",
    "max_users": "Usuarios máximos",
    "mode": "Modo",
    "month": "Mes",
    "monthly_price": "Precio mensual",
    "name": "Nombre",
    "node": "Nodo",
    "object_id": "Objeto",
    "object_type": "Tipo de objeto",
    "odoo_bin": "Ejecutable de Odoo",
    "odoo_conf": "Archivo de configuración de Odoo",
    "odoo_user": "Usuario del sistema de Odoo",
    "page": "Página",
    "password": "Contraseña",
    "pct_vmid": "ID del contenedor",
    "per_page": "Elementos por página",
    "plan": "Plan",
    "q": "Búsqueda",
    "ram_mb": "Memoria (MB)",
    "reason": "Motivo",
    "renew": "Nuevo pago",
    "refresh_token": "Token de renovación",
    "role": "Rol",
    "server_id": "Servidor",
    "template_id": "Plantilla",
    "session_id": "Sesión",
    "since": "Desde",
    "sort": "Orden",
    "ssh_host": "Host SSH",
    "ssh_port": "Puerto SSH",
    "ssh_private_key": "Clave privada SSH",
    "ssh_user": "Usuario SSH",
    "state": "Estado",
    "status": "Estado",
    "step": "Paso",
    "stripe_price_monthly_id": "Precio mensual en Stripe",
    "stripe_price_yearly_id": "Precio anual en Stripe",
    "subdomain": "Subdominio",
    "tenant": "Tenant",
    "tenant_id": "Tenant",
    "to": "Hasta",
    "tunnel_id": "Túnel",
    "type": "Tipo",
    "until": "Hasta",
    "url": "URL",
    "user_id": "Usuario",
    "value": "Valor",
    "yearly_price": "Precio anual",
}

GENERIC_LABEL = "Un campo"


def label_for(field: str) -> str:
    """The Spanish label of a dotted field path (`items.0.name` → the label of `name`)."""
    parts = [p for p in field.split(".") if p and not p.isdigit()]
    for part in reversed(parts):
        if part in FIELD_LABELS:
            return FIELD_LABELS[part]
    return GENERIC_LABEL
