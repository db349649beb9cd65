import { describe, expect, it } from 'vitest';
import { filenameFromDisposition } from './api/billing';
import { groupByOperation, logQuery, positiveInt } from './api/logs';
import type { JobLogLine } from './api/types';
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
import { containerUsage, metricChart, nodeUsage, rangeParams } from './infra';
import { displayValue, initialInput, integrationOf, settingPayload, validateSetting } from './settings';
import type { BillingComparison, Container, MetricPoint, MonthMetrics, ProxmoxNode, Setting } from './api/types';

/** A month as GET /api/billing/metrics sends it: every figure present (zeros unless given). */
function month(value: string, figures: Partial<MonthMetrics> = {}): MonthMetrics {
	return {
		month: value,
		currency: 'usd',
		active_customers: 0,
		arpa: null,
		arr: 0,
		churned_customers: 0,
		churned_mrr: 0,
		contraction_mrr: 0,
		customer_churn_rate: null,
		customers_start: 0,
		expansion_mrr: 0,
		gross_mrr_churn_rate: null,
		mrr: 0,
		mrr_start: 0,
		net_mrr_churn_rate: null,
		new_customers: 0,
		new_mrr: 0,
		nrr: null,
		reactivated_customers: 0,
		reactivation_mrr: 0,
		revenue: 0,
		...figures
	};
}

function point(t: string, values: Partial<MetricPoint>): MetricPoint {
	return {
		t,
		cpu: null,
		cpu_max: null,
		ram: null,
		ram_max: null,
		disk: null,
		disk_max: null,
		netin: null,
		netin_max: null,
		netout: null,
		netout_max: null,
		samples: 1,
		...values
	};
}

function setting(values: Partial<Setting> & Pick<Setting, 'key'>): Setting {
	return {
		category: 'general',
		label: values.key,
		description: '',
		value: null,
		is_secret: false,
		editable: true,
		source: 'default',
		type: 'string',
		...values
	};
}

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
		expect(logQuery({ tenant: '  Acme ' })).toEqual({ tenant: 'Acme' });
	});

	it('groups consecutive log lines by operation, named by tenant', () => {
		const line = (id: number, job_id: number, tenant_name: string | null): JobLogLine => ({
			id,
			job_id,
			tenant_id: tenant_name ? 3 : null,
			tenant_name,
			tenant_subdomain: tenant_name ? 'acme' : null,
			job_title: job_id === 9 ? 'Creación' : 'Respaldo',
			step: null,
			step_label: null,
			level: 'info',
			message: 'ok',
			at: '2026-11-24T10:00:00Z'
		});
		const groups = groupByOperation([line(5, 9, 'Acme'), line(4, 9, 'Acme'), line(3, 8, null), line(2, 9, 'Acme')]);
		expect(groups.map((g) => [g.jobId, g.title, g.tenantName, g.lines.length])).toEqual([
			[9, 'Creación', 'Acme', 2],
			[8, 'Respaldo', null, 1],
			[9, 'Creación', 'Acme', 1]
		]);
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
		expect(hasFigures(month('2026-11'))).toBe(true);
	});
});

describe('MRR movements', () => {
	it('puts gains up and losses down whatever the sign', () => {
		const rows = seriesRows([
			month('2026-11', { new_mrr: 1000, expansion_mrr: 200, contraction_mrr: 100, churned_mrr: -300, reactivation_mrr: 0 }),
			month('2026-10', { new_mrr: 500 }),
			month('bad')
		]);
		expect(rows.map((r) => r.month)).toEqual(['2026-10', '2026-11']);
		const m = movements(rows);
		expect(m.months).toEqual(['2026-10', '2026-11']);
		const by = Object.fromEntries(m.datasets.map((d) => [d.key, d.values]));
		expect(by.new_mrr).toEqual([500, 1000]);
		expect(by.contraction_mrr).toEqual([0, -100]);
		expect(by.churned_mrr).toEqual([0, -300]);
		expect(m.net).toEqual([500, 800]);
		expect(hasMovements(m)).toBe(true);
		expect(hasMovements(movements([month('2026-01')]))).toBe(false);
		expect(seriesRows(null)).toEqual([]);
	});
});

