/**
 * Sections whose API may not have landed yet, and sources that are not configured.
 * A 404 route answer (or 405/501) means "this endpoint does not exist on this server": the
 * page says so and tells the operator what to do, instead of showing an error or zeros.
 */
import { ApiError } from './errors';

/** The endpoint itself is missing (not a missing record): 404 NOT_FOUND, 405 or 501. */
export function isUnavailable(error: unknown): boolean {
	if (!(error instanceof ApiError)) return false;
	if (error.status === 404) return error.code === 'NOT_FOUND';
	return error.status === 405 || error.status === 501;
}

/** Any 404, record or route: for optional sections of a detail page (hide or "Disponible pronto"). */
export function isAbsent(error: unknown): boolean {
	return error instanceof ApiError && (error.status === 404 || error.status === 405 || error.status === 501);
}

/**
 * `meta.configured` as the API sends it: a boolean for a single source, a map
 * `{proxmox: false}` or a list of missing names. Returns false when the source (or every
 * source) is not configured, true when it is, null when the server did not say.
 */
export function isConfigured(meta: unknown): boolean | null {
	if (typeof meta !== 'object' || meta === null) return null;
	const configured = (meta as { configured?: unknown }).configured;
	if (typeof configured === 'boolean') return configured;
	if (Array.isArray(configured)) return configured.length === 0;
	if (typeof configured === 'object' && configured !== null) {
		const values = Object.values(configured);
		if (!values.length) return null;
		return values.some((v) => v === true);
	}
	return null;
}

/** A sentence the server attached to meta (`detail`, `message` or `reason`), if any. */
export function metaMessage(meta: unknown): string | null {
	if (typeof meta !== 'object' || meta === null) return null;
	for (const key of ['detail', 'message', 'reason']) {
		const value = (meta as Record<string, unknown>)[key];
		if (typeof value === 'string' && value.trim()) return value.trim();
	}
	return null;
}

/** Any thrown value as an ApiError (for pages that keep one failure object). */
export function asApiError(error: unknown, fallback: string): ApiError {
	if (error instanceof ApiError) return error;
	return new ApiError({ status: 0, code: 'UNKNOWN', detail: fallback });
}
