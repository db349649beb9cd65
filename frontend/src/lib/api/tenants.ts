/** Tenant endpoints (issue 3). All answers are enveloped; actions answer 202 with the tenant. */
import { request } from './client';
import type { ListMeta } from './http';
import type { Plan, SubdomainCheck, Tenant, TenantCreate, TenantCreated, TenantStatus } from './types';

export interface TenantQuery {
	q?: string;
	status?: TenantStatus | '';
	plan?: Plan | '';
	/** Field name, "-" prefix for descending: `-created_at`. */
	sort?: string;
	page?: number;
	per_page?: number;
}

const path = (id: number | string) => `/api/tenants/${encodeURIComponent(String(id))}`;

export const tenantsApi = {
	list: (query: TenantQuery, signal?: AbortSignal) =>
		request<Tenant[], ListMeta>('GET', '/api/tenants', { query: { ...query }, signal }),
	get: (id: number | string, signal?: AbortSignal) => request<Tenant>('GET', path(id), { signal }),
	create: (body: TenantCreate) => request<TenantCreated>('POST', '/api/tenants', { body }),
	checkSubdomain: (subdomain: string, signal?: AbortSignal) =>
		request<SubdomainCheck>('GET', '/api/tenants/check-subdomain', { query: { subdomain }, signal }),
	suspend: (id: number | string) => request<Tenant>('PUT', `${path(id)}/suspend`),
	reactivate: (id: number | string) => request<Tenant>('PUT', `${path(id)}/reactivate`),
	remove: (id: number | string) => request<Tenant>('DELETE', path(id)),
	retry: (id: number | string) => request<Tenant>('POST', `${path(id)}/retry`)
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
