import { describe, expect, it } from 'vitest';
import { ApiError, toApiError } from './api/errors';
import { asApiError, isAbsent, isConfigured, isUnavailable, metaMessage } from './api/optional';
import { filenameFromDisposition } from './api/billing';
import { asList } from './api/infrastructure';
import { logQuery, positiveInt } from './api/logs';
import {
	FIGURES,
	KPI_FIGURES,
	change,
	changeTone,
	hasFigures,
	hasMovements,
	isMonth,
	monthOf,
	movements,
	readComparison,
	seriesRows,
	shiftMonth,
	trailingMonths
} from './billing';
import { capacityBytes, metricChart, rangeParams, rowName, rowStatus, tenantOf, usage } from './infra';
import { displayValue, initialInput, integrationOf, settingPayload, validateSetting } from './settings';
import type { Setting } from './api/settings';

describe('optional endpoints', () => {
	it('tells a missing route from a missing record', () => {
		const route = toApiError(404, { success: false, error: 'NOT_FOUND', detail: 'La ruta solicitada no existe.' });
		const record = toApiError(404, { success: false, error: 'TENANT_NOT_FOUND', detail: 'No existe' });
		expect(isUnavailable(route)).toBe(true);
		expect(isUnavailable(record)).toBe(false);
		expect(isAbsent(record)).toBe(true);
		expect(isUnavailable(toApiError(405, null))).toBe(true);
		expect(isUnavailable(toApiError(500, null))).toBe(false);
		expect(isUnavailable(new Error('x'))).toBe(false);
	});

	it('reads meta.configured in its three shapes', () => {
		expect(isConfigured({ configured: false })).toBe(false);
		expect(isConfigured({ configured: true })).toBe(true);
		expect(isConfigured({ configured: { proxmox: false } })).toBe(false);
		expect(isConfigured({ configured: { proxmox: false, cloudflare: true } })).toBe(true);
		expect(isConfigured({ configured: ['proxmox'] })).toBe(false);
		expect(isConfigured({ configured: [] })).toBe(true);
		expect(isConfigured({ total: 3 })).toBeNull();
		expect(isConfigured(null)).toBeNull();
		expect(metaMessage({ configured: false, detail: ' Configure PROXMOX_HOST ' })).toBe('Configure PROXMOX_HOST');
		expect(metaMessage({})).toBeNull();
	});

	it('wraps unknown failures as ApiError', () => {
		const err = asApiError(new Error('boom'), 'No se pudo');
		expect(err).toBeInstanceOf(ApiError);
		expect(err.detail).toBe('No se pudo');
	});

	it('accepts a bare list or {items}', () => {
		expect(asList([{ a: 1 }, null, 3])).toEqual([{ a: 1 }]);
		expect(asList({ items: [{ b: 2 }] })).toEqual([{ b: 2 }]);
		expect(asList({ nothing: true })).toEqual([]);
		expect(asList(null)).toEqual([]);
	});
});

describe('log filters', () => {
	it('sends only valid filters', () => {
		expect(positiveInt(' 12 ')).toBe(12);
		expect(positiveInt('abc')).toBeUndefined();
		expect(positiveInt('0')).toBeUndefined();
		expect(positiveInt('1.5')).toBeUndefined();
		const query = logQuery({ tenant_id: '7', job_id: 'x', level: 'error', since: '2026-11-24T10:00', until: '', page: 1, per_page: 50 });
		expect(query.tenant_id).toBe(7);
		expect(query.job_id).toBeUndefined();
		expect(query.level).toBe('error');
		expect(query.since).toMatch(/^2026-11-2\dT\d\d:00:00\.000Z$/);
		expect(query.until).toBeUndefined();
		expect(query.page).toBeUndefined();
		expect(query.per_page).toBe(50);
		expect(logQuery({ level: '' })).toEqual({});
	});
});

describe('billing months', () => {
	it('does month arithmetic across years', () => {
		expect(shiftMonth('2026-01', -1)).toBe('2025-12');
		expect(shiftMonth('2025-12', 1)).toBe('2026-01');
		expect(shiftMonth('2026-11', -23)).toBe('2024-12');
		expect(trailingMonths('2026-11')).toEqual({ from: '2025-12', to: '2026-11' });
		expect(monthOf(new Date('2026-03-31T23:30:00Z'))).toBe('2026-03');
		expect(isMonth('2026-13')).toBe(false);
		expect(isMonth('2026-02')).toBe(true);
		expect(() => shiftMonth('nov', 1)).toThrow();
	});

	it('explains every KPI in one Spanish line', () => {
		for (const figure of KPI_FIGURES) {
			expect(FIGURES[figure].explanation.length).toBeGreaterThan(20);
			expect(FIGURES[figure].explanation).not.toContain('\n');
		}
		expect(FIGURES.customer_churn_rate.label).toBe('Cancelación (churn)');
		expect(FIGURES.revenue.label).toBe('Ingresos');
	});

	it('knows when a month has figures', () => {
		expect(hasFigures(null)).toBe(false);
		expect(hasFigures({ month: '2026-11', mrr: null })).toBe(false);
		expect(hasFigures({ month: '2026-11', mrr: 0 })).toBe(true);
	});
});

