/** GET /api/dashboard/all: the whole Panel in one request, through the typed client. */
import { api, unwrap } from './client';
import type { DashboardAll } from './types';

export type { DashboardAll, DashboardMetrics } from './types';

/**
 * `meta.configured`: which sources are set up (`{stripe: false, …}`). The OpenAPI document
 * types envelope meta as a free map; this names what the dashboard route puts there.
 */
export interface DashboardMeta {
	configured?: Record<string, boolean>;
}

export function getDashboard(signal?: AbortSignal) {
	return unwrap<DashboardAll, DashboardMeta>(api.GET('/api/dashboard/all', { signal }));
}

/** Names of sources the server says are not configured ("stripe", "proxmox", …). */
export function missingSources(meta: DashboardMeta | null | undefined): string[] {
	return Object.entries(meta?.configured ?? {})
		.filter(([, ok]) => !ok)
		.map(([name]) => name);
}

/** Share used/total as a fraction, or null when either is unknown or total is 0. */
export function ratio(used: number | null | undefined, total: number | null | undefined): number | null {
	if (used == null || total == null || total <= 0) return null;
	return used / total;
}
