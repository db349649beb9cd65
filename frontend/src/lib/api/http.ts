/**
 * Envelope handling shared by the typed client and the plain `request` helper:
 * success → `{data, meta}`, failure → thrown ApiError with the Spanish detail.
 */
import { ApiError, networkError, readJson, toApiError } from './errors';
import type { FetchLike } from './transport';

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

export type QueryValue = string | number | boolean | null | undefined;

export interface RequestOptions {
	query?: Record<string, QueryValue>;
	body?: unknown;
	signal?: AbortSignal;
}

/** `?q=a&page=2`, leaving out empty values so the API applies its defaults. */
export function buildQuery(query: Record<string, QueryValue> | undefined): string {
	if (!query) return '';
	const params = new URLSearchParams();
	for (const [key, value] of Object.entries(query)) {
		if (value === undefined || value === null || value === '') continue;
		params.set(key, String(value));
	}
	const text = params.toString();
	return text ? `?${text}` : '';
}

/**
 * For endpoints not yet in the generated schema: same transport, same envelope, typed by
 * the caller. Move a call to the typed client once `npm run gen:api` knows its path.
 */
export function createRequester(fetcher: FetchLike, baseUrl = '') {
	return async function request<T, M = Record<string, unknown>>(
		method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
		path: string,
		options: RequestOptions = {}
	): Promise<Result<T, M>> {
		const origin = baseUrl || (typeof location === 'undefined' ? 'http://localhost' : location.origin);
		const headers: Record<string, string> = { Accept: 'application/json' };
		if (options.body !== undefined) headers['Content-Type'] = 'application/json';
		const req = new Request(`${origin}${path}${buildQuery(options.query)}`, {
			method,
			headers,
			body: options.body === undefined ? undefined : JSON.stringify(options.body),
			signal: options.signal
		});
		let response: Response;
		try {
			response = await fetcher(req);
		} catch (cause) {
			throw asApiError(cause);
		}
		const body = await readJson(response);
		if (!response.ok) throw toApiError(response.status, body, response.headers);
		if (response.status === 204) return { data: undefined as T, meta: {} as M };
		if (!body || typeof body !== 'object' || !('data' in body)) {
			throw toApiError(502, null, response.headers);
		}
		const envelope = body as Envelope<T, M>;
		return { data: envelope.data, meta: (envelope.meta ?? {}) as M };
	};
}

export type Requester = ReturnType<typeof createRequester>;