describe('MRR movements', () => {
	it('puts gains up and losses down whatever the sign', () => {
		const rows = seriesRows({
			items: [
				{ month: '2026-11', new_mrr: 1000, expansion_mrr: 200, contraction_mrr: 100, churned_mrr: -300, reactivation_mrr: 0 },
				{ month: '2026-10', new_mrr: 500 },
				{ month: 'bad' }
			]
		});
		expect(rows.map((r) => r.month)).toEqual(['2026-10', '2026-11']);
		const m = movements(rows);
		expect(m.months).toEqual(['2026-10', '2026-11']);
		const by = Object.fromEntries(m.datasets.map((d) => [d.key, d.values]));
		expect(by.new_mrr).toEqual([500, 1000]);
		expect(by.contraction_mrr).toEqual([null, -100]);
		expect(by.churned_mrr).toEqual([null, -300]);
		expect(m.net).toEqual([500, 800]);
		expect(hasMovements(m)).toBe(true);
		expect(hasMovements(movements([{ month: '2026-01' }]))).toBe(false);
		expect(seriesRows([{ month: '2026-01' }])).toHaveLength(1);
		expect(seriesRows('nope')).toEqual([]);
	});
});

describe('comparison', () => {
	it('computes the change when the API gives only both months', () => {
		const c = readComparison({
			month: '2026-11',
			current: { month: '2026-11', currency: 'usd', mrr: 12000, customer_churn_rate: 0.05, nrr: null },
			previous: { month: '2026-10', mrr: 10000, customer_churn_rate: 0.1 }
		});
		expect(c.month).toBe('2026-11');
		expect(c.previousMonth).toBe('2026-10');
		expect(c.currency).toBe('usd');
		expect(c.figures.mrr).toEqual({ current: 12000, previous: 10000, absolute: 2000, relative: 0.2 });
		expect(c.figures.customer_churn_rate!.absolute).toBeCloseTo(-0.05);
		expect(c.figures.nrr).toBeUndefined();
		expect(changeTone('mrr', c.figures.mrr)).toBe('good');
		expect(changeTone('customer_churn_rate', c.figures.customer_churn_rate)).toBe('good');
	});

	it('keeps the API\'s own changes and reads per-figure shapes', () => {
		const listed = readComparison({
			month: '2026-11',
			figures: [{ key: 'mrr', current: 100, previous: 0, absolute: 100, relative: null }]
		});
		expect(listed.previousMonth).toBe('2026-10');
		expect(listed.figures.mrr).toEqual({ current: 100, previous: 0, absolute: 100, relative: null });
		const keyed = readComparison({ metrics: { arpa: { current: 50, previous: 40, change: 10, relative_change: 0.25 } } });
		expect(keyed.figures.arpa).toEqual({ current: 50, previous: 40, absolute: 10, relative: 0.25 });
		const blocks = readComparison({ current: { mrr: 5 }, previous: { mrr: 4 }, change: { mrr: 1 }, relative_change: { mrr: 0.25 } });
		expect(blocks.figures.mrr).toEqual({ current: 5, previous: 4, absolute: 1, relative: 0.25 });
		expect(readComparison(null).figures).toEqual({});
	});

	it('has no relative change from zero', () => {
		expect(change(5, 0)).toEqual({ current: 5, previous: 0, absolute: 5, relative: null });
		expect(change(null, 3)).toEqual({ current: null, previous: 3, absolute: null, relative: null });
		expect(change(-2, -4).relative).toBe(0.5);
		expect(changeTone('churned_customers', change(3, 1))).toBe('bad');
		expect(changeTone('mrr', undefined)).toBe('neutral');
	});
});

