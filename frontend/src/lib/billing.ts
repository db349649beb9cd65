/**
 * Billing figures for the screen: the one-line explanations (shared/ui-es.md), month
 * arithmetic, MRR movements for the chart and the comparison answer as per-figure changes.
 * Everything that is missing stays null, so the page prints "—", never an invented zero.
 */
import type { BillingComparison, MonthMetrics } from './api/types';
import { formatMoney, formatNumber, formatPercent } from './format';

export type Figure =
	| 'mrr'
	| 'arr'
	| 'revenue'
	| 'customer_churn_rate'
	| 'gross_mrr_churn_rate'
	| 'net_mrr_churn_rate'
	| 'arpa'
	| 'nrr'
	| 'active_customers'
	| 'new_customers'
	| 'churned_customers'
	| 'new_mrr'
	| 'expansion_mrr'
	| 'contraction_mrr'
	| 'churned_mrr'
	| 'reactivation_mrr';

export type FigureKind = 'money' | 'rate' | 'count';

export interface FigureInfo {
	label: string;
	kind: FigureKind;
	/** One line, shown on hover and read by screen readers. */
	explanation: string;
	/** Whether a rise is good news (MRR) or bad (churn). */
	positiveIsGood: boolean;
}

export const FIGURES: Record<Figure, FigureInfo> = {
	mrr: {
		label: 'MRR',
		kind: 'money',
		explanation: 'Ingreso mensual recurrente: suma mensualizada de las suscripciones activas al cierre del mes.',
		positiveIsGood: true
	},
	arr: {
		label: 'ARR',
		kind: 'money',
		explanation: 'Ingreso anual recurrente: el MRR multiplicado por 12.',
		positiveIsGood: true
	},
	revenue: {
		label: 'Ingresos',
		kind: 'money',
		explanation: 'Importe cobrado en el mes según las facturas pagadas, neto de reembolsos.',
		positiveIsGood: true
	},
	customer_churn_rate: {
		label: 'Cancelación (churn)',
		kind: 'rate',
		explanation: 'Clientes que cancelaron en el mes ÷ clientes que pagaban al empezar el mes.',
		positiveIsGood: false
	},
	gross_mrr_churn_rate: {
		label: 'Churn bruto de MRR',
		kind: 'rate',
		explanation: 'MRR perdido por cancelaciones y reducciones ÷ MRR al empezar el mes.',
		positiveIsGood: false
	},
	net_mrr_churn_rate: {
		label: 'Churn neto de MRR',
		kind: 'rate',
		explanation: 'MRR perdido menos el ganado por ampliaciones y reactivaciones ÷ MRR al empezar el mes.',
		positiveIsGood: false
	},
	arpa: {
		label: 'ARPA',
		kind: 'money',
		explanation: 'Ingreso medio por cuenta: MRR ÷ clientes activos.',
		positiveIsGood: true
	},
	nrr: {
		label: 'NRR',
		kind: 'rate',
		explanation: 'Retención neta de ingresos: MRR de los clientes del inicio del mes, al cierre, ÷ su MRR inicial.',
		positiveIsGood: true
	},
	active_customers: { label: 'Clientes activos', kind: 'count', explanation: 'Clientes con una suscripción activa al cierre del mes.', positiveIsGood: true },
	new_customers: { label: 'Clientes nuevos', kind: 'count', explanation: 'Clientes que empezaron a pagar en el mes.', positiveIsGood: true },
	churned_customers: { label: 'Clientes perdidos', kind: 'count', explanation: 'Clientes que cancelaron en el mes.', positiveIsGood: false },
	new_mrr: { label: 'MRR nuevo', kind: 'money', explanation: 'MRR de clientes nuevos.', positiveIsGood: true },
	expansion_mrr: { label: 'Ampliación', kind: 'money', explanation: 'MRR ganado por clientes que subieron de plan.', positiveIsGood: true },
	contraction_mrr: { label: 'Reducción', kind: 'money', explanation: 'MRR perdido por clientes que bajaron de plan.', positiveIsGood: false },
	churned_mrr: { label: 'Cancelado', kind: 'money', explanation: 'MRR perdido por cancelaciones.', positiveIsGood: false },
	reactivation_mrr: { label: 'Reactivación', kind: 'money', explanation: 'MRR de clientes que volvieron a pagar.', positiveIsGood: true }
};

