/**
 * Domain shapes the pages use. Auth and health derive from the generated schema; the rest
 * follow the API issues (tenants, jobs, dashboard) until their paths are generated too.
 */
import type { paths } from './schema';

type Json<R> = R extends { content: { 'application/json': infer J } } ? J : never;
type OkData<Op> = Op extends { responses: { 200: infer R } }
	? Json<R> extends { data: infer D }
		? D
		: never
	: never;

export type User = OkData<paths['/api/auth/me']['get']>;
export type Role = User['role'];
export type Health = OkData<paths['/api/health']['get']>;
export type Tokens = OkData<paths['/api/auth/login']['post']>;

export const TENANT_STATUSES = [
	'pending',
	'provisioning',
	'active',
	'suspending',
	'suspended',
	'reactivating',
	'deleting',
	'deleted',
	'failed'
] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

export const PLANS = ['basic', 'pro', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];

export const SERVICE_STATUSES = ['ok', 'degraded', 'down', 'not_configured'] as const;
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];

export interface Tenant {
	id: number;
	subdomain: string;
	company_name: string;
	email: string;
	plan: Plan;
	status: TenantStatus;
	suspension_reason: 'manual' | 'billing' | null;
	url: string | null;
	odoo_server_id: number | null;
	created_at: string;
	updated_at: string;
	job_id?: number | string | null;
	last_error?: string | null;
}

export interface TenantCreate {
	company_name: string;
	email: string;
	subdomain: string;
	plan: Plan;
	admin_password?: string;
	language?: string;
	country?: string;
}

/** 202 answer of POST /api/tenants: the password only when the server generated it. */
export interface TenantCreated extends Tenant {
	admin_password?: string | null;
}

export interface SubdomainCheck {
	available: boolean;
	reason: string | null;
}

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'compensated';

export interface JobStep {
	name: string;
	label?: string | null;
	status: StepStatus;
	started_at?: string | null;
	finished_at?: string | null;
	attempts?: number | null;
	error?: string | null;
}

export interface Job {
	id: number | string;
	kind: string;
	status: string;
	progress?: number | null;
	steps: JobStep[];
	error?: string | null;
	created_at?: string;
	finished_at?: string | null;
}

export interface JobLogLine {
	at?: string | null;
	level?: string | null;
	message: string;
	step?: string | null;
}
