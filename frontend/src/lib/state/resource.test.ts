import { describe, expect, it } from 'vitest';
import { Resource } from './resource.svelte';
import { toApiError } from '$lib/api/errors';

const ok = <T>(data: T, meta: Record<string, unknown> = {}) => async () => ({ data, meta });

describe('Resource', () => {
	it('loads data and meta', async () => {
		const r = new Resource<number[]>();
		expect(r.status).toBe('idle');
		const pending = r.load(ok([1, 2], { total: 2 }));
		expect(r.loading).toBe(true);
		await pending;
		expect(r.status).toBe('ready');
		expect(r.data).toEqual([1, 2]);
		expect(r.meta).toEqual({ total: 2 });
	});

	it('reports a 404 as an error with the server detail (no "coming soon" state)', async () => {
		const r = new Resource<number>();
		await r.load(async () => Promise.reject(toApiError(404, { success: false, error: 'NOT_FOUND', detail: 'La ruta solicitada no existe.' })));
		expect(r.status).toBe('error');
		expect(r.failed).toBe(true);
		expect(r.error?.detail).toBe('La ruta solicitada no existe.');
		await r.load(async () => Promise.reject(toApiError(500, null)));
		expect(r.error?.code).toBe('INTERNAL_ERROR');
		await r.load(async () => Promise.reject(new Error('x')));
		expect(r.error?.detail).toMatch(/inesperado/);
	});

	it('keeps only the newest answer and reloads the last fetcher', async () => {
		const r = new Resource<string>();
		let resolveSlow: (v: { data: string; meta: Record<string, unknown> }) => void = () => {};
		const slow = r.load(() => new Promise((resolve) => (resolveSlow = resolve)));
		const fast = r.load(ok('nuevo'));
		resolveSlow({ data: 'viejo', meta: {} });
		await Promise.all([slow, fast]);
		expect(r.data).toBe('nuevo');
		let calls = 0;
		await r.load(async () => ({ data: `n${++calls}`, meta: {} }));
		await r.reload();
		expect(r.data).toBe('n2');
	});
});
