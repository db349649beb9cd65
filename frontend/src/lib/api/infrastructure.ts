/**
 * Infraestructura through the typed client: Odoo servers, Proxmox nodes and containers,
 * Cloudflare tunnels and usage metrics. Row shapes come from `schema.d.ts`.
 */
import { api, unwrap } from './client';
import type { ListMeta } from './http';
import type { Container, MetricSeries, MetricsQuery, OdooServer, OdooServerCreate, OdooServerUpdate, OdooTemplate, ProxmoxNode, Tunnel } from './types';

/**
 * `meta` of the Proxmox and Cloudflare reads. The OpenAPI document types envelope meta as
 * a free map, so this is the one place that names what these routes put there:
 * `configured: {proxmox: bool}` / `{cloudflare: bool}` and the list counters.
 */
export interface SourceMeta extends Partial<ListMeta> {
	configured?: Partial<Record<'proxmox' | 'cloudflare' | 'stripe', boolean>>;
	last_sync_at?: string | null;
}

/** False only when the server said the source is not configured. */
export function sourceConfigured(meta: SourceMeta | null | undefined, source: 'proxmox' | 'cloudflare' | 'stripe'): boolean {
	return meta?.configured?.[source] !== false;
}

export interface ServersMeta {
	total?: number;
	capacity?: number;
	used?: number;
}

export type MetricKind = MetricsQuery['kind'];

const serverPath = (id: number) => ({ path: { server_id: id } });

export const serversApi = {
	list: (signal?: AbortSignal) => unwrap<OdooServer[], ServersMeta>(api.GET('/api/tenants/servers', { signal })),
	create: (body: OdooServerCreate) => unwrap(api.POST('/api/tenants/servers', { body })),
	update: (id: number, body: OdooServerUpdate) =>
		unwrap(api.PUT('/api/tenants/servers/{server_id}', { params: serverPath(id), body })),
	remove: (id: number) => unwrap(api.DELETE('/api/tenants/servers/{server_id}', { params: serverPath(id) }))
};

/** A server's Odoo templates (issue 15) and the operator's rebuild. */
export const templatesApi = {
	list: (serverId: number, signal?: AbortSignal) =>
		unwrap<OdooTemplate[]>(api.GET('/api/servers/{server_id}/templates', { params: serverPath(serverId), signal })),
	rebuild: (serverId: number, templateId: number) =>
		unwrap(
			api.POST('/api/servers/{server_id}/templates/{template_id}/rebuild', {
				params: { path: { server_id: serverId, template_id: templateId } }
			})
		)
};

export const infraApi = {
	nodes: (signal?: AbortSignal) => unwrap<ProxmoxNode[], SourceMeta>(api.GET('/api/infrastructure/nodes', { signal })),
	containers: (signal?: AbortSignal) =>
		unwrap<Container[], SourceMeta>(api.GET('/api/infrastructure/containers', { params: { query: { per_page: 200 } }, signal })),
	tunnels: (signal?: AbortSignal) => unwrap<Tunnel[], SourceMeta>(api.GET('/api/tunnels', { signal })),
	metrics: (query: MetricsQuery, signal?: AbortSignal) =>
		unwrap<MetricSeries, SourceMeta>(api.GET('/api/infrastructure/metrics', { params: { query }, signal }))
};
