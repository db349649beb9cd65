/**
 * Facturación (not yet in the generated schema): month metrics, month-over-month
 * comparison, monthly series, invoices, Stripe webhook events; and per tenant its billing
 * and backups. Money is in minor units with an ISO currency; rates are fractions or null.
 */
import { request, transport } from './client';
import type { ListMeta } from './http';
import type { SourceMeta } from './infrastructure';
import { readJson, toApiError } from './errors';

export interface BillingMetrics {
	month: string;
	currency?: string | null;
	mrr?: number | null;
	arr?: number | null;
	mrr_start?: number | null;
	new_mrr?: number | null;
	expansion_mrr?: number | null;
	contraction_mrr?: number | null;
	churned_mrr?: number | null;
	reactivation_mrr?: number | null;
	active_customers?: number | null;
	customers_start?: number | null;
	new_customers?: number | null;
	reactivated_customers?: number | null;
	churned_customers?: number | null;
	customer_churn_rate?: number | null;
	gross_mrr_churn_rate?: number | null;
	net_mrr_churn_rate?: number | null;
	nrr?: number | null;
	arpa?: number | null;
	revenue?: number | null;
	[key: string]: unknown;
}

export interface Invoice {
	id: number | string;
	number?: string | null;
	customer_id?: number | null;
	customer?: string | { id?: number; email?: string; company_name?: string; name?: string } | null;
	customer_email?: string | null;
	tenant_id?: number | null;
	status?: string | null;
	currency?: string | null;
	total?: number | null;
	amount_due?: number | null;
	amount_paid?: number | null;
	amount?: number | null;
	created_at?: string | null;
	/** Stripe's creation time (the API's InvoiceOut). */
	created?: string | null;
	issued_at?: string | null;
	period_start?: string | null;
	period_end?: string | null;
	paid_at?: string | null;
	hosted_invoice_url?: string | null;
	[key: string]: unknown;
}

export interface InvoiceFilters {
	customer_id?: number | string | null;
	status?: string;
	month?: string;
	page?: number;
	per_page?: number;
}

export interface WebhookEvent {
	id: number | string;
	event_id?: string | null;
	event_type?: string | null;
	type?: string | null;
	processed?: boolean | null;
	status?: string | null;
	error?: string | null;
	attempts?: number | null;
	received_at?: string | null;
	created_at?: string | null;
	processed_at?: string | null;
	[key: string]: unknown;
}

export interface TenantBilling {
	customer?: { id?: number; email?: string | null; company_name?: string | null; stripe_customer_id?: string | null; [key: string]: unknown } | null;
	subscription?: {
		plan?: string | null;
		status?: string | null;
		period?: { start?: string | null; end?: string | null } | string | null;
		current_period_start?: string | null;
		current_period_end?: string | null;
		mrr?: number | null;
		currency?: string | null;
		[key: string]: unknown;
	} | null;
	invoices?: Invoice[] | null;
	currency?: string | null;
	stripe_configured?: boolean | null;
}

export interface Backup {
	id: number | string;
	status?: string | null;
	size_bytes?: number | null;
	size?: number | null;
	created_at?: string | null;
	finished_at?: string | null;
	kind?: string | null;
	filename?: string | null;
	job_id?: number | null;
	[key: string]: unknown;
}

export interface RestoreRequest {
	backup_id: number | string;
	mode: 'in_place' | 'copy';
	subdomain?: string;
}

export interface RestoreStarted {
	job_id?: number | null;
	mode?: string;
	tenant_id?: number | null;
	subdomain?: string | null;
	[key: string]: unknown;
}

export interface BackupStarted {
	job_id?: number | null;
	backup_id?: number | null;
	id?: number | string | null;
	backup?: Backup | null;
	job?: { id?: number | null } | null;
	[key: string]: unknown;
}

type Meta = SourceMeta & Partial<ListMeta> & { currency?: string };

