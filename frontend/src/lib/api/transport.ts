/**
 * Authenticated HTTP for the whole app: attaches the bearer token, and when a request comes
 * back 401 renews the session once with the rotating refresh token (sent by the browser as
 * an httpOnly cookie, see tokens.ts) and replays the request. A new tab (or a reload) starts
 * with no access token but knows the cookie holds a session: it refreshes before its first
 * request instead of sending it unauthenticated, so a reload never causes a 401 of its own.
 *
 * Refresh is single-flight: the refresh token rotates and reusing a spent one revokes the
 * whole family, so ten requests failing together must cause exactly one POST /auth/refresh,
 * which all of them wait for. When the server refuses the refresh, the session is over:
 * tokens are cleared and `onSessionExpired` sends the user to the login page.
 */
import type { Middleware } from 'openapi-fetch';
import { ApiError, networkError, readJson, toApiError } from './errors';
import type { TokenPair, TokenStore } from './tokens';

export type FetchLike = (request: Request) => Promise<Response>;

const NO_RETRY_PATHS = ['/api/auth/login', '/api/auth/refresh'];

export interface TransportOptions {
	tokens: TokenStore;
	/** Origin of the API ('' = same origin as the SPA). */
	baseUrl?: string;
	fetch?: FetchLike;
	onSessionExpired?: () => void;
}

export class AuthTransport {
	readonly tokens: TokenStore;
	readonly baseUrl: string;
	readonly baseFetch: FetchLike;
	onSessionExpired: () => void;
	#inflight: Promise<string | null> | null = null;
	#pending = new Map<string, Request>();

	constructor(options: TransportOptions) {
		this.tokens = options.tokens;
		this.baseUrl = options.baseUrl ?? '';
		const custom = options.fetch;
		// Looked up at call time so tests (and devtools) can replace globalThis.fetch.
		this.baseFetch = custom ?? ((request) => globalThis.fetch(request));
		this.onSessionExpired = options.onSessionExpired ?? (() => {});
	}

	/**
	 * Renews the access token. Concurrent callers share one request. Resolves to the new
	 * access token, or null when the server refused (session over). Throws ApiError when the
	 * server could not be reached, without ending the session.
	 */
	refresh(): Promise<string | null> {
		if (!this.#inflight) {
			this.#inflight = this.#doRefresh().finally(() => {
				this.#inflight = null;
			});
		}
		return this.#inflight;
	}

	async #doRefresh(): Promise<string | null> {
		if (!this.tokens.hasSession) {
			this.#expire();
			return null;
		}
		// Tabs share the cookie: serialise their refreshes so two tabs never present the same
		// (then spent) token, which the server would take for theft and revoke the session.
		const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
		const send = () => this.#postRefresh();
		let response: Response;
		try {
			response = locks ? await locks.request('jc-session-refresh', send) : await send();
		} catch (cause) {
			throw networkError(cause);
		}
		const body = await readJson(response);
		if (response.ok) {
			const data = (body as { data?: TokenPair } | null)?.data;
			if (data?.access_token && data.refresh_token) {
				this.tokens.set(data);
				return data.access_token;
			}
			throw toApiError(502, null, response.headers);
		}
		if (response.status >= 400 && response.status < 500 && response.status !== 429) {
			this.#expire();
			return null;
		}
		throw toApiError(response.status, body, response.headers);
	}

	/** The refresh token travels only in the httpOnly cookie; the header is the CSRF guard. */
	#postRefresh(): Promise<Response> {
		return this.baseFetch(
			new Request(`${this.#origin()}/api/auth/refresh`, {
				method: 'POST',
				credentials: 'same-origin',
				headers: {
					'Content-Type': 'application/json',
					Accept: 'application/json',
					'X-Requested-With': 'jeturing-core'
				},
				body: '{}'
			})
		);
	}

	#expire(): void {
		this.tokens.clear();
		this.onSessionExpired();
	}

	#origin(): string {
		if (this.baseUrl) return this.baseUrl.replace(/\/$/, '');
		return typeof location === 'undefined' ? '' : location.origin;
	}

	#eligibleForRetry(request: Request): boolean {
		const path = new URL(request.url, 'http://localhost').pathname;
		return !NO_RETRY_PATHS.includes(path) && this.tokens.refresh !== null;
	}

	/**
	 * A tab that holds a session but no access token yet (a reload, a new tab) renews it
	 * before sending: the request would only come back 401. A refused or unreachable refresh
	 * leaves the request to go out as is, so its answer decides, as before.
	 */
	async #ensureAccess(request: Request): Promise<void> {
		if (this.tokens.access || !this.#eligibleForRetry(request)) return;
		try {
			await this.refresh();
		} catch {
			// Unreachable server: the request itself reports it.
		}
	}

	#authorize(request: Request): void {
		const path = new URL(request.url, 'http://localhost').pathname;
		if (NO_RETRY_PATHS.includes(path)) return;
		if (this.tokens.access && !request.headers.has('Authorization')) {
			request.headers.set('Authorization', `Bearer ${this.tokens.access}`);
		}
	}

	/**
	 * After a 401: the token to replay with, or null when the session is over. If another
	 * request already renewed the token while this one was in flight, reuse that one.
	 */
	async #tokenForReplay(failed: Request): Promise<string | null> {
		const sent = failed.headers.get('Authorization');
		const current = this.tokens.access;
		if (current && sent !== `Bearer ${current}`) return current;
		return this.refresh();
	}

	async #replay(original: Request, token: string): Promise<Response> {
		original.headers.set('Authorization', `Bearer ${token}`);
		try {
			return await this.baseFetch(original);
		} catch (cause) {
			throw networkError(cause);
		}
	}

	/** A fetch with bearer + refresh-and-replay, for streams and non-JSON downloads. */
	fetch = async (request: Request): Promise<Response> => {
		await this.#ensureAccess(request);
		this.#authorize(request);
		const retry = this.#eligibleForRetry(request) ? request.clone() : null;
		let response: Response;
		try {
			response = await this.baseFetch(request);
		} catch (cause) {
			if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
			throw networkError(cause);
		}
		if (response.status !== 401 || !retry) return response;
		const token = await this.#tokenForReplay(request);
		if (!token) return response;
		return this.#replay(retry, token);
	};

	/** The same behaviour as openapi-fetch middleware, for the typed client. */
	readonly middleware: Middleware = {
		onRequest: async ({ request, id }) => {
			await this.#ensureAccess(request);
			this.#authorize(request);
			if (this.#eligibleForRetry(request)) this.#pending.set(id, request.clone());
			return request;
		},
		onResponse: async ({ request, response, id }) => {
			const retry = this.#pending.get(id);
			this.#pending.delete(id);
			if (response.status !== 401 || !retry) return undefined;
			const token = await this.#tokenForReplay(request);
			if (!token) return undefined;
			return this.#replay(retry, token);
		},
		onError: ({ id, error }) => {
			this.#pending.delete(id);
			if (error instanceof ApiError) return error;
			if (error instanceof DOMException && error.name === 'AbortError') return undefined;
			return networkError(error);
		}
	};
}
