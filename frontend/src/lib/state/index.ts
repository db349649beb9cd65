/** The app-wide state instances, wired to the real API client. */
import { api, tokens, transport, unwrap } from '$lib/api/client';
import { Session } from './session.svelte';
import { Toasts } from './toasts.svelte';
import { LabMode } from './lab.svelte';

export const session = new Session({
	tokens,
	login: async (email, password) =>
		(await unwrap(api.POST('/api/auth/login', { body: { email, password } }))).data,
	me: async () => (await unwrap(api.GET('/api/auth/me'))).data,
	logout: async (refreshToken) => {
		await unwrap(api.POST('/api/auth/logout', { body: { refresh_token: refreshToken } }));
	}
});

transport.onSessionExpired = () => session.expire();

export const toasts = new Toasts();

export const lab = new LabMode(async () => (await unwrap(api.GET('/api/health'))).data);
