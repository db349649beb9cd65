/**
 * GET /api/dashboard/all (issue 6): the whole Panel in one request. Every section is
 * optional: the page shows what the API returns and says so when a section is missing.
 */
import { request } from './client';
import type { Plan, Tenant, TenantStatus } from './types';

export interface ClusterLoad {
	cpu_used?: number | null;
	cpu_total?: number | null;
	ram_used?: number | null;
	ram_total?: number | null;
	disk_used?: number | null;
	disk_total?: number | null;
}

export interface DashboardMetrics {
	tenants_by_status?: Partial<Record<TenantStatus, number>>;
	tenants_by_plan?: Partial<Record<Plan, number>>;
	new_tenants_this_month?: number | null;
	new_tenants_last_month?: number | null;
	currency?: string | null;
	/** Minor units. */
	mrr?: number | null;
	/** Fraction vs the previous month (0.05 = +5 %), null when there is no base. */
	mrr_change?: number | null;
	arr?: number | null;
	customer_churn_rate?: number | null;
	cluster?: ClusterLoad | null;
	jobs?: { running?: number | null; failed_24h?: number | null } | null;
	/** Open drift findings and tenants over a plan limit (issue 18). */
	drift?: { open_findings: number; tenants_over_limit: number } | null;
}

export interface DashboardNode {
	id: number | string;
	hostname: string;
	status?: string | null;
	cpu_usage?: number | null;
	ram_used?: number | null;
	ram_total?: number | null;
	disk_used?: number | null;
	disk_total?: number | null;
}

export interface DashboardOdooServer {
	id: number | string;
	name: string;
	status?: string | null;
	tenants?: number | null;
	capacity?: number | null;
}

export interface DashboardFailedJob {
	id: number | string;
	tenant_id?: number | null;
	subdomain?: string | null;
	kind?: string | null;
	error?: string | null;
	finished_at?: string | null;
}

export interface DashboardAll {
	metrics?: DashboardMetrics | null;
	recent_tenants?: Tenant[] | null;
	nodes?: DashboardNode[] | null;
	odoo_servers?: DashboardOdooServer[] | null;
	mrr_series?: { month: string; mrr: number }[] | null;
	tenant_series?: { month: string; counts: Partial<Record<TenantStatus, number>> }[] | null;
	failed_jobs?: DashboardFailedJob[] | null;
}

/** `meta.configured`: which sources are set up. Either `{stripe: false, …}` or a list of missing names. */
export interface DashboardMeta {
	configured?: Record<string, boolean> | string[] | null;
	currency?: string | null;
}

export function getDashboard(signal?: AbortSignal) {
	return request<DashboardAll, DashboardMeta>('GET', '/api/dashboard/all', { signal });
}

/** Names of sources the server says are not configured ("stripe", "proxmox", …). */
export function missingSources(meta: DashboardMeta): string[] {
	const configured = meta.configured;
	if (!configured) return [];
	if (Array.isArray(configured)) return configured;
	return Object.entries(configured)
		.filter(([, ok]) => !ok)
		.map(([name]) => name);
}

/** Share used/total as a fraction, or null when either is unknown or total is 0. */
export function ratio(used: number | null | undefined, total: number | null | undefined): number | null {
	if (used == null || total == null || total <= 0) return null;
	return used / total;
}