export const billingApi = {
	metrics: (month: string, signal?: AbortSignal) =>
		request<BillingMetrics, Meta>('GET', '/api/billing/metrics', { query: { month }, signal }),
	comparison: (month: string, signal?: AbortSignal) =>
		request<unknown, Meta>('GET', '/api/billing/comparison', { query: { month }, signal }),
	series: (from: string, to: string, signal?: AbortSignal) =>
		request<unknown, Meta>('GET', '/api/billing/metrics/series', { query: { from, to }, signal }),
	invoices: (filters: InvoiceFilters, signal?: AbortSignal) =>
		request<Invoice[], Meta>('GET', '/api/billing/invoices', {
			query: {
				customer_id: filters.customer_id ?? undefined,
				status: filters.status || undefined,
				month: filters.month || undefined,
				page: filters.page && filters.page > 1 ? filters.page : undefined,
				per_page: filters.per_page
			},
			signal
		}),
	events: (page = 1, perPage = 25, signal?: AbortSignal) =>
		request<WebhookEvent[], Meta>('GET', '/api/billing/events', { query: { page, per_page: perPage }, signal }),
	reprocess: (id: number | string) =>
		request<WebhookEvent>('POST', `/api/billing/events/${encodeURIComponent(String(id))}/reprocess`),
	tenant: (tenantId: number | string, signal?: AbortSignal) =>
		request<TenantBilling, Meta>('GET', `/api/tenants/${encodeURIComponent(String(tenantId))}/billing`, { signal })
};

export const backupsApi = {
	list: (tenantId: number | string, signal?: AbortSignal) =>
		request<Backup[], Meta>('GET', `/api/tenants/${encodeURIComponent(String(tenantId))}/backups`, { signal }),
	create: (tenantId: number | string) =>
		request<BackupStarted>('POST', `/api/tenants/${encodeURIComponent(String(tenantId))}/backups`),
	/** Restore a backup in place (after an automatic pre-restore backup) or into a new,
	 * neutralised tenant for staging (mail and scheduled tasks off). 202 + job. */
	restore: (tenantId: number | string, body: RestoreRequest) =>
		request<RestoreStarted>('POST', `/api/tenants/${encodeURIComponent(String(tenantId))}/restore`, { body }),
	/** Fetches the file with the Authorization header (a plain link could not send it). */
	download: async (backupId: number | string, signal?: AbortSignal): Promise<{ blob: Blob; filename: string | null }> => {
		const origin = typeof location === 'undefined' ? 'http://localhost' : location.origin;
		const response = await transport.fetch(
			new Request(`${origin}/api/backups/${encodeURIComponent(String(backupId))}/download`, { signal })
		);
		if (!response.ok) throw toApiError(response.status, await readJson(response), response.headers);
		return { blob: await response.blob(), filename: filenameFromDisposition(response.headers.get('Content-Disposition')) };
	}
};

/** The file name of a Content-Disposition header (RFC 6266: `filename*=UTF-8''…` wins). */
export function filenameFromDisposition(header: string | null | undefined): string | null {
	if (!header) return null;
	const extended = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header);
	if (extended?.[2]) {
		try {
			return sanitizeFilename(decodeURIComponent(extended[2].trim().replace(/^"|"$/g, '')));
		} catch {
			// malformed percent-encoding: fall through to the plain parameter
		}
	}
	const plain = /filename\s*=\s*("((?:[^"\\]|\\.)*)"|[^;]+)/i.exec(header);
	if (!plain) return null;
	const value = plain[2] !== undefined ? plain[2].replace(/\\(.)/g, '$1') : plain[1]!.trim();
	return sanitizeFilename(value);
}

/** No directories, no control characters. */
function sanitizeFilename(name: string): string | null {
	// eslint-disable-next-line no-control-regex
	const base = name.split(/[\\/]/).pop()!.replace(/[\u0000-\u001f]/g, '').trim();
	return base && base !== '.' && base !== '..' ? base : null;
}

/** Hands a blob to the browser as a download. */
export function saveBlob(blob: Blob, filename: string): void {
	const url = URL.createObjectURL(blob);
	const a = document.createElement('a');
	a.href = url;
	a.download = filename;
	a.rel = 'noopener';
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 1000);
}
