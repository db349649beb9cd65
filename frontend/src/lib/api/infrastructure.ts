/**
 * Infraestructura: Odoo servers (typed), and nodes, containers, tunnels and metrics, whose
 * shapes are still being built: read as loose records and rendered through the pickers in
 * $lib/infra (hostname/name, status, cpu, ram, disk, vmid, ip_address, tenant). Move them to
 * the typed client once `make openapi` knows their paths.
 */
import { api, request, unwrap } from './client';
import type { OdooServer, OdooServerCreate, OdooServerUpdate } from './types';

export type Loose = Record<string, unknown>;

export interface SourceMeta {
	configured?: boolean | Record<string, boolean> | string[] | null;
	total?: number;
	page?: number;
	per_page?: number;
	detail?: string;
	message?: string;
	[key: string]: unknown;
}

export interface ServersMeta {
	total?: number;
	capacity?: number;
	used?: number;
}

export type MetricKind = 'node' | 'container';

export interface MetricsQuery {
	kind: MetricKind;
	id: string | number;
	from: string;
	to: string;
	step?: number;
}

const serverPath = (id: number) => ({ path: { server_id: id } });

export const serversApi = {
	list: (signal?: AbortSignal) =>
		unwrap<OdooServer[], ServersMeta>(api.GET('/api/tenants/servers', { signal })),
	create: (body: OdooServerCreate) => unwrap(api.POST('/api/tenants/servers', { body })),
	update: (id: number, body: OdooServerUpdate) =>
		unwrap(api.PUT('/api/tenants/servers/{server_id}', { params: serverPath(id), body })),
	remove: (id: number) => unwrap(api.DELETE('/api/tenants/servers/{server_id}', { params: serverPath(id) }))
};

/** A list endpoint may answer a bare list or `{items: [...]}`; either way a list comes out. */
export function asList(data: unknown): Loose[] {
	const list = Array.isArray(data)
		? data
		: typeof data === 'object' && data !== null
			? ((data as Loose).items ?? (data as Loose).results ?? (data as Loose).data)
			: null;
	return Array.isArray(list) ? list.filter((r): r is Loose => typeof r === 'object' && r !== null) : [];
}

async function looseList(path: string, signal?: AbortSignal) {
	const result = await request<unknown, SourceMeta>('GET', path, { signal });
	return { data: asList(result.data), meta: result.meta };
}

export const infraApi = {
	nodes: (signal?: AbortSignal) => looseList('/api/infrastructure/nodes', signal),
	containers: (signal?: AbortSignal) => looseList('/api/infrastructure/containers', signal),
	tunnels: (signal?: AbortSignal) => looseList('/api/tunnels', signal),
	metrics: (query: MetricsQuery, signal?: AbortSignal) =>
		request<unknown, SourceMeta>('GET', '/api/infrastructure/metrics', {
			query: { kind: query.kind, id: query.id, from: query.from, to: query.to, step: query.step },
			signal
		})
};
