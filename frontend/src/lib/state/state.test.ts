import { afterEach, describe, expect, it, vi } from 'vitest';
import { Session } from './session.svelte';
import { Toasts } from './toasts.svelte';
import { LabMode } from './lab.svelte';
import { ApiError, networkError, toApiError } from '$lib/api/errors';
import { TokenStore } from '$lib/api/tokens';
import { memoryStorage } from '$lib/api/testing';
import type { User } from '$lib/api/types';

const user = (role: User['role']): User => ({
	id: 1,
	email: 'ana@example.com',
	name: 'Ana',
	role,
	disabled: false,
	created_at: '2026-01-01T00:00:00Z',
	last_login_at: null
});

function makeSession(overrides: Partial<ConstructorParameters<typeof Session>[0]> = {}) {
	const tokens = new TokenStore(memoryStorage());
	const deps = {
		tokens,
		login: vi.fn(async () => ({ access_token: 'at', refresh_token: 'rt', expires_in: 900 })),
		me: vi.fn(async () => user('operator')),
		logout: vi.fn(async () => {}),
		...overrides
	};
	return { session: new Session(deps), deps, tokens };
}

describe('Session', () => {
	it('logs in, stores tokens and loads the user', async () => {
		const { session, tokens } = makeSession();
		await session.login(' ana@example.com ', 'secreto');
		expect(session.status).toBe('authenticated');
		expect(session.isAuthenticated).toBe(true);
		expect(session.role).toBe('operator');
		expect(session.roleLabel).toBe('Operador');
		expect(session.canOperate).toBe(true);
		expect(session.isAdmin).toBe(false);
		expect(tokens.refresh).toBe('rt');
	});

	it('passes a failed login on and leaves no tokens', async () => {
		const refused = toApiError(401, { success: false, error: 'INVALID_CREDENTIALS', detail: 'Credenciales incorrectas' });
		const { session, tokens } = makeSession({ login: vi.fn(async () => Promise.reject(refused)) });
		await expect(session.login('a@b.c', 'x')).rejects.toBe(refused);
		expect(session.status).toBe('anonymous');
		expect(tokens.hasSession).toBe(false);
	});

	it('viewers read only', async () => {
		const { session } = makeSession({ me: vi.fn(async () => user('viewer')) });
		await session.login('a@b.c', 'x');
		expect(session.canOperate).toBe(false);
		expect(session.roleLabel).toBe('Lector');
	});

	it('customers belong in the portal, staff in the panel', async () => {
		const { session } = makeSession({ me: vi.fn(async () => user('customer')) });
		await session.login('ana@example.com', 'secreto');
		expect(session.isCustomer).toBe(true);
		expect(session.canOperate).toBe(false);
		expect(session.roleLabel).toBe('Cliente');
		expect(session.home).toBe('/portal');
		const staff = makeSession().session;
		await staff.login('ana@example.com', 'secreto');
		expect(staff.isCustomer).toBe(false);
		expect(staff.home).toBe('/');
	});

	it('restores a session from stored tokens, once', async () => {
		const { session, tokens, deps } = makeSession();
		tokens.set({ access_token: 'at', refresh_token: 'rt', expires_in: 900 });
		await Promise.all([session.restore(), session.restore()]);
		expect(deps.me).toHaveBeenCalledTimes(1);
		expect(session.status).toBe('authenticated');
		await session.restore();
		expect(deps.me).toHaveBeenCalledTimes(1);
	});

	it('is anonymous without tokens, and drops tokens the server refuses', async () => {
		const empty = makeSession();
		await empty.session.restore();
		expect(empty.session.status).toBe('anonymous');
		expect(empty.deps.me).not.toHaveBeenCalled();

		const refused = makeSession({ me: vi.fn(async () => Promise.reject(toApiError(401, null))) });
		refused.tokens.set({ access_token: 'at', refresh_token: 'rt', expires_in: 900 });
		await refused.session.restore();
		expect(refused.session.status).toBe('anonymous');
		expect(refused.tokens.hasSession).toBe(false);
	});

	it('keeps tokens when the server is unreachable during restore', async () => {
		const { session, tokens } = makeSession({ me: vi.fn(async () => Promise.reject(networkError())) });
		tokens.set({ access_token: 'at', refresh_token: 'rt', expires_in: 900 });
		await session.restore();
		expect(session.status).toBe('anonymous');
		expect(tokens.hasSession).toBe(true);
	});

	it('logs out on the server and locally, even when the server fails', async () => {
		const ok = makeSession();
		await ok.session.login('a@b.c', 'x');
		await ok.session.logout();
		expect(ok.deps.logout).toHaveBeenCalledWith('rt');
		expect(ok.session.user).toBeNull();
		expect(ok.tokens.hasSession).toBe(false);

		const failing = makeSession({ logout: vi.fn(async () => Promise.reject(networkError())) });
		await failing.session.login('a@b.c', 'x');
		await failing.session.logout();
		expect(failing.session.status).toBe('anonymous');
		expect(failing.tokens.hasSession).toBe(false);
	});

	it('expires with a Spanish notice', async () => {
		const { session } = makeSession();
		await session.login('a@b.c', 'x');
		session.expire();
		expect(session.isAuthenticated).toBe(false);
		expect(session.notice).toBe('Su sesión ha caducado. Inicie sesión de nuevo.');
	});
});