describe('infrastructure records', () => {
	it('picks names, statuses and tenants', () => {
		expect(rowName({ hostname: 'pve1', name: 'x' })).toBe('pve1');
		expect(rowName({ vmid: 105, name: 'odoo' })).toBe('odoo');
		expect(rowName({})).toBe('—');
		expect(rowStatus({ state: 'running' })).toBe('running');
		expect(tenantOf({ tenant: { id: 4, subdomain: 'acme' } })).toEqual({ id: 4, label: 'acme' });
		expect(tenantOf({ tenant_id: 9 })).toEqual({ id: 9, label: '#9' });
		expect(tenantOf({ tenant: 'acme', tenant_id: 3 })).toEqual({ id: 3, label: 'acme' });
		expect(tenantOf({})).toBeNull();
	});

	it('reads usage as a fraction from any common field', () => {
		expect(usage({ cpu: 0.25 }, 'cpu')).toBe(0.25);
		expect(usage({ cpu_usage: 42 }, 'cpu')).toBe(0.42);
		expect(usage({ cpu_percent: 80 }, 'cpu')).toBe(0.8);
		expect(usage({ ram_used: 2, ram_total: 8 }, 'ram')).toBe(0.25);
		expect(usage({ mem: 4, maxmem: 8 }, 'ram')).toBe(0.5);
		expect(usage({ disk_used: 9, disk_total: 0 }, 'disk')).toBeNull();
		expect(usage({}, 'disk')).toBeNull();
		expect(capacityBytes({ ram_mb: 2048 }, 'ram')).toBe(2 * 1024 ** 3);
		expect(capacityBytes({ disk_total: 100 }, 'disk')).toBe(100);
		expect(capacityBytes({}, 'ram')).toBeNull();
	});

	it('builds metric series in percent from points or named series', () => {
		const fromPoints = metricChart([
			{ at: '2026-11-24T10:01:00Z', cpu: 0.5, ram_used: 1, ram_total: 4 },
			{ at: '2026-11-24T10:00:00Z', cpu: 0.25, ram_used: 2, ram_total: 4 }
		]);
		expect(fromPoints.times).toEqual(['2026-11-24T10:00:00Z', '2026-11-24T10:01:00Z']);
		expect(fromPoints.series.map((s) => s.key)).toEqual(['cpu', 'ram']);
		expect(fromPoints.series[0]!.values).toEqual([25, 50]);
		expect(fromPoints.series[1]!.values).toEqual([50, 25]);
		const named = metricChart({
			series: [
				{ name: 'cpu', points: [[1795500000, 0.1], [1795500060, 0.2]] },
				{ name: 'mem_percent', points: [{ at: '2026-11-24T10:00:00.000Z', value: 40 }] }
			]
		});
		expect(named.series.map((s) => s.label)).toEqual(['CPU', 'RAM']);
		expect(named.times).toHaveLength(3);
		expect(metricChart({ points: [] })).toEqual({ times: [], series: [] });
		expect(metricChart('x')).toEqual({ times: [], series: [] });
	});

	it('turns a range into from/to/step', () => {
		const now = new Date('2026-11-24T12:00:00Z');
		expect(rangeParams('1h', now)).toEqual({ from: '2026-11-24T11:00:00.000Z', to: '2026-11-24T12:00:00.000Z', step: 60 });
		expect(rangeParams('30d', now).from).toBe('2026-10-25T12:00:00.000Z');
	});
});

describe('settings form', () => {
	const secret: Setting = { key: 'STRIPE_SECRET_KEY', value: '••••1234', is_secret: true, type: 'secret', editable: true, source: 'environment' };
	const url: Setting = { key: 'ODOO_URL', value: 'http://odoo:8069', type: 'url', editable: true };
	const flag: Setting = { key: 'X', value: 'true', type: 'bool' };
	const int: Setting = { key: 'CAP', value: '50', type: 'int' };

	it('treats secrets as write-only', () => {
		expect(initialInput(secret)).toBe('');
		expect(settingPayload(secret, '')).toBeUndefined();
		expect(settingPayload(secret, 'sk_test_new')).toBe('sk_test_new');
		expect(displayValue(secret)).toBe('••••1234');
	});

	it('validates and sends only changes', () => {
		expect(validateSetting(url, 'ftp://x')).toMatch(/http/);
		expect(validateSetting(url, 'no es url')).toMatch(/URL/);
		expect(validateSetting(url, 'https://odoo.example.com')).toBeNull();
		expect(validateSetting(int, '5x')).toMatch(/entero/);
		expect(validateSetting(int, '')).toBeNull();
		expect(settingPayload(url, ' http://odoo:8069 ')).toBeUndefined();
		expect(settingPayload(url, '')).toBeNull();
		expect(settingPayload(int, '60')).toBe('60');
		expect(initialInput(flag)).toBe('true');
		expect(settingPayload(flag, 'false')).toBe('false');
		expect(displayValue(flag)).toBe('Sí');
		expect(displayValue({ key: 'k', value: null })).toBe('—');
	});

	it('maps categories to testable integrations', () => {
		expect(integrationOf('Stripe')).toBe('stripe');
		expect(integrationOf('general')).toBeNull();
	});
});

describe('download file names', () => {
	it('parses Content-Disposition safely', () => {
		expect(filenameFromDisposition('attachment; filename="acme-2026-11-24.zip"')).toBe('acme-2026-11-24.zip');
		expect(filenameFromDisposition("attachment; filename*=UTF-8''compa%C3%B1%C3%ADa.dump; filename=\"x.dump\"")).toBe('compañía.dump');
		expect(filenameFromDisposition('attachment; filename=../../etc/passwd')).toBe('passwd');
		expect(filenameFromDisposition('attachment')).toBeNull();
		expect(filenameFromDisposition(null)).toBeNull();
	});
});

