import { describe, expect, it, vi } from 'vitest';
import createClient from 'openapi-fetch';
import type { paths } from './schema';
import { COOKIE_SESSION, TokenStore } from './tokens';
import { AuthTransport } from './transport';
import { ApiError } from './errors';
import { unwrap } from './http';
import { json, memoryStorage, type Call } from './testing';

const BASE = 'http://api.test';
const USER = {
	id: 1,
	email: 'ana@example.com',
	name: 'Ana',
	role: 'admin',
	disabled: false,
	created_at: '2026-01-01T00:00:00Z',
	last_login_at: null
};

/**
 * A fake server: access tokens are valid when listed in `valid`; refresh (by cookie) rotates
 * `rt-N` → `rt-N+1` and issues `at-N+1`; a refresh without the SPA's header is refused.
 */
function fakeServer(options: { refreshStatus?: number; refreshDelay?: number } = {}) {
	const calls: Call[] = [];
	const valid = new Set<string>();
	let generation = 1;
	const fetch = vi.fn(async (request: Request): Promise<Response> => {
		const url = new URL(request.url);
		const body = request.method === 'GET' ? '' : await request.text();
		calls.push({ method: request.method, path: url.pathname, auth: request.headers.get('Authorization'), body });
		if (url.pathname === '/api/auth/refresh') {
			if (options.refreshDelay) await new Promise((r) => setTimeout(r, options.refreshDelay));
			if (options.refreshStatus) {
				return json(options.refreshStatus, { success: false, error: 'UNAUTHORIZED', detail: 'Sesión no válida' });
			}
			// The refresh token rides in the httpOnly cookie, never in the body; the SPA's
			// header is the CSRF guard the server requires for a cookie refresh.
			const inBody = (JSON.parse(body) as { refresh_token?: string }).refresh_token;
			if (inBody !== undefined || request.headers.get('X-Requested-With') !== 'jeturing-core') {
				return json(401, { success: false, error: 'UNAUTHORIZED', detail: 'Token reutilizado' });
			}
			generation += 1;
			valid.clear();
			valid.add(`at-${generation}`);
			return json(200, {
				success: true,
				data: { access_token: `at-${generation}`, refresh_token: `rt-${generation}`, token_type: 'bearer', expires_in: 900 },
				meta: {}
			});
		}
		const token = request.headers.get('Authorization')?.replace('Bearer ', '');
		if (!token || !valid.has(token)) {
			return json(401, { success: false, error: 'UNAUTHORIZED', detail: 'Token caducado' });
		}
		if (url.pathname === '/api/settings/echo') return json(200, { success: true, data: { key: 'echo', value: body }, meta: {} });
		return json(200, { success: true, data: USER, meta: {} });
	});
	return { calls, valid, fetch };
}

function setup(server: ReturnType<typeof fakeServer>, expired = true) {
	const tokens = new TokenStore(memoryStorage());
	tokens.set({ access_token: 'at-1', refresh_token: 'rt-1', expires_in: 900 });
	if (!expired) server.valid.add('at-1');
	const onSessionExpired = vi.fn();
	const transport = new AuthTransport({ tokens, baseUrl: BASE, fetch: server.fetch, onSessionExpired });
	const client = createClient<paths>({ baseUrl: BASE, fetch: transport.baseFetch });
	client.use(transport.middleware);
	return { tokens, transport, client, onSessionExpired };
}

