import { describe, expect, it } from 'vitest';
import createClient from 'openapi-fetch';
import type { paths } from './schema';
import { unwrap } from './http';
import { ApiError } from './errors';
import { json } from './testing';

/** A typed client whose every answer is `answer` (what the server would have sent). */
function clientAnswering(answer: () => Response) {
	let seen = '';
	const client = createClient<paths>({
		baseUrl: 'http://api.test',
		fetch: async (req) => {
			seen = req.url;
			return answer();
		}
	});
	return { client, seen: () => seen };
}

describe('unwrap', () => {
	it('returns data and meta of an envelope', async () => {
		const { client, seen } = clientAnswering(() =>
			json(200, { success: true, data: [{ id: 1 }], meta: { total: 1, page: 1, per_page: 25 } })
		);
		const result = await unwrap<{ id: number }[], { total: number }>(client.GET('/api/tenants', { params: { query: { page: 1 } } }));
		expect(seen()).toBe('http://api.test/api/tenants?page=1');
		expect(result.data[0]!.id).toBe(1);
		expect(result.meta.total).toBe(1);
	});

	it('throws ApiError for error envelopes and for HTML error pages', async () => {
		const conflict = clientAnswering(() =>
			json(409, { success: false, error: 'SUBDOMAIN_TAKEN', detail: 'El subdominio ya está en uso' })
		).client;
		const error = (await unwrap(conflict.GET('/api/health')).catch((e: unknown) => e)) as ApiError;
		expect(error).toBeInstanceOf(ApiError);
		expect(error.code).toBe('SUBDOMAIN_TAKEN');
		expect(error.detail).toBe('El subdominio ya está en uso');

		const html = clientAnswering(() => new Response('<h1>502</h1>', { status: 502, headers: { 'Content-Type': 'text/html' } })).client;
		const proxy = (await unwrap(html.GET('/api/health')).catch((e: unknown) => e)) as ApiError;
		expect(proxy.code).toBe('SERVICE_UNAVAILABLE');
	});

	it('rejects a 200 that is not an envelope', async () => {
		const odd = clientAnswering(() => json(200, [1, 2, 3])).client;
		await expect(unwrap(odd.GET('/api/health'))).rejects.toBeInstanceOf(ApiError);
	});

	it('a 404 is an error with the server detail, never a placeholder', async () => {
		const missing = clientAnswering(() => json(404, { success: false, error: 'NOT_FOUND', detail: 'Ruta no encontrada' })).client;
		const error = (await unwrap(missing.GET('/api/health')).catch((e: unknown) => e)) as ApiError;
		expect(error.status).toBe(404);
		expect(error.detail).toBe('Ruta no encontrada');
	});
});
