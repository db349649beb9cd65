/**
 * Reading infrastructure records whose exact shape is still settling: each picker tries the
 * field names the seed and Proxmox use and returns null when none is there, so the page
 * prints "—" rather than a guess.
 */
import type { Loose } from './api/infrastructure';

export function pickText(row: Loose, ...keys: string[]): string | null {
	for (const key of keys) {
		const value = row[key];
		if (typeof value === 'string' && value.trim()) return value.trim();
		if (typeof value === 'number' && Number.isFinite(value)) return String(value);
	}
	return null;
}

export function pickNumber(row: Loose, ...keys: string[]): number | null {
	for (const key of keys) {
		const value = row[key];
		if (typeof value === 'number' && Number.isFinite(value)) return value;
		if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
	}
	return null;
}

export function rowName(row: Loose): string {
	return pickText(row, 'hostname', 'name', 'label', 'subdomain', 'id') ?? '—';
}

export function rowStatus(row: Loose): string | null {
	return pickText(row, 'status', 'state', 'health');
}

const anonymous = new WeakMap<object, string>();
let anonymousCount = 0;

/** A stable key for a keyed #each: the record's id, or one made up once per object. */
export function rowKey(row: Loose): string {
	const id = pickText(row, 'id', 'vmid', 'tunnel_id');
	if (id) return `id:${id}`;
	let key = anonymous.get(row);
	if (!key) {
		key = `anon:${++anonymousCount}`;
		anonymous.set(row, key);
	}
	return key;
}

export type Resource = 'cpu' | 'ram' | 'disk';

const USAGE_KEYS: Record<Resource, { fraction: string[]; percent: string[]; used: string[]; total: string[] }> = {
	cpu: {
		fraction: ['cpu_usage', 'cpu'],
		percent: ['cpu_percent', 'cpu_pct'],
		used: ['cpu_used'],
		total: ['cpu_total', 'cpu_cores', 'maxcpu', 'cpus']
	},
	ram: {
		fraction: ['ram_usage', 'mem_usage', 'memory_usage'],
		percent: ['ram_percent', 'mem_percent', 'memory_percent'],
		used: ['ram_used', 'mem_used', 'memory_used', 'mem'],
		total: ['ram_total', 'mem_total', 'memory_total', 'maxmem']
	},
	disk: {
		fraction: ['disk_usage'],
		percent: ['disk_percent'],
		used: ['disk_used', 'disk'],
		total: ['disk_total', 'maxdisk']
	}
};

/**
 * Share of a resource in use, 0..1, or null. Fractions may come as 0..1 or 0..100 (a value
 * above 1 is read as a percentage); `*_percent` fields are always percentages; otherwise
 * used ÷ total.
 */
export function usage(row: Loose, resource: Resource): number | null {
	const keys = USAGE_KEYS[resource];
	const percent = pickNumber(row, ...keys.percent);
	if (percent != null) return clamp(percent / 100);
	const fraction = pickNumber(row, ...keys.fraction);
	if (fraction != null) return clamp(fraction > 1 ? fraction / 100 : fraction);
	if (resource === 'cpu') return null;
	const used = pickNumber(row, ...keys.used);
	const total = capacityBytes(row, resource);
	if (used != null && total != null && total > 0) return clamp(used / total);
	return null;
}

function clamp(value: number): number {
	return Math.min(1, Math.max(0, value));
}

/** Bytes of a resource from `*_total` (bytes) or `*_mb` / `*_gb` fields. */
export function capacityBytes(row: Loose, resource: 'ram' | 'disk'): number | null {
	const bytes = pickNumber(row, ...USAGE_KEYS[resource].total);
	if (bytes != null) return bytes;
	const mb = pickNumber(row, `${resource}_mb`, resource === 'ram' ? 'memory_mb' : 'disk_mb');
	if (mb != null) return mb * 1024 * 1024;
	const gb = pickNumber(row, `${resource}_gb`, resource === 'ram' ? 'memory_gb' : 'disk_gb');
	if (gb != null) return gb * 1024 ** 3;
	return null;
}

export function cores(row: Loose): number | null {
	return pickNumber(row, 'cpu_cores', 'cpu_total', 'maxcpu', 'cpus', 'cores');
}