describe('Toasts', () => {
	afterEach(() => vi.useRealTimers());

	it('adds, auto-dismisses and dismisses toasts', () => {
		vi.useFakeTimers();
		const toasts = new Toasts();
		toasts.success('Tenant suspendido');
		const sticky = toasts.push('info', 'Fijo', 0);
		expect(toasts.items.map((t) => t.kind)).toEqual(['success', 'info']);
		vi.advanceTimersByTime(4000);
		expect(toasts.items.map((t) => t.message)).toEqual(['Fijo']);
		toasts.dismiss(sticky);
		expect(toasts.items).toEqual([]);
	});

	it('shows the Spanish detail of an ApiError', () => {
		const toasts = new Toasts();
		toasts.error(new ApiError({ status: 409, code: 'TENANT_BUSY', detail: 'El tenant tiene una operación en curso' }));
		toasts.error(new Error('internal'));
		toasts.error('Texto propio');
		expect(toasts.items.map((t) => t.message)).toEqual([
			'El tenant tiene una operación en curso',
			'Se produjo un error inesperado. Inténtelo de nuevo.',
			'Texto propio'
		]);
		toasts.clear();
	});

	it('collapses repeats and keeps at most `max`', () => {
		const toasts = new Toasts(3);
		toasts.info('a');
		toasts.info('a');
		expect(toasts.items).toHaveLength(1);
		for (const m of ['b', 'c', 'd']) toasts.info(m);
		expect(toasts.items.map((t) => t.message)).toEqual(['b', 'c', 'd']);
		toasts.clear();
	});
});

describe('LabMode', () => {
	it('reads data.lab from the health endpoint', async () => {
		const lab = new LabMode(async () => ({ status: 'ok', version: '0.1.0', database: 'ok', lab: true, database_latency_ms: 1.2 }));
		expect(lab.enabled).toBe(false);
		await lab.load();
		expect(lab.enabled).toBe(true);
		expect(lab.version).toBe('0.1.0');
		expect(lab.loaded).toBe(true);
	});

	it('stays off when the backend does not answer', async () => {
		const lab = new LabMode(async () => Promise.reject(networkError()));
		await lab.load();
		expect(lab.enabled).toBe(false);
		expect(lab.unreachable).toBe(true);
		expect(lab.loaded).toBe(true);
	});
});

import { JobView, MAX_LOG_LINES } from './job.svelte';

describe('JobView', () => {
	it('merges step events by name and estimates progress', () => {
		const view = new JobView();
		view.load({
			kind: 'create',
			status: 'running',
			steps: [
				{ name: 'place', status: 'succeeded' },
				{ name: 'create_database', status: 'running' },
				{ name: 'route', status: 'pending' },
				{ name: 'verify', status: 'pending' }
			]
		});
		expect(view.percent).toBe(25);
		view.step({ name: 'create_database', status: 'succeeded', attempts: 2 });
		expect(view.steps[1]).toMatchObject({ status: 'succeeded', attempts: 2 });
		expect(view.percent).toBe(50);
		view.step({ name: 'activate', status: 'pending' });
		expect(view.steps).toHaveLength(5);
		view.progress({ progress: 80, status: 'running' });
		view.progress({ progress: 70, status: 'running' });
		expect(view.percent).toBe(80);
		view.finish({ status: 'succeeded' });
		expect(view.percent).toBe(100);
		expect(view.succeeded).toBe(true);
	});

	it('records failure and a bounded log', () => {
		const view = new JobView();
		for (let i = 0; i < MAX_LOG_LINES + 10; i++) view.append({ message: `línea ${i}` });
		expect(view.log).toHaveLength(MAX_LOG_LINES);
		expect(view.log[0]!.message).toBe('línea 10');
		view.finish({ status: 'failed', error: 'Paso «Publicar en Cloudflare»: 403' });
		expect(view.failed).toBe(true);
		expect(view.percent).toBe(0);
	});

	it('treats a finished snapshot as done', () => {
		const view = new JobView();
		view.load({ kind: 'suspend', status: 'failed', error: 'x', steps: [], progress: 40 });
		expect(view.done).toEqual({ status: 'failed', error: 'x' });
		expect(view.percent).toBe(40);
	});
});
