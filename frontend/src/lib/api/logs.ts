/** Registros: provisioning log lines and service health, through the typed client. */
import { api, unwrap } from './client';
import type { ListMeta } from './http';
import type { JobLogLine, LogLevel, LogQuery, ServiceStatusReport } from './types';

export type { ServiceCheck, ServiceStatusReport } from './types';

export interface LogFilters {
	tenant_id?: number | string | null;
	/** Subdomain or company name (part of it): how people name a tenant. */
	tenant?: string | null;
	job_id?: number | string | null;
	level?: LogLevel | '';
	/** `datetime-local` value or ISO instant. */
	since?: string | null;
	until?: string | null;
	page?: number;
	per_page?: number;
}

/** A positive integer from a text box, or undefined (the API answers 422 to `tenant_id=abc`). */
export function positiveInt(value: number | string | null | undefined): number | undefined {
	if (value == null || value === '') return undefined;
	const n = typeof value === 'number' ? value : Number(String(value).trim());
	return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/** A `datetime-local` value ("2026-11-24T14:05") as an ISO instant in the browser's zone. */
export function toInstant(value: string | null | undefined): string | undefined {
	if (!value) return undefined;
	const date = new Date(value);
	return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export function logQuery(filters: LogFilters): LogQuery {
	const query: LogQuery = {};
	const tenant = positiveInt(filters.tenant_id);
	const job = positiveInt(filters.job_id);
	if (tenant) query.tenant_id = tenant;
	if (filters.tenant?.trim()) query.tenant = filters.tenant.trim().slice(0, 100);
	if (job) query.job_id = job;
	if (filters.level) query.level = filters.level;
	const since = toInstant(filters.since);
	const until = toInstant(filters.until);
	if (since) query.since = since;
	if (until) query.until = until;
	if (filters.page && filters.page > 1) query.page = filters.page;
	if (filters.per_page) query.per_page = filters.per_page;
	return query;
}

export const logsApi = {
	provisioning: (filters: LogFilters, signal?: AbortSignal) =>
		unwrap<JobLogLine[], ListMeta>(api.GET('/api/logs/provisioning', { params: { query: logQuery(filters) }, signal })),
	status: (signal?: AbortSignal) => unwrap<ServiceStatusReport>(api.GET('/api/logs/status', { signal }))
};

/** Consecutive log lines of one operation (job), newest first as the API lists them. */
export interface LogGroup {
	jobId: number;
	title: string | null;
	tenantId: number | null;
	tenantName: string | null;
	tenantSubdomain: string | null;
	lines: JobLogLine[];
}

/** Groups a page of lines by operation so the log reads as "what happened to whom". */
export function groupByOperation(lines: readonly JobLogLine[]): LogGroup[] {
	const groups: LogGroup[] = [];
	for (const line of lines) {
		const last = groups.at(-1);
		if (last && last.jobId === line.job_id) {
			last.lines.push(line);
			continue;
		}
		groups.push({
			jobId: line.job_id,
			title: line.job_title ?? null,
			tenantId: line.tenant_id ?? null,
			tenantName: line.tenant_name ?? null,
			tenantSubdomain: line.tenant_subdomain ?? null,
			lines: [line]
		});
	}
	return groups;
}