/** The KPI cards of the Facturación page, in order. */
export const KPI_FIGURES: Figure[] = ['mrr', 'arr', 'revenue', 'customer_churn_rate', 'arpa', 'nrr'];

/** The rows of the month-over-month table, in order. */
export const COMPARISON_FIGURES: Figure[] = [
	'mrr',
	'arr',
	'revenue',
	'arpa',
	'active_customers',
	'new_customers',
	'churned_customers',
	'customer_churn_rate',
	'gross_mrr_churn_rate',
	'net_mrr_churn_rate',
	'nrr'
];

const MONTH = /^(\d{4})-(\d{2})$/;

export function isMonth(value: string | null | undefined): value is string {
	const m = value ? MONTH.exec(value) : null;
	return !!m && Number(m[2]) >= 1 && Number(m[2]) <= 12;
}

/** "2026-11" for a date, in UTC (billing months are UTC months). */
export function monthOf(date: Date = new Date()): string {
	return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** `shiftMonth('2026-01', -1)` → "2025-12". */
export function shiftMonth(month: string, delta: number): string {
	const m = MONTH.exec(month);
	if (!m) throw new Error(`Mes no válido: ${month}`);
	const index = Number(m[1]) * 12 + (Number(m[2]) - 1) + delta;
	return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/** The 12 months ending at `month` (inclusive): `{from: "2025-12", to: "2026-11"}`. */
export function trailingMonths(month: string, count = 12): { from: string; to: string } {
	return { from: shiftMonth(month, -(count - 1)), to: month };
}

export type SeriesRow = MonthMetrics;

/** The months of `GET /api/billing/metrics/series`, oldest first. */
export function seriesRows(data: MonthMetrics[] | null | undefined): SeriesRow[] {
	return [...(data ?? [])].filter((r) => isMonth(r.month)).sort((a, b) => a.month.localeCompare(b.month));
}

function num(value: unknown): number | null {
	return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export const MOVEMENTS = [
	{ key: 'new_mrr', label: 'Nuevo', sign: 1 },
	{ key: 'expansion_mrr', label: 'Ampliación', sign: 1 },
	{ key: 'reactivation_mrr', label: 'Reactivación', sign: 1 },
	{ key: 'contraction_mrr', label: 'Reducción', sign: -1 },
	{ key: 'churned_mrr', label: 'Cancelado', sign: -1 }
] as const;

export interface Movements {
	months: string[];
	datasets: { key: (typeof MOVEMENTS)[number]['key']; label: string; values: (number | null)[] }[];
	/** Net MRR change per month (sum of the movements), null when none was given. */
	net: (number | null)[];
}

/**
 * MRR movements per month for a stacked bar chart: gains up, losses (contraction, churn)
 * down whatever sign the API used. Months without any movement figure are kept, as gaps.
 */
export function movements(rows: SeriesRow[]): Movements {
	const datasets = MOVEMENTS.map((m) => ({
		key: m.key,
		label: m.label,
		values: rows.map((row) => {
			const value = num(row[m.key]);
			// `|| 0` turns −0 into 0: a month without losses is not "−0".
			return value == null ? null : m.sign * Math.abs(value) || 0;
		})
	}));
	const net = rows.map((_, i) => {
		const parts = datasets.map((d) => d.values[i]).filter((v): v is number => v != null);
		return parts.length ? parts.reduce((a, b) => a + b, 0) : null;
	});
	return { months: rows.map((r) => r.month), datasets, net };
}

/** True when any month has a movement: an all-empty chart is not worth drawing. */
export function hasMovements(m: Movements): boolean {
	return m.datasets.some((d) => d.values.some((v) => v != null && v !== 0));
}

export interface Change {
	current: number | null;
	previous: number | null;
	/** current − previous (same unit as the figure). */
	absolute: number | null;
	/** absolute ÷ |previous|; null when previous is 0 or missing. */
	relative: number | null;
}

export interface Comparison {
	month: string | null;
	previousMonth: string | null;
	currency: string | null;
	figures: Partial<Record<string, Change>>;
}

export function change(current: number | null, previous: number | null, absolute?: number | null, relative?: number | null): Change {
	const abs = absolute ?? (current != null && previous != null ? current - previous : null);
	const rel =
		relative !== undefined && relative !== null
			? relative
			: abs != null && previous != null && previous !== 0
				? abs / Math.abs(previous)
				: null;
	return { current, previous, absolute: abs, relative: rel };
}

/**
 * `GET /api/billing/comparison` as per-figure changes: the server's own `change` and
 * `change_pct` where it sent them, computed from current/previous otherwise.
 */
export function readComparison(data: BillingComparison | null | undefined): Comparison {
	if (!data) return { month: null, previousMonth: null, currency: null, figures: {} };
	const figures: Partial<Record<string, Change>> = {};
	for (const key of Object.keys(data.current) as (keyof MonthMetrics)[]) {
		const cur = num(data.current[key]);
		const prev = num(data.previous[key]);
		if (cur == null && prev == null) continue;
		figures[key] = change(cur, prev, data.change[key], data.change_pct[key]);
	}
	return { month: data.month, previousMonth: data.previous_month, currency: data.current.currency, figures };
}

/** Whether a change is good, bad or neutral news, for its colour. */
export function changeTone(figure: Figure, change: Change | undefined): 'good' | 'bad' | 'neutral' {
	const delta = change?.absolute;
	if (delta == null || delta === 0) return 'neutral';
	return delta > 0 === FIGURES[figure].positiveIsGood ? 'good' : 'bad';
}

/** Whether the month's metrics carry any figure at all (vs. a month with no billing data). */
export function hasFigures(metrics: MonthMetrics | null | undefined): boolean {
	if (!metrics) return false;
	return KPI_FIGURES.some((f) => num(metrics[f]) != null);
}


/** A figure's value as text: money in its currency, rates as percent, counts as numbers. */
export function formatFigure(figure: Figure, value: number | null | undefined, currency: string | null | undefined): string {
	switch (FIGURES[figure].kind) {
		case 'money':
			return formatMoney(value, currency);
		case 'rate':
			return formatPercent(value);
		default:
			return formatNumber(value, 0);
	}
}

/**
 * The month-over-month change as words: "+20,0 %" for money and counts (relative),
 * "−1,5 p. p." for rates (difference in percentage points), null when unknown.
 */
export function formatChange(figure: Figure, c: Change | undefined): string | null {
	if (!c || c.absolute == null) return null;
	if (FIGURES[figure].kind === 'rate') {
		const points = c.absolute * 100;
		const sign = points > 0 ? '+' : points < 0 ? '−' : '';
		return `${sign}${formatNumber(Math.abs(points), 1)} p. p.`;
	}
	if (c.relative == null) return null;
	return formatPercent(c.relative, { signed: true }).replace('-', '−');
}

/** The absolute change in the figure's unit, signed: "+2.000,00 US$", "−3". */
export function formatAbsoluteChange(figure: Figure, c: Change | undefined, currency: string | null | undefined): string {
	if (!c || c.absolute == null) return '—';
	if (FIGURES[figure].kind === 'rate') return formatChange(figure, c) ?? '—';
	const sign = c.absolute > 0 ? '+' : c.absolute < 0 ? '−' : '';
	return `${sign}${formatFigure(figure, Math.abs(c.absolute), currency)}`;
}

/** Spanish names of the Stripe webhook events the control plane handles (the code stays as data). */
export const STRIPE_EVENT_LABELS: Record<string, string> = {
	'charge.refunded': 'Cargo reembolsado',
	'checkout.session.completed': 'Pago de alta completado',
	'customer.created': 'Cliente creado',
	'customer.updated': 'Cliente actualizado',
	'customer.discount.created': 'Descuento aplicado',
	'customer.discount.updated': 'Descuento modificado',
	'customer.discount.deleted': 'Descuento retirado',
	'customer.subscription.created': 'Suscripción creada',
	'customer.subscription.updated': 'Suscripción actualizada',
	'customer.subscription.deleted': 'Suscripción cancelada',
	'customer.subscription.paused': 'Suscripción en pausa',
	'customer.subscription.resumed': 'Suscripción reanudada',
	'customer.subscription.trial_will_end': 'Fin de la prueba próximo',
	'invoice.created': 'Factura creada',
	'invoice.finalized': 'Factura emitida',
	'invoice.paid': 'Factura pagada',
	'invoice.payment_succeeded': 'Pago de factura correcto',
	'invoice.payment_failed': 'Pago de factura fallido',
	'invoice.marked_uncollectible': 'Factura incobrable',
	'invoice.updated': 'Factura actualizada',
	'invoice.voided': 'Factura anulada'
};

export function stripeEventLabel(type: string): string {
	return STRIPE_EVENT_LABELS[type] ?? 'Otro evento de Stripe';
}
