/** Desajustes (drift findings) and usage, through the typed client. */
import { api, unwrap } from './client';
import type { ListMeta } from './http';
import type { components } from './schema';

export type Finding = components['schemas']['FindingOut'];
export type AuditJob = components['schemas']['AuditJobOut'];
export type FixStarted = components['schemas']['FixOut'];
export type TenantUsage = components['schemas']['TenantUsageOut'];
export type TopTenant = components['schemas']['TopTenantOut'];

export type FindingsMeta = ListMeta & { open_by_source?: Record<string, number> };

export interface FindingFilters {
	state?: 'open' | 'resolved' | 'all';
	source?: 'odoo' | 'cloudflare' | 'proxmox' | 'stripe' | 'backups' | 'usage';
	tenant_id?: number;
	page?: number;
	per_page?: number;
}

export const reconciliationApi = {
	findings: (filters: FindingFilters = {}, signal?: AbortSignal) =>
		unwrap<Finding[], FindingsMeta>(
			api.GET('/api/reconciliation/findings', { params: { query: { state: 'open', ...filters } }, signal })
		),
	run: () => unwrap<AuditJob>(api.POST('/api/reconciliation/run')),
	runStatus: (jobId: number) => unwrap<AuditJob>(api.GET('/api/reconciliation/runs/{job_id}', { params: { path: { job_id: jobId } } })),
	fix: (id: number) => unwrap<FixStarted>(api.POST('/api/reconciliation/findings/{finding_id}/fix', { params: { path: { finding_id: id } } })),
	tenantUsage: (tenantId: number, signal?: AbortSignal) =>
		unwrap<TenantUsage>(api.GET('/api/tenants/{tenant_id}/usage', { params: { path: { tenant_id: tenantId } }, signal })),
	top: (by: 'storage' | 'users', signal?: AbortSignal) =>
		unwrap<TopTenant[]>(api.GET('/api/usage/top', { params: { query: { by, limit: 5 } }, signal }))
};

export const SOURCE_LABELS: Record<string, string> = {
	odoo: 'Servidores Odoo',
	cloudflare: 'Cloudflare (túneles y DNS)',
	proxmox: 'Proxmox',
	stripe: 'Stripe',
	backups: 'Almacén de respaldos',
	usage: 'Uso y límites'
};
