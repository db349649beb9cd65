/**
 * Infrastructure figures from the typed API rows: usage shares of nodes and containers and
 * the metrics chart. Units are the API's: CPU as a fraction (0..1), RAM and disk in bytes,
 * container capacity in MiB (RAM) and GiB (disk).
 */
import type { Container, MetricSeries, ProxmoxNode } from './api/types';

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

export type Usage = 'cpu' | 'ram' | 'disk';

function share(used: number | null | undefined, total: number | null | undefined): number | null {
	if (used == null || total == null || total <= 0) return null;
	return clamp(used / total);
}

function clamp(value: number): number {
	return Math.min(1, Math.max(0, value));
}

/** Capacity in bytes of a node's or container's RAM or disk. */
export function nodeCapacity(node: ProxmoxNode, resource: 'ram' | 'disk'): number {
	return resource === 'ram' ? node.ram_total : node.disk_total;
}

export function containerCapacity(container: Container, resource: 'ram' | 'disk'): number {
	return resource === 'ram' ? container.ram_mb * MIB : container.disk_gb * GIB;
}

/** Share of a resource in use, 0..1, or null when the last sync did not report it. */
export function nodeUsage(node: ProxmoxNode, resource: Usage): number | null {
	if (resource === 'cpu') return node.cpu_usage == null ? null : clamp(node.cpu_usage);
	return share(resource === 'ram' ? node.ram_used : node.disk_used, nodeCapacity(node, resource));
}

export function containerUsage(container: Container, resource: Usage): number | null {
	if (resource === 'cpu') return container.cpu_usage == null ? null : clamp(container.cpu_usage);
	return share(resource === 'ram' ? container.ram_used : container.disk_used, containerCapacity(container, resource));
}

export type RangeKey = '1h' | '24h' | '7d' | '30d';

export const RANGES: { key: RangeKey; label: string; seconds: number; step: number }[] = [
	{ key: '1h', label: '1 h', seconds: 3600, step: 60 },
	{ key: '24h', label: '24 h', seconds: 86400, step: 900 },
	{ key: '7d', label: '7 d', seconds: 7 * 86400, step: 3600 },
	{ key: '30d', label: '30 d', seconds: 30 * 86400, step: 4 * 3600 }
];

/** `from`/`to` (ISO) and `step` (seconds) for a range ending now. */
export function rangeParams(key: RangeKey, now: Date = new Date()): { from: string; to: string; step: number } {
	const range = RANGES.find((r) => r.key === key) ?? RANGES[0]!;
	return {
		from: new Date(now.getTime() - range.seconds * 1000).toISOString(),
		to: now.toISOString(),
		step: range.step
	};
}

export interface ChartSeries {
	key: Usage;
	label: string;
	/** Values in percent (0..100). */
	values: (number | null)[];
}

export interface MetricChart {
	times: string[];
	series: ChartSeries[];
}

const SERIES: { key: Usage; label: string }[] = [
	{ key: 'cpu', label: 'CPU' },
	{ key: 'ram', label: 'RAM' },
	{ key: 'disk', label: 'Disco' }
];

const percent = (fraction: number): number => Math.round(clamp(fraction) * 1000) / 10;

/**
 * Usage series in percent from `GET /api/infrastructure/metrics`: CPU is a fraction; RAM
 * and disk are bytes, shown as a share of the subject's capacity (dropped without one).
 */
export function metricChart(data: MetricSeries | null, capacity: Partial<Record<'ram' | 'disk', number | null>> = {}): MetricChart {
	const points = [...(data?.points ?? [])].sort((a, b) => a.t.localeCompare(b.t));
	const series: ChartSeries[] = [];
	for (const spec of SERIES) {
		const total = spec.key === 'cpu' ? 1 : capacity[spec.key];
		if (!total || total <= 0) continue;
		const values = points.map((p) => (p[spec.key] == null ? null : percent(p[spec.key]! / total)));
		if (values.some((v) => v != null)) series.push({ ...spec, values });
	}
	return { times: points.map((p) => p.t), series };
}
