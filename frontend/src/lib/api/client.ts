/**
 * The app's API singletons: one token store, one transport (bearer + single-flight
 * refresh), the typed openapi-fetch client and the plain requester. Same origin by default:
 * FastAPI serves the SPA and /api; `npm run dev` proxies /api to the backend.
 */
import createClient from 'openapi-fetch';
import type { paths } from './schema';
import { browserSessionStorage, TokenStore } from './tokens';
import { AuthTransport } from './transport';
import { createRequester } from './http';

export const tokens = new TokenStore(browserSessionStorage());

export const transport = new AuthTransport({ tokens });

export const api = createClient<paths>({
	baseUrl: typeof location === 'undefined' ? 'http://localhost' : location.origin,
	fetch: (request) => transport.baseFetch(request)
});
api.use(transport.middleware);

export const request = createRequester(transport.fetch);

export { unwrap } from './http';
export { ApiError, errorMessage } from './errors';
