/**
 * Envelope handling for the typed openapi-fetch client: success → `{data, meta}`,
 * failure → thrown ApiError with the Spanish detail.
 */
import { ApiError, networkError, readJson, toApiError } from './errors';

export interface Envelope<T, M = Record<string, unknown>> {
	success: true;
	data: T;
	meta?: M;
}

export interface ListMeta {
	total: number;
	page: number;
	per_page: number;
}

export interface Result<T, M> {
	data: T;
	meta: M;
}

function asApiError(cause: unknown): ApiError {
	if (cause instanceof ApiError) return cause;
	if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
	return networkError(cause);
}

/** For openapi-fetch calls: `const me = await unwrap(api.GET('/api/auth/me'))`. */
export async function unwrap<T, M = Record<string, unknown>>(
	call: Promise<{ data?: { data: T; meta?: unknown }; error?: unknown; response: Response }>
): Promise<Result<T, M>> {
	let outcome: Awaited<typeof call>;
	try {
		outcome = await call;
	} catch (cause) {
		throw asApiError(cause);
	}
	const { data, error, response } = outcome;
	if (!response.ok || error !== undefined) {
		throw toApiError(response.status, error ?? null, response.headers);
	}
	if (!data || typeof data !== 'object' || !('data' in data)) {
		throw toApiError(502, null, response.headers);
	}
	return { data: data.data, meta: (data.meta ?? {}) as M };
}
