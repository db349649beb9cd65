/**
 * Operators' view of customers (issue 16): list and detail (users, tenants, invoices), resend
 * a verification or password-reset mail, sign-ups whose checkout needs attention (subdomain
 * taken meanwhile: pick another and continue), and in lab mode the captured mail.
 */
import { api, unwrap } from './client';
import type { ListMeta } from './http';
import type { CustomerDetail, CustomerRow, LabMail, PendingCheckout } from './types';

const customerPath = (id: number | string) => ({ path: { customer_id: Number(id) } });

export const customersApi = {
	list: (query: { q?: string; page?: number; per_page?: number }, signal?: AbortSignal) =>
		unwrap<CustomerRow[], ListMeta>(api.GET('/api/customers', { params: { query }, signal })),
	get: (id: number | string, signal?: AbortSignal) =>
		unwrap<CustomerDetail>(api.GET('/api/customers/{customer_id}', { params: customerPath(id), signal })),
	resendVerification: (id: number | string) =>
		unwrap(api.POST('/api/customers/{customer_id}/resend-verification', { params: customerPath(id) })),
	passwordReset: (id: number | string) =>
		unwrap(api.POST('/api/customers/{customer_id}/password-reset', { params: customerPath(id) }))
};

export const checkoutsApi = {
	needingAttention: (signal?: AbortSignal) =>
		unwrap<PendingCheckout[]>(api.GET('/api/billing/checkouts', { params: { query: { status: 'needs_attention' } }, signal })),
	continueWith: (id: number, subdomain: string) =>
		unwrap(api.POST('/api/billing/checkouts/{checkout_id}/continue', { params: { path: { checkout_id: id } }, body: { subdomain } }))
};

export const labMailApi = {
	list: (signal?: AbortSignal) => unwrap<LabMail[]>(api.GET('/api/lab/mail', { signal }))
};