describe('comparison', () => {
	const answer = (current: Partial<MonthMetrics>, previous: Partial<MonthMetrics>, extra: Partial<BillingComparison> = {}): BillingComparison => ({
		month: '2026-11',
		previous_month: '2026-10',
		current: month('2026-11', current),
		previous: month('2026-10', previous),
		change: {},
		change_pct: {},
		...extra
	});

	it('computes the change when the API leaves it out', () => {
		const c = readComparison(answer({ mrr: 12000, customer_churn_rate: 0.05 }, { mrr: 10000, customer_churn_rate: 0.1 }));
		expect(c.month).toBe('2026-11');
		expect(c.previousMonth).toBe('2026-10');
		expect(c.currency).toBe('usd');
		expect(c.figures.mrr).toEqual({ current: 12000, previous: 10000, absolute: 2000, relative: 0.2 });
		expect(c.figures.customer_churn_rate!.absolute).toBeCloseTo(-0.05);
		expect(c.figures.nrr).toBeUndefined();
		expect(changeTone('mrr', c.figures.mrr)).toBe('good');
		expect(changeTone('customer_churn_rate', c.figures.customer_churn_rate)).toBe('good');
	});

	it("keeps the API's own changes", () => {
		const c = readComparison(answer({ arpa: 50 }, { arpa: 40 }, { change: { arpa: 10 }, change_pct: { arpa: 0.25 } }));
		expect(c.figures.arpa).toEqual({ current: 50, previous: 40, absolute: 10, relative: 0.25 });
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

describe('infrastructure usage', () => {
	const node: ProxmoxNode = {
		id: 1,
		hostname: 'pve1',
		status: 'online',
		containers: 2,
		cpu_total: 8,
		cpu_usage: 0.25,
		ram_total: 8 * 1024 ** 3,
		ram_used: 2 * 1024 ** 3,
		disk_total: 0,
		disk_used: 9,
		last_seen_at: null,
		tunnel_id: null
	};
	const container: Container = {
		id: 7,
		vmid: 105,
		node: 'pve1',
		hostname: 'acme',
		status: 'running',
		ip_address: null,
		tenant: null,
		cpu_cores: 4,
		cpu_usage: null,
		ram_mb: 2048,
		ram_used: 1024 ** 3,
		disk_gb: 10,
		disk_used: 5 * 1024 ** 3,
		last_seen_at: null
	};

	it('reads shares from the typed rows (CPU fraction, bytes of capacity)', () => {
		expect(nodeUsage(node, 'cpu')).toBe(0.25);
		expect(nodeUsage(node, 'ram')).toBe(0.25);
		expect(nodeUsage(node, 'disk')).toBeNull();
		expect(containerUsage(container, 'ram')).toBe(0.5);
		expect(containerUsage(container, 'disk')).toBe(0.5);
		expect(containerUsage(container, 'cpu')).toBeNull();
	});

	it('turns byte samples into a share of the capacity, and drops series without one', () => {
		const points = [
			point('2026-11-24T11:00:00Z', { ram: 4 * 1024 ** 3, samples: 0 }),
			point('2026-11-24T10:00:00Z', { cpu: 0.5, ram: 2 * 1024 ** 3, disk: 10 * 1024 ** 3, samples: 3 })
		];
		const series = { kind: 'container', id: 7, step: 3600, source: 'raw', points };
		const withCapacity = metricChart(series, { ram: 8 * 1024 ** 3, disk: 100 * 1024 ** 3 });
		expect(withCapacity.times).toEqual(['2026-11-24T10:00:00Z', '2026-11-24T11:00:00Z']);
		expect(withCapacity.series.map((s) => [s.key, s.values])).toEqual([
			['cpu', [50, null]],
			['ram', [25, 50]],
			['disk', [10, null]]
		]);
		expect(metricChart(series).series.map((s) => s.key)).toEqual(['cpu']);
		expect(metricChart(null)).toEqual({ times: [], series: [] });
	});

	it('turns a range into from/to/step', () => {
		const now = new Date('2026-11-24T12:00:00Z');
		expect(rangeParams('1h', now)).toEqual({ from: '2026-11-24T11:00:00.000Z', to: '2026-11-24T12:00:00.000Z', step: 60 });
		expect(rangeParams('30d', now).from).toBe('2026-10-25T12:00:00.000Z');
	});
});

describe('settings form', () => {
	const secret = setting({ key: 'STRIPE_SECRET_KEY', value: '••••1234', is_secret: true, type: 'secret', source: 'environment' });
	const url = setting({ key: 'ODOO_URL', value: 'http://odoo:8069', type: 'url' });
	const flag = setting({ key: 'X', value: 'true', type: 'bool' });
	const int = setting({ key: 'CAP', value: '50', type: 'int' });

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
		expect(displayValue(setting({ key: 'k' }))).toBe('—');
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