describe('AuthTransport with openapi-fetch', () => {
	it('sends the bearer token', async () => {
		const server = fakeServer();
		const { client } = setup(server, false);
		const me = await unwrap(client.GET('/api/auth/me'));
		expect(me.data.email).toBe('ana@example.com');
		expect(server.calls[0]!.auth).toBe('Bearer at-1');
	});

	it('refreshes on 401 and replays the request with the new token', async () => {
		const server = fakeServer();
		const { client, tokens } = setup(server);
		const me = await unwrap(client.GET('/api/auth/me'));
		expect(me.data.role).toBe('admin');
		expect(server.calls.map((c) => c.path)).toEqual(['/api/auth/me', '/api/auth/refresh', '/api/auth/me']);
		expect(server.calls[2]!.auth).toBe('Bearer at-2');
		expect(tokens.access).toBe('at-2');
		expect(tokens.refresh).toBe('rt-2');
	});

	it('replays request bodies intact', async () => {
		const server = fakeServer();
		const { client } = setup(server);
		const result = await unwrap(client.PUT('/api/settings/{key}', { params: { path: { key: 'echo' } }, body: { value: 'a' } }));
		expect(result.data.value).toBe('{"value":"a"}');
	});

	it('runs one refresh for many concurrent 401s (single flight)', async () => {
		const server = fakeServer({ refreshDelay: 20 });
		const { client, transport } = setup(server);
		const results = await Promise.all([
			unwrap(client.GET('/api/auth/me')),
			unwrap(client.GET('/api/auth/me')),
			transport.fetch(new Request(`${BASE}/api/tenants`)),
			unwrap(client.GET('/api/auth/me')),
			unwrap(client.PUT('/api/settings/{key}', { params: { path: { key: 'echo' } }, body: { value: '5' } }))
		]);
		expect(results).toHaveLength(5);
		expect(server.calls.filter((c) => c.path === '/api/auth/refresh')).toHaveLength(1);
	});

	it('reuses a token another request already renewed', async () => {
		const server = fakeServer();
		const { client, tokens } = setup(server);
		await unwrap(client.GET('/api/auth/me'));
		// A late 401 for a request sent with the old token must not spend rt-2.
		const late = await unwrap(client.GET('/api/auth/me'));
		expect(late.data).toBeTruthy();
		expect(tokens.refresh).toBe('rt-2');
		expect(server.calls.filter((c) => c.path === '/api/auth/refresh')).toHaveLength(1);
	});

	it('ends the session when the server refuses the refresh', async () => {
		const server = fakeServer({ refreshStatus: 401 });
		const { client, tokens, onSessionExpired } = setup(server);
		const failure = await unwrap(client.GET('/api/auth/me')).catch((e: unknown) => e);
		expect(failure).toBeInstanceOf(ApiError);
		expect((failure as ApiError).status).toBe(401);
		expect(onSessionExpired).toHaveBeenCalledTimes(1);
		expect(tokens.access).toBeNull();
		expect(tokens.refresh).toBeNull();
	});

	it('keeps the session when the refresh endpoint is down (5xx)', async () => {
		const server = fakeServer({ refreshStatus: 503 });
		const { client, tokens, onSessionExpired } = setup(server);
		const failure = (await unwrap(client.GET('/api/auth/me')).catch((e: unknown) => e)) as ApiError;
		expect(failure.status).toBe(503);
		expect(onSessionExpired).not.toHaveBeenCalled();
		expect(tokens.refresh).toBe('rt-1');
	});

	it('never refreshes for the login endpoint itself', async () => {
		const calls: string[] = [];
		const tokens = new TokenStore(memoryStorage());
		const transport = new AuthTransport({
			tokens,
			baseUrl: BASE,
			fetch: async (req) => {
				calls.push(`${req.method} ${new URL(req.url).pathname} ${req.headers.get('Authorization')}`);
				return json(401, { success: false, error: 'INVALID_CREDENTIALS', detail: 'Correo electrónico o contraseña incorrectos' });
			}
		});
		const client = createClient<paths>({ baseUrl: BASE, fetch: transport.baseFetch });
		client.use(transport.middleware);
		const failure = (await unwrap(
			client.POST('/api/auth/login', { body: { email: 'a@b.c', password: 'x' } })
		).catch((e: unknown) => e)) as ApiError;
		expect(failure.code).toBe('INVALID_CREDENTIALS');
		expect(failure.detail).toBe('Correo electrónico o contraseña incorrectos');
		expect(calls).toEqual(['POST /api/auth/login null']);
	});

	it('maps a fetch that never reached the server to NETWORK_ERROR', async () => {
		const tokens = new TokenStore(memoryStorage());
		const transport = new AuthTransport({
			tokens,
			baseUrl: BASE,
			fetch: async () => {
				throw new TypeError('Failed to fetch');
			}
		});
		const client = createClient<paths>({ baseUrl: BASE, fetch: transport.baseFetch });
		client.use(transport.middleware);
		const failure = (await unwrap(client.GET('/api/health')).catch((e: unknown) => e)) as ApiError;
		expect(failure.code).toBe('NETWORK_ERROR');
	});
});

describe('TokenStore', () => {
	it('keeps no token in storage, only the hint that lets a new tab refresh by cookie', () => {
		const storage = memoryStorage();
		const first = new TokenStore(storage);
		first.set({ access_token: 'a', refresh_token: 'r', expires_in: 900 }, 1000);
		expect(first.expiresAt).toBe(901_000);
		expect(first.refresh).toBe('r');
		const second = new TokenStore(storage); // another tab of the same browser
		expect(second.access).toBeNull();
		expect(second.refresh).toBe(COOKIE_SESSION);
		expect(second.hasSession).toBe(true);
		for (const key of ['jc.access_token', 'jc.refresh_token']) expect(storage.getItem(key)).toBeNull();
		second.clear();
		expect(new TokenStore(storage).hasSession).toBe(false);
	});
	it('restores a new tab with exactly one cookie refresh', async () => {
		const storage = memoryStorage();
		new TokenStore(storage).set({ access_token: 'at-1', refresh_token: 'rt-1', expires_in: 900 });
		const server = fakeServer();
		const tokens = new TokenStore(storage);
		const transport = new AuthTransport({ tokens, baseUrl: BASE, fetch: server.fetch });
		const client = createClient<paths>({ baseUrl: BASE, fetch: transport.baseFetch });
		client.use(transport.middleware);
		const me = await unwrap(client.GET('/api/auth/me'));
		expect(me.data.email).toBe('ana@example.com');
		// Refresh first: the reload itself never causes a 401.
		expect(server.calls.map((c) => c.path)).toEqual(['/api/auth/refresh', '/api/auth/me']);
		expect(server.calls[0]!.body).toBe('{}');
	});
	it('works without storage', () => {
		const store = new TokenStore(null);
		store.set({ access_token: 'a', refresh_token: 'r', expires_in: 0 });
		expect(store.access).toBe('a');
		expect(store.expiresAt).toBeNull();
	});
});
