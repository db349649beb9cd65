/**
 * Domain shapes the pages use, derived from the generated schema by path (never by
 * component name), so `npm run gen:api` keeps them in step with the backend.
 */
import type { components, paths } from './schema';

type Json<R> = R extends { content: { 'application/json': infer J } } ? J : never;
type SuccessBody<Op> = Op extends { responses: infer R }
	? R extends { 200: infer S }
		? Json<S>
		: R extends { 201: infer S }
			? Json<S>
			: R extends { 202: infer S }
				? Json<S>
				: never
	: never;
/** The `data` of an operation's success envelope. */
export type OkData<Op> = SuccessBody<Op> extends { data: infer D } ? D : never;

export type User = OkData<paths['/api/auth/me']['get']>;
export type Role = User['role'];
export type Health = OkData<paths['/api/health']['get']>;
export type Tokens = OkData<paths['/api/auth/login']['post']>;

export type Tenant = OkData<paths['/api/tenants/{tenant_id}']['get']>;
export type TenantCreated = OkData<paths['/api/tenants']['post']>;
export type TenantCreate = NonNullable<paths['/api/tenants']['post']['requestBody']>['content']['application/json'];
export type SubdomainCheck = OkData<paths['/api/tenants/check-subdomain']['get']>;
export type TenantListQuery = NonNullable<paths['/api/tenants']['get']['parameters']['query']>;
export type TenantSort = NonNullable<TenantListQuery['sort']>;

export type Job = OkData<paths['/api/jobs/{job_id}']['get']>;
export type JobStep = Job['steps'] extends (infer S)[] | undefined ? S : never;
export type JobLogLine = OkData<paths['/api/logs/provisioning']['get']>[number];

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
] as const satisfies readonly Tenant['status'][];
export type TenantStatus = Tenant['status'];

export const PLANS = ['basic', 'pro', 'enterprise'] as const satisfies readonly TenantCreate['plan'][];
export type Plan = TenantCreate['plan'];

export const SERVICE_STATUSES = ['ok', 'degraded', 'down', 'not_configured'] as const;
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];

export type StepStatus = JobStep['status'];

export type UserRow = OkData<paths['/api/users']['get']>[number];
export type UserCreate = NonNullable<paths['/api/users']['post']['requestBody']>['content']['application/json'];
export type UserCreated = OkData<paths['/api/users']['post']>;
export type UserUpdate = NonNullable<paths['/api/users/{user_id}']['put']['requestBody']>['content']['application/json'];
export type AuditEntry = OkData<paths['/api/audit']['get']>[number];
export type AuditQuery = NonNullable<paths['/api/audit']['get']['parameters']['query']>;
export type LogQuery = NonNullable<paths['/api/logs/provisioning']['get']['parameters']['query']>;
export type LogLevel = NonNullable<LogQuery['level']>;
export const LOG_LEVELS = ['debug', 'info', 'warning', 'error'] as const satisfies readonly LogLevel[];

export type OdooServer = OkData<paths['/api/tenants/servers']['get']>[number];
export type OdooServerCreate = NonNullable<paths['/api/tenants/servers']['post']['requestBody']>['content']['application/json'];
export type OdooServerUpdate = NonNullable<
	paths['/api/tenants/servers/{server_id}']['put']['requestBody']
>['content']['application/json'];
export type OdooTemplate = OkData<paths['/api/servers/{server_id}/templates']['get']>[number];

/** Components by name, for shapes reached only through another (nested) schema. */
type Schemas = components['schemas'];

export type DashboardAll = OkData<paths['/api/dashboard/all']['get']>;
export type DashboardMetrics = DashboardAll['metrics'];

export type MonthMetrics = OkData<paths['/api/billing/metrics']['get']>;
export type BillingComparison = OkData<paths['/api/billing/comparison']['get']>;
export type Invoice = OkData<paths['/api/billing/invoices']['get']>[number];
export type InvoiceQuery = NonNullable<paths['/api/billing/invoices']['get']['parameters']['query']>;
export type WebhookEvent = OkData<paths['/api/billing/events']['get']>[number];
export type TenantBilling = OkData<paths['/api/tenants/{tenant_id}/billing']['get']>;
export type Backup = OkData<paths['/api/tenants/{tenant_id}/backups']['get']>[number];
export type BackupListMeta = Schemas['BackupListMeta'];
export type BackupStarted = OkData<paths['/api/tenants/{tenant_id}/backups']['post']>;
export type RestoreRequest = NonNullable<paths['/api/tenants/{tenant_id}/restore']['post']['requestBody']>['content']['application/json'];
export type RestoreStarted = OkData<paths['/api/tenants/{tenant_id}/restore']['post']>;

export type ProxmoxNode = OkData<paths['/api/infrastructure/nodes']['get']>[number];
export type Container = OkData<paths['/api/infrastructure/containers']['get']>[number];
export type Tunnel = OkData<paths['/api/tunnels']['get']>[number];
export type MetricSeries = OkData<paths['/api/infrastructure/metrics']['get']>;
export type MetricPoint = MetricSeries['points'][number];
export type MetricsQuery = paths['/api/infrastructure/metrics']['get']['parameters']['query'];

export type ServiceStatusReport = OkData<paths['/api/logs/status']['get']>;
export type ServiceCheck = ServiceStatusReport['checks'][number];

export type SettingsData = OkData<paths['/api/settings']['get']>;
export type SettingCategory = SettingsData['categories'][number];
export type Setting = OkData<paths['/api/settings/{key}']['put']>;
export type ConnectionTest = OkData<paths['/api/settings/test/{integration}']['post']>;
export type ConnectionCheck = ConnectionTest['checks'][number];

// Customer portal (issue 16): public sign-up and the customer's own objects.
export type PortalPlan = OkData<paths['/api/portal/plans']['get']>[number];
export type SignupRequest = NonNullable<paths['/api/portal/signup']['post']['requestBody']>['content']['application/json'];
export type PortalTenant = OkData<paths['/api/portal/tenants']['get']>[number];
export type PortalTenantDetail = OkData<paths['/api/portal/tenants/{tenant_id}']['get']>;
export type PortalInvoice = OkData<paths['/api/portal/invoices']['get']>[number];
export type PortalBackup = OkData<paths['/api/portal/tenants/{tenant_id}/backups']['get']>[number];
export type PlanChange = NonNullable<paths['/api/portal/tenants/{tenant_id}/plan']['post']['requestBody']>['content']['application/json'];
export type PlanChanged = OkData<paths['/api/portal/tenants/{tenant_id}/plan']['post']>;
export type Credentials = OkData<paths['/api/portal/tenants/{tenant_id}/credentials']['post']>;

// Operators: customers, sign-ups needing attention, lab mail.
export type CustomerRow = OkData<paths['/api/customers']['get']>[number];
export type CustomerDetail = OkData<paths['/api/customers/{customer_id}']['get']>;
export type PendingCheckout = OkData<paths['/api/billing/checkouts']['get']>[number];
export type LabMail = OkData<paths['/api/lab/mail']['get']>[number];
