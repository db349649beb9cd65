/** Status words (docs: shared/ui-es.md) and their colour tones, in one place. */
import type { ServiceStatus, StepStatus, TenantStatus } from './api/types';

export type Tone = 'success' | 'warning' | 'error' | 'info' | 'neutral' | 'progress';

export const TENANT_STATUS: Record<TenantStatus, { label: string; tone: Tone }> = {
	pending: { label: 'Pendiente', tone: 'neutral' },
	provisioning: { label: 'Aprovisionando', tone: 'progress' },
	active: { label: 'Activo', tone: 'success' },
	suspending: { label: 'Suspendiendo', tone: 'progress' },
	suspended: { label: 'Suspendido', tone: 'warning' },
	reactivating: { label: 'Reactivando', tone: 'progress' },
	deleting: { label: 'Eliminando', tone: 'progress' },
	deleted: { label: 'Eliminado', tone: 'neutral' },
	failed: { label: 'Fallido', tone: 'error' }
};

export const SERVICE_STATUS: Record<ServiceStatus, { label: string; tone: Tone }> = {
	ok: { label: 'Operativo', tone: 'success' },
	degraded: { label: 'Degradado', tone: 'warning' },
	down: { label: 'Caído', tone: 'error' },
	not_configured: { label: 'Sin configurar', tone: 'neutral' }
};

/** Known status words of nodes, containers and tunnels, with a tone. Unknown ones pass through. */
export const INFRA_STATUS: Record<string, { label: string; tone: Tone }> = {
	online: { label: 'En línea', tone: 'success' },
	running: { label: 'En ejecución', tone: 'success' },
	healthy: { label: 'Operativo', tone: 'success' },
	ok: { label: 'Operativo', tone: 'success' },
	active: { label: 'Activo', tone: 'success' },
	up: { label: 'Operativo', tone: 'success' },
	degraded: { label: 'Degradado', tone: 'warning' },
	draining: { label: 'Vaciando', tone: 'warning' },
	inactive: { label: 'Inactivo', tone: 'neutral' },
	stopped: { label: 'Detenido', tone: 'neutral' },
	paused: { label: 'En pausa', tone: 'warning' },
	offline: { label: 'Sin conexión', tone: 'error' },
	down: { label: 'Caído', tone: 'error' },
	unknown: { label: 'Desconocido', tone: 'neutral' },
	not_configured: { label: 'Sin configurar', tone: 'neutral' }
};

/** Invoices, subscriptions, backups and webhook events (Stripe's words and ours). */
export const BILLING_STATUS: Record<string, { label: string; tone: Tone }> = {
	draft: { label: 'Borrador', tone: 'neutral' },
	open: { label: 'Abierta', tone: 'info' },
	paid: { label: 'Pagada', tone: 'success' },
	void: { label: 'Anulada', tone: 'neutral' },
	uncollectible: { label: 'Incobrable', tone: 'error' },
	trialing: { label: 'En prueba', tone: 'info' },
	past_due: { label: 'Pago vencido', tone: 'warning' },
	unpaid: { label: 'Impagada', tone: 'error' },
	canceled: { label: 'Cancelada', tone: 'neutral' },
	cancelled: { label: 'Cancelada', tone: 'neutral' },
	incomplete: { label: 'Incompleta', tone: 'warning' },
	incomplete_expired: { label: 'Caducada', tone: 'neutral' },
	processed: { label: 'Procesado', tone: 'success' },
	ignored: { label: 'Ignorado', tone: 'neutral' },
	queued: { label: 'En cola', tone: 'progress' },
	succeeded: { label: 'Completado', tone: 'success' },
	completed: { label: 'Completado', tone: 'success' }
};

/** Odoo templates of a server (issue 15): only `ready` ones are cloned. */
export const TEMPLATE_STATUS: Record<string, { label: string; tone: Tone }> = {
	building: { label: 'Construyendo', tone: 'progress' },
	ready: { label: 'Lista', tone: 'success' },
	broken: { label: 'Dañada', tone: 'error' },
	stale: { label: 'Obsoleta', tone: 'warning' }
};

/** A job step's state in words (screen readers read it next to the step's icon). */
export const STEP_STATUS: Record<StepStatus, string> = {
	pending: 'pendiente',
	running: 'en curso',
	succeeded: 'completado',
	failed: 'fallido',
	skipped: 'omitido',
	compensated: 'revertido'
};

export const PLAN_LABELS: Record<string, string> = {
	basic: 'Basic',
	pro: 'Pro',
	enterprise: 'Enterprise'
};

/** Any status string from the API as {label, tone}; unknown values show as they came. */
export function statusInfo(status: string): { label: string; tone: Tone } {
	return (
		TENANT_STATUS[status as TenantStatus] ??
		SERVICE_STATUS[status as ServiceStatus] ??
		BILLING_STATUS[status.toLowerCase()] ??
		INFRA_STATUS[status.toLowerCase()] ??
		TEMPLATE_STATUS[status] ?? { label: status, tone: 'neutral' }
	);
}

/** A tenant in one of these is busy: the server answers 409 TENANT_BUSY to new actions. */
export const BUSY_STATUSES: readonly TenantStatus[] = [
	'pending',
	'provisioning',
	'suspending',
	'reactivating',
	'deleting'
];

/**
 * Spanish titles of job steps by code, for where the API gives only the code (log lines).
 * A code may serve several operations ("route" publishes, suspends or restores a route),
 * so titles here are the generic wording; the job view uses the step's own label.
 */
export const STEP_LABELS: Record<string, string> = {
	backup: 'Respaldar la base de datos',
	billing: 'Crear la suscripción',
	check: 'Comprobar que la base abre',
	clone: 'Clonar la plantilla de Odoo',
	configure: 'Asignar CPU, RAM, disco y red del plan',
	configure_company: 'Configurar la empresa',
	create_database: 'Crear la base de datos',
	delete: 'Eliminar el archivo del respaldo',
	destroy: 'Destruir el contenedor',
	drop: 'Eliminar la base de prueba',
	drop_database: 'Eliminar la base de datos',
	move: 'Asignar la base al nuevo subdominio',
	place: 'Elegir servidor Odoo',
	pre_restore: 'Respaldo previo a la restauración',
	reserve: 'Reservar el contenedor',
	restore_route: 'Restaurar la ruta hacia Odoo',
	restore_scratch: 'Restaurar en una base de prueba',
	route: 'Actualizar la ruta en Cloudflare',
	routing: 'Publicar en Cloudflare',
	secure_odoo: 'Proteger la instancia de Odoo',
	set_company: 'Configurar la empresa',
	start: 'Arrancar el contenedor',
	stop: 'Detener el contenedor',
	stripe: 'Crear la suscripción en Stripe',
	suspend_route: 'Redirigir a la página de suspensión',
	swap: 'Sustituir la base de datos del tenant',
	unroute: 'Retirar ruta y DNS',
	verify: 'Verificar',
	verify_database: 'Verificar la base de datos',
	verify_http: 'Comprobar que la URL responde',
	wait_odoo: 'Esperar a que Odoo responda'
};

/** A step's Spanish title: its own label, the known title of its code, never the raw code. */
export function stepLabel(name: string, label?: string | null): string {
	return label || STEP_LABELS[name] || 'Paso de la operación';
}