import { statusInfo } from './status';
describe('status words', () => {
	it('covers services, infrastructure and unknown words', () => {
		expect(statusInfo('not_configured')).toEqual({ label: 'Sin configurar', tone: 'neutral' });
		expect(statusInfo('degraded').label).toBe('Degradado');
		expect(statusInfo('down')).toEqual({ label: 'Caído', tone: 'error' });
		expect(statusInfo('running').label).toBe('En ejecución');
		expect(statusInfo('Online').label).toBe('En línea');
		expect(statusInfo('draining').tone).toBe('warning');
		expect(statusInfo('weird')).toEqual({ label: 'weird', tone: 'neutral' });
	});
});

import { rowKey } from './infra';
describe('row keys', () => {
	it('uses ids, else a key made once per object', () => {
		expect(rowKey({ vmid: 105 })).toBe('id:105');
		const a = { name: 'x' };
		const b = { name: 'x' };
		expect(rowKey(a)).toBe(rowKey(a));
		expect(rowKey(a)).not.toBe(rowKey(b));
	});
});

import { formatAbsoluteChange, formatChange, formatFigure } from './billing';
describe('billing figures as text', () => {
	const plain = (text: string | null) => text?.replace(/[\u00a0\u202f]/g, ' ') ?? null;
	it('formats values and changes by kind', () => {
		expect(plain(formatFigure('mrr', 123456, 'usd'))).toBe('1.234,56 US$');
		expect(plain(formatFigure('customer_churn_rate', 0.125, 'usd'))).toBe('12,5 %');
		expect(plain(formatFigure('active_customers', 1234, null))).toBe('1.234');
		expect(plain(formatFigure('nrr', null, 'usd'))).toBe('—');
		expect(plain(formatChange('mrr', change(12000, 10000)))).toBe('+20,0 %');
		expect(plain(formatChange('mrr', change(8000, 10000)))).toBe('−20,0 %');
		expect(plain(formatChange('mrr', change(5, 0)))).toBeNull();
		expect(plain(formatChange('customer_churn_rate', change(0.05, 0.065)))).toBe('−1,5 p. p.');
		expect(plain(formatAbsoluteChange('mrr', change(12000, 10000), 'usd'))).toBe('+20,00 US$');
		expect(plain(formatAbsoluteChange('churned_customers', change(1, 3), null))).toBe('−2');
		expect(plain(formatAbsoluteChange('mrr', undefined, 'usd'))).toBe('—');
		expect(statusInfo('paid')).toEqual({ label: 'Pagada', tone: 'success' });
		expect(statusInfo('running').label).toBe('En ejecución');
	});
});

describe('comparison months', () => {
	it('never compares a month with itself', () => {
		expect(readComparison({ month: '2026-11', current: { mrr: 1 }, previous: { month: '2026-11', mrr: 1 } }).previousMonth).toBe('2026-10');
		expect(readComparison({ current: { month: '2026-03', mrr: 1 }, previous: { month: '2026-02', mrr: 1 } }).previousMonth).toBe('2026-02');
		expect(readComparison({}).previousMonth).toBeNull();
	});
});

describe('metrics as the API sends them', () => {
	it('turns byte samples into a share of the capacity, and drops unknown units', () => {
		const points = [
			{ t: '2026-11-24T10:00:00Z', cpu: 0.5, ram: 2 * 1024 ** 3, disk: 10 * 1024 ** 3, samples: 3 },
			{ t: '2026-11-24T11:00:00Z', cpu: null, ram: 4 * 1024 ** 3, disk: null, samples: 0 }
		];
		const withCapacity = metricChart({ kind: 'container', id: 7, step: 3600, points }, { ram: 8 * 1024 ** 3, disk: 100 * 1024 ** 3 });
		expect(withCapacity.series.map((s) => [s.key, s.values])).toEqual([
			['cpu', [50, null]],
			['ram', [25, 50]],
			['disk', [10, null]]
		]);
		const blind = metricChart({ points });
		expect(blind.series.map((s) => s.key)).toEqual(['cpu']);
	});

	it('reads container capacity from ram_mb / disk_gb', () => {
		expect(usage({ ram_used: 1024 ** 3, ram_mb: 2048 }, 'ram')).toBe(0.5);
		expect(usage({ disk_used: 5 * 1024 ** 3, disk_gb: 10 }, 'disk')).toBe(0.5);
		expect(usage({ cpu_usage: null, cpu_cores: 4 }, 'cpu')).toBeNull();
	});
});
