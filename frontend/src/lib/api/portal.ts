/**
 * The customer portal (issue 16) through the typed client: public sign-up, verification and
 * password reset, then the logged-in customer's own tenants, invoices, backups, plan changes
 * and cancellation. The server scopes every call to the caller's customer (another
 * customer's id answers 404), so nothing here filters by customer.
 */
import { api, unwrap } from './client';
import { networkError, toApiError } from './errors';
import { filenameFromDisposition } from './billing';
import type { Credentials, PlanChange, PortalBackup, PortalPlan, PortalTenant, PortalTenantDetail, SignupRequest } from './types';

const tenantPath = (id: number | string) => ({ path: { tenant_id: Number(id) } });

export const portalApi = {
	/** Plans on sale and their prices: public (no login), for /registro and the change-plan dialog. */
	plans: (signal?: AbortSignal) => unwrap<PortalPlan[]>(api.GET('/api/portal/plans', { signal })),
	availability: (name: string, signal?: AbortSignal) =>
		unwrap(api.GET('/api/portal/subdomains/{name}/availability', { params: { path: { name } }, signal })),
	/** Always the same 202 whether or not the e-mail exists (no enumeration). */
	signup: (body: SignupRequest) => unwrap(api.POST('/api/portal/signup', { body })),
	/** The token from the e-mail link: verified, logged in (tokens), and where to pay (Stripe Checkout). */
	verify: (token: string) => unwrap(api.POST('/api/portal/verify', { body: { token } })),
	passwordReset: (email: string) => unwrap(api.POST('/api/portal/password-reset', { body: { email } })),
	passwordResetConfirm: (token: string, password: string) =>
		unwrap(api.POST('/api/portal/password-reset/confirm', { body: { token, password } })),

	/** "Pagar ahora": a new Stripe Checkout for a pending sign-up (the earlier one is closed at Stripe). */
	payNow: (checkoutId: number) => unwrap(api.POST('/api/portal/checkout', { body: { checkout_id: checkoutId, renew: true } })),
	/** Who is logged in, and the sign-ups still waiting for payment or for the webhook. */
	me: (signal?: AbortSignal) => unwrap(api.GET('/api/portal/me', { signal })),
	tenants: (signal?: AbortSignal) => unwrap<PortalTenant[]>(api.GET('/api/portal/tenants', { signal })),
	tenant: (id: number | string, signal?: AbortSignal) =>
		unwrap<PortalTenantDetail>(api.GET('/api/portal/tenants/{tenant_id}', { params: tenantPath(id), signal })),
	invoices: (signal?: AbortSignal) => unwrap(api.GET('/api/portal/invoices', { signal })),
	/** A Stripe Customer Portal session (payment method, billing details): its URL. */
	billingPortal: () => unwrap(api.POST('/api/portal/billing-portal', { body: { return_path: '/portal' } })),
	/** URL, admin login and the generated password — the password only the first time. */
	credentials: (id: number | string) =>
		unwrap<Credentials>(api.POST('/api/portal/tenants/{tenant_id}/credentials', { params: tenantPath(id) })),
	changePlan: (id: number | string, body: PlanChange) =>
		unwrap(api.POST('/api/portal/tenants/{tenant_id}/plan', { params: tenantPath(id), body })),
	cancel: (id: number | string) => unwrap(api.POST('/api/portal/tenants/{tenant_id}/cancel', { params: tenantPath(id) })),
	backups: (id: number | string, signal?: AbortSignal) =>
		unwrap<PortalBackup[]>(api.GET('/api/portal/tenants/{tenant_id}/backups', { params: tenantPath(id), signal })),
	download: async (backupId: number, signal?: AbortSignal): Promise<{ blob: Blob; filename: string | null }> => {
		let outcome;
		try {
			outcome = await api.GET('/api/portal/backups/{backup_id}/download', {
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
