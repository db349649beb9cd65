import { describe, expect, it } from 'vitest';
import { buildQuery, createRequester } from './http';
import { ApiError } from './errors';
import { json } from './testing';

describe('buildQuery', () => {
	it('drops empty values', () => {
		expect(buildQuery({ q: "O'Brien", status: '', plan: undefined, page: 2, sort: '-created_at' })).toBe(
			'?q=O%27Brien&page=2&sort=-created_at'
		);
		expect(buildQuery({})).toBe('');
		expect(buildQuery(undefined)).toBe('');
	});
});

describe('request', () => {
	it('returns data and meta of an envelope', async () => {
		let seen = '';
		const request = createRequester(async (req) => {
			seen = req.url;
			return json(200, { success: true, data: [{ id: 1 }], meta: { total: 1, page: 1, per_page: 25 } });
		}, 'http://api.test');
		const result = await request<{ id: number }[], { total: number }>('GET', '/api/tenants', {
			query: { page: 1 }
		});
		expect(seen).toBe('http://api.test/api/tenants?page=1');
		expect(result.data[0]!.id).toBe(1);
		expect(result.meta.total).toBe(1);
	});

	it('throws ApiError for error envelopes and for HTML error pages', async () => {
		const conflict = createRequester(async () =>
			json(409, { success: false, error: 'SUBDOMAIN_TAKEN', detail: 'El subdominio ya está en uso' })
		);
		const error = (await conflict('POST', '/api/tenants', { body: {} }).catch((e: unknown) => e)) as ApiError;
		expect(error).toBeInstanceOf(ApiError);
		expect(error.code).toBe('SUBDOMAIN_TAKEN');

		const html = createRequester(async () => new Response('<h1>502</h1>', { status: 502, headers: { 'Content-Type': 'text/html' } }));
		const proxy = (await html('GET', '/api/x').catch((e: unknown) => e)) as ApiError;
		expect(proxy.code).toBe('SERVICE_UNAVAILABLE');
	});

	it('rejects a 200 that is not an envelope', async () => {
		const odd = createRequester(async () => json(200, [1, 2, 3]));
		await expect(odd('GET', '/api/x')).rejects.toBeInstanceOf(ApiError);
	});
});
