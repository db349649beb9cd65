/** Tenant endpoints (issue 3) through the typed client. Actions answer 202 with the tenant. */
import { api, unwrap } from './client';
import type { ListMeta } from './http';
import type { Plan, PlanChange, Tenant, TenantCreate, TenantListQuery, TenantSort, TenantStatus } from './types';

export interface TenantQuery {
	q?: string;
	status?: TenantStatus | '';
	plan?: Plan | '';
	/** Field name, "-" prefix for descending: `-created_at`. */
	sort?: TenantSort;
	page?: number;
	per_page?: number;
}

/** Drops empty filters: the API answers 422 to `status=`. */
function toQuery(query: TenantQuery): TenantListQuery {
	const out: TenantListQuery = {};
	if (query.q) out.q = query.q;
	if (query.status) out.status = query.status;
	if (query.plan) out.plan = query.plan;
	if (query.sort) out.sort = query.sort;
	if (query.page) out.page = query.page;
	if (query.per_page) out.per_page = query.per_page;
	return out;
}

const tenantPath = (id: number | string) => ({ path: { tenant_id: Number(id) } });

export const tenantsApi = {
	list: (query: TenantQuery, signal?: AbortSignal) =>
		unwrap<Tenant[], ListMeta>(api.GET('/api/tenants', { params: { query: toQuery(query) }, signal })),
	get: (id: number | string, signal?: AbortSignal) =>
		unwrap(api.GET('/api/tenants/{tenant_id}', { params: tenantPath(id), signal })),
	create: (body: TenantCreate) => unwrap(api.POST('/api/tenants', { body })),
	checkSubdomain: (subdomain: string, signal?: AbortSignal) =>
		unwrap(api.GET('/api/tenants/check-subdomain', { params: { query: { subdomain } }, signal })),
	suspend: (id: number | string) =>
		unwrap(api.PUT('/api/tenants/{tenant_id}/suspend', { params: tenantPath(id), body: { reason: 'manual' } })),
	reactivate: (id: number | string) => unwrap(api.PUT('/api/tenants/{tenant_id}/reactivate', { params: tenantPath(id) })),
	remove: (id: number | string) => unwrap(api.DELETE('/api/tenants/{tenant_id}', { params: tenantPath(id) })),
	retry: (id: number | string) => unwrap(api.POST('/api/tenants/{tenant_id}/retry', { params: tenantPath(id) })),
	/** Change plan for the customer: prorated at once, or a shared ↔ dedicated move job once the downtime is accepted. */
	changePlan: (id: number | string, body: PlanChange) => unwrap(api.POST('/api/tenants/{tenant_id}/plan', { params: tenantPath(id), body })),
	/** Newest job of a tenant (GET /api/tenants/{id}/jobs, newest first), or null. */
	latestJob: async (id: number | string, signal?: AbortSignal) => {
		const { data } = await unwrap(
			api.GET('/api/tenants/{tenant_id}/jobs', { params: { ...tenantPath(id), query: { per_page: 1 } }, signal })
		);
		return data[0] ?? null;
	}
};

/** Mirrors the server's rule so the form answers before the network does. */
export const SUBDOMAIN_PATTERN = /^[a-z0-9-]+$/;

export function validateSubdomain(value: string): string | null {
	if (value.length === 0) return 'Indique un subdominio.';
	if (value.length < 3) return 'El subdominio debe tener al menos 3 caracteres.';
	if (value.length > 63) return 'El subdominio no puede superar los 63 caracteres.';
	if (!SUBDOMAIN_PATTERN.test(value)) {
		return 'Use solo letras minúsculas sin acentos, números y guiones.';
	}
	if (value.startsWith('-') || value.endsWith('-')) {
		return 'El subdominio no puede empezar ni terminar con guion.';
	}
	return null;
}