/** The tenant a container or tunnel belongs to: a nested object, a subdomain or an id. */
export function tenantOf(row: Loose): { id: number | null; label: string } | null {
	const nested = row.tenant;
	if (typeof nested === 'object' && nested !== null) {
		const t = nested as Loose;
		const id = pickNumber(t, 'id');
		const label = pickText(t, 'subdomain', 'company_name', 'name') ?? (id != null ? `#${id}` : null);
		return label ? { id, label } : null;
	}
	if (typeof nested === 'string' && nested.trim()) return { id: pickNumber(row, 'tenant_id'), label: nested.trim() };
	const id = pickNumber(row, 'tenant_id');
	const label = pickText(row, 'tenant_subdomain', 'subdomain');
	if (label) return { id, label };
	return id != null ? { id, label: `#${id}` } : null;
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

export interface MetricSeries {
	key: string;
	label: string;
	/** Values in percent (0..100) for usage series. */
	values: (number | null)[];
}

export interface MetricChart {
	times: string[];
	series: MetricSeries[];
}

const SERIES: { key: string; label: string; aliases: string[] }[] = [
	{ key: 'cpu', label: 'CPU', aliases: ['cpu', 'cpu_usage', 'cpu_percent'] },
	{ key: 'ram', label: 'RAM', aliases: ['ram', 'ram_usage', 'mem', 'mem_usage', 'memory', 'ram_percent', 'mem_percent'] },
	{ key: 'disk', label: 'Disco', aliases: ['disk', 'disk_usage', 'disk_percent'] }
];

function timeOf(point: Loose): string | null {
	const value = point.at ?? point.t ?? point.time ?? point.timestamp ?? point.ts;
	if (typeof value === 'number') return new Date(value < 1e12 ? value * 1000 : value).toISOString();
	return typeof value === 'string' ? value : null;
}

function toPercent(key: string, value: unknown, capacity?: number | null): number | null {
	const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
	if (!Number.isFinite(n)) return null;
	if (key.endsWith('_percent')) return Math.round(n * 10) / 10;
	// RAM and disk samples are bytes: a share of the subject's capacity.
	if (capacity && capacity > 0 && n > 1) return Math.round((n / capacity) * 1000) / 10;
	if (n > 100) return NaN;
	if (n > 1) return Math.round(n * 10) / 10;
	return Math.round(n * 1000) / 10;
}

/** NaN marks a value in an unknown unit (bytes without a capacity): the series is dropped. */
function usable(values: (number | null)[]): boolean {
	return values.some((v) => v != null) && !values.some((v) => v != null && Number.isNaN(v));
}

/**
 * Turns a metrics answer into labelled usage series (percent). Accepts a list of points
 * (`[{at, cpu, ram, disk}]`), `{points: [...]}`, or `{series: [{name, points: [{at, value}]}]}`.
 * Fields with used/total pairs (`ram_used` + `ram_total`) become percentages too.
 */
export function metricChart(data: unknown, capacity: Partial<Record<'ram' | 'disk', number | null>> = {}): MetricChart {
	const root = typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Loose) : null;
	const named = root?.series;
	if (Array.isArray(named)) {
		const byTime = new Map<string, Map<string, number | null>>();
		const series: { key: string; label: string }[] = [];
		for (const entry of named) {
			if (typeof entry !== 'object' || entry === null) continue;
			const s = entry as Loose;
			const name = pickText(s, 'name', 'key', 'metric');
			if (!name) continue;
			const known = SERIES.find((k) => k.aliases.includes(name));
			series.push({ key: known?.key ?? name, label: pickText(s, 'label') ?? known?.label ?? name });
			const points = Array.isArray(s.points) ? s.points : Array.isArray(s.data) ? s.data : [];
			for (const p of points) {
				const [t, v] = Array.isArray(p) ? [typeof p[0] === 'number' ? new Date(p[0] < 1e12 ? p[0] * 1000 : p[0]).toISOString() : String(p[0]), p[1]] : [timeOf(p as Loose), (p as Loose).value];
				if (!t) continue;
				const row = byTime.get(t) ?? new Map();
				const key = known?.key ?? name;
				row.set(key, toPercent(name, v, key === 'ram' || key === 'disk' ? capacity[key] : null));
				byTime.set(t, row);
			}
		}
		const times = [...byTime.keys()].sort();
		return {
			times,
			series: series
				.map((s) => ({ ...s, values: times.map((t) => byTime.get(t)?.get(s.key) ?? null) }))
				.filter((s) => usable(s.values))
		};
	}
	const list = Array.isArray(data) ? data : Array.isArray(root?.points) ? (root!.points as unknown[]) : Array.isArray(root?.items) ? (root!.items as unknown[]) : [];
	const points = list.filter((p): p is Loose => typeof p === 'object' && p !== null).map((p) => ({ t: timeOf(p), p })).filter((x): x is { t: string; p: Loose } => !!x.t);
	points.sort((a, b) => a.t.localeCompare(b.t));
	const series: MetricSeries[] = [];
	for (const spec of SERIES) {
		const values = points.map(({ p }) => {
			const cap = spec.key === 'ram' || spec.key === 'disk' ? capacity[spec.key as 'ram' | 'disk'] : null;
			for (const alias of spec.aliases) if (p[alias] != null) return toPercent(alias, p[alias], cap);
			const u = usage(p, spec.key as Resource);
			return u == null ? null : Math.round(u * 1000) / 10;
		});
		if (usable(values)) series.push({ key: spec.key, label: spec.label, values });
	}
	return { times: points.map((x) => x.t), series };
}
