/**
 * A tenant's custom domains (issue 17) through the typed openapi-fetch client:
 * list, add (202 + job), check now, make primary (202 + job), remove (202 + job).
 */
import type { components } from './schema';
import { api, unwrap } from './client';

export type Domain = components['schemas']['DomainOut'];
export type DomainsMeta = components['schemas']['DomainsMeta'];
export type DomainRecord = components['schemas']['DnsRecordOut'];

const path = (tenantId: number | string) => ({ path: { tenant_id: Number(tenantId) } });
const domainPath = (tenantId: number | string, domainId: number) => ({
	path: { tenant_id: Number(tenantId), domain_id: domainId }
});

export const domainsApi = {
	list: (tenantId: number | string, signal?: AbortSignal) =>
		unwrap<Domain[], DomainsMeta>(api.GET('/api/tenants/{tenant_id}/domains', { params: path(tenantId), signal })),
	add: (tenantId: number | string, hostname: string, ssl_method: 'txt' | 'http' = 'txt') =>
		unwrap(api.POST('/api/tenants/{tenant_id}/domains', { params: path(tenantId), body: { hostname, ssl_method } })),
	check: (tenantId: number | string, domainId: number) =>
		unwrap(api.POST('/api/tenants/{tenant_id}/domains/{domain_id}/check', { params: domainPath(tenantId, domainId) })),
	primary: (tenantId: number | string, domainId: number, admin_password?: string) =>
		unwrap(
			api.PUT('/api/tenants/{tenant_id}/domains/{domain_id}/primary', {
				params: domainPath(tenantId, domainId),
				body: admin_password ? { admin_password } : null
			})
		),
	remove: (tenantId: number | string, domainId: number, admin_password?: string) =>
		unwrap(
			api.DELETE('/api/tenants/{tenant_id}/domains/{domain_id}', {
				params: domainPath(tenantId, domainId),
				body: admin_password ? { admin_password } : null
			})
		)
};

/** Badge tone per domain state (the seed's palette through StatusBadge's tones). */
export const DOMAIN_STATUS_BADGE: Record<string, string> = {
	pending_dns: 'pending',
	pending_ssl: 'provisioning',
	active: 'active',
	failed: 'failed',
	expired: 'suspended',
	removing: 'deleting'
};
