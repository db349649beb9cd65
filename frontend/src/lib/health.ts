/**
 * The details of a service check (GET /api/logs/status) in words. The API types `details`
 * as a free map, so the known keys of each check get a Spanish label and a unit-aware value
 * (bytes, seconds, instants, counts); an unknown key is still shown, with its value
 * formatted, so nothing the server reported is hidden.
 */
import { EMPTY, formatBytes, formatDateTime, formatNumber } from './format';

export const DETAIL_LABELS: Record<string, string> = {
	workers: 'Procesos de trabajo',
	depth: 'Trabajos en cola',
	oldest_waiting_at: 'En cola desde',
	oldest_waiting_seconds: 'Espera del más antiguo',
	path: 'Ruta',
	used_bytes: 'Usado',
	free_bytes: 'Libre',
	total_bytes: 'Total',
	tunnels: 'Túneles',
	without_connections: 'Sin conexiones',
	nodes: 'Nodos',
	offline: 'Sin conexión',
	url: 'URL',
	tenants: 'Tenants',
	capacity: 'Capacidad',
	version: 'Versión',
	tenants_without_recent_backup: 'Tenants sin respaldo reciente',
	corrupt_backups: 'Respaldos dañados',
	drills_ok: 'Simulacros correctos',
	drills_failed: 'Simulacros fallidos',
	last_drill_at: 'Último simulacro',
	store: 'Almacén'
};

function formatValue(key: string, value: unknown): string {
	if (value == null || value === '') return EMPTY;
	if (typeof value === 'number') {
		if (key.endsWith('_bytes')) return formatBytes(value);
		if (key.endsWith('_seconds')) return `${formatNumber(value, 1)} s`;
		return formatNumber(value);
	}
	if (typeof value === 'boolean') return value ? 'Sí' : 'No';
	if (typeof value === 'string') return key.endsWith('_at') ? formatDateTime(value) : value;
	if (Array.isArray(value)) return value.length ? value.map((v) => formatValue('', v)).join(', ') : EMPTY;
	return JSON.stringify(value);
}

/** `[label, value]` rows for a check's details, in the order the server sent them. */
export function detailRows(details: Record<string, unknown> | null | undefined): [string, string][] {
	return Object.entries(details ?? {}).map(([key, value]) => [DETAIL_LABELS[key] ?? key, formatValue(key, value)]);
}
