/** Usuarios and Auditoría (admin only), through the typed client. */
import { api, unwrap } from './client';
import type { ListMeta } from './http';
import type { AuditEntry, AuditQuery, UserCreate, UserRow, UserUpdate } from './types';

const userPath = (id: number) => ({ path: { user_id: id } });

export interface AuditFilters {
	action?: string;
	user_id?: number | string | null;
	object_type?: string;
	object_id?: string;
	since?: string;
	until?: string;
	page?: number;
	per_page?: number;
}

function auditQuery(filters: AuditFilters): AuditQuery {
	const query: AuditQuery = {};
	if (filters.action?.trim()) query.action = filters.action.trim();
	const user = Number(filters.user_id);
	if (filters.user_id != null && filters.user_id !== '' && Number.isInteger(user) && user >= 1) query.user_id = user;
	if (filters.object_type?.trim()) query.object_type = filters.object_type.trim();
	if (filters.object_id?.trim()) query.object_id = filters.object_id.trim();
	for (const key of ['since', 'until'] as const) {
		const value = filters[key];
		if (value) {
			const date = new Date(value);
			if (!Number.isNaN(date.getTime())) query[key] = date.toISOString();
		}
	}
	if (filters.page && filters.page > 1) query.page = filters.page;
	if (filters.per_page) query.per_page = filters.per_page;
	return query;
}

export const usersApi = {
	list: (page = 1, perPage = 100, signal?: AbortSignal) =>
		unwrap<UserRow[], ListMeta>(api.GET('/api/users', { params: { query: { page, per_page: perPage } }, signal })),
	create: (body: UserCreate) => unwrap(api.POST('/api/users', { body })),
	update: (id: number, body: UserUpdate) => unwrap(api.PUT('/api/users/{user_id}', { params: userPath(id), body })),
	resetPassword: (id: number) => unwrap(api.POST('/api/users/{user_id}/reset-password', { params: userPath(id) }))
};

export const auditApi = {
	list: (filters: AuditFilters, signal?: AbortSignal) =>
		unwrap<AuditEntry[], ListMeta>(api.GET('/api/audit', { params: { query: auditQuery(filters) }, signal }))
};
