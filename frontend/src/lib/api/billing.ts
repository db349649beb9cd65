/**
 * Facturación through the typed client: month metrics, month-over-month comparison, the
 * monthly series, invoices, Stripe webhook events; and per tenant its billing and backups.
 * Money is in minor units with an ISO currency; rates are fractions or null.
 */
import { api, unwrap } from './client';
import type { ListMeta } from './http';
import { networkError, toApiError } from './errors';
import type {
	Backup,
	BackupListMeta,
	BackupStarted,
	BillingComparison,
	Invoice,
	InvoiceQuery,
	MonthMetrics,
	RestoreRequest,
	RestoreStarted,
	TenantBilling,
	WebhookEvent
} from './types';

export type {
	Backup,
	BackupStarted,
	BillingComparison,
	Invoice,
	MonthMetrics,
	RestoreRequest,
	RestoreStarted,
	TenantBilling,
	WebhookEvent
} from './types';

export type InvoiceStatus = NonNullable<InvoiceQuery['status']>;

export interface InvoiceFilters {
	customer_id?: number | null;
	status?: InvoiceStatus | '';
	month?: string;
	page?: number;
	per_page?: number;
}

/** Drops empty filters: the API applies its defaults. */
function invoiceQuery(filters: InvoiceFilters): InvoiceQuery {
	const query: InvoiceQuery = {};
	if (filters.customer_id != null) query.customer_id = filters.customer_id;
	if (filters.status) query.status = filters.status;
	if (filters.month) query.month = filters.month;
	if (filters.page && filters.page > 1) query.page = filters.page;
	if (filters.per_page) query.per_page = filters.per_page;
	return query;
}

const tenantPath = (id: number | string) => ({ path: { tenant_id: Number(id) } });

export const billingApi = {
	metrics: (month: string, signal?: AbortSignal) =>
		unwrap<MonthMetrics>(api.GET('/api/billing/metrics', { params: { query: { month } }, signal })),
	comparison: (month: string, signal?: AbortSignal) =>
		unwrap<BillingComparison>(api.GET('/api/billing/comparison', { params: { query: { month } }, signal })),
	series: (from: string, to: string, signal?: AbortSignal) =>
		unwrap<MonthMetrics[]>(api.GET('/api/billing/metrics/series', { params: { query: { from, to } }, signal })),
	invoices: (filters: InvoiceFilters, signal?: AbortSignal) =>
		unwrap<Invoice[], ListMeta>(api.GET('/api/billing/invoices', { params: { query: invoiceQuery(filters) }, signal })),
	events: (page = 1, perPage = 25, signal?: AbortSignal) =>
		unwrap<WebhookEvent[], ListMeta>(api.GET('/api/billing/events', { params: { query: { page, per_page: perPage } }, signal })),
	reprocess: (id: number) =>
		unwrap<WebhookEvent>(api.POST('/api/billing/events/{event_pk}/reprocess', { params: { path: { event_pk: id } } })),
	tenant: (tenantId: number | string, signal?: AbortSignal) =>
		unwrap<TenantBilling>(api.GET('/api/tenants/{tenant_id}/billing', { params: tenantPath(tenantId), signal }))
};

export const backupsApi = {
	list: (tenantId: number | string, signal?: AbortSignal) =>
		unwrap<Backup[], BackupListMeta>(api.GET('/api/tenants/{tenant_id}/backups', { params: tenantPath(tenantId), signal })),
	create: (tenantId: number | string) =>
		unwrap<BackupStarted>(api.POST('/api/tenants/{tenant_id}/backups', { params: tenantPath(tenantId) })),
	/** Restore a backup in place (after an automatic pre-restore backup) or into a new,
	 * neutralised tenant for staging (mail and scheduled tasks off). 202 + job. */
	restore: (tenantId: number | string, body: RestoreRequest) =>
		unwrap<RestoreStarted>(api.POST('/api/tenants/{tenant_id}/restore', { params: tenantPath(tenantId), body })),
	/** The file through the typed client (which sends the Authorization header a plain link could not). */
	download: async (backupId: number, signal?: AbortSignal): Promise<{ blob: Blob; filename: string | null }> => {
		let outcome;
		try {
			outcome = await api.GET('/api/backups/{backup_id}/download', {
				params: { path: { backup_id: backupId } },
				parseAs: 'blob',
				signal
			});
		} catch (cause) {
			if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
			throw networkError(cause);
		}
		const { data, error, response } = outcome;
		if (!response.ok || error !== undefined || !(data instanceof Blob)) {
			throw toApiError(response.ok ? 502 : response.status, error ?? null, response.headers);
		}
		return { blob: data, filename: filenameFromDisposition(response.headers.get('Content-Disposition')) };
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
