/**
 * The app's API singletons: one token store, one transport (bearer + single-flight
 * refresh) and the typed openapi-fetch client: the only way the app talks to /api. Same origin by default:
 * FastAPI serves the SPA and /api; `npm run dev` proxies /api to the backend.
 */
import createClient from 'openapi-fetch';
import type { paths } from './schema';
import { browserSessionStorage, TokenStore } from './tokens';
import { AuthTransport } from './transport';

export const tokens = new TokenStore(browserSessionStorage());

export const transport = new AuthTransport({ tokens });

export const api = createClient<paths>({
	baseUrl: typeof location === 'undefined' ? 'http://localhost' : location.origin,
	fetch: (request) => transport.baseFetch(request)
});
api.use(transport.middleware);

export { unwrap } from './http';
export { ApiError, errorMessage } from './errors';
