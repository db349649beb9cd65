import { expect, test, type APIRequestContext, type Page } from '@playwright/test';

export const BASE_URL = process.env.E2E_BASE_URL;
export const EMAIL = process.env.E2E_EMAIL;
export const PASSWORD = process.env.E2E_PASSWORD;

/** Skips the file's tests with a clear reason when no backend was given. */
export function requireBackend(): void {
	test.skip(!BASE_URL, 'E2E_BASE_URL no está definido: arranque `erp-core serve --lab` y exporte su URL (p. ej. http://127.0.0.1:4443).');
}

export function requireCredentials(): void {
	test.skip(!EMAIL || !PASSWORD, 'E2E_EMAIL / E2E_PASSWORD no están definidos: cree un usuario (erp-core users …) y expórtelos.');
}

/** Collects console errors and failed page loads so each test can assert there were none. */
export function watchConsole(page: Page): string[] {
	const errors: string[] = [];
	page.on('console', (message) => {
		if (message.type() === 'error') errors.push(message.text());
	});
	page.on('pageerror', (error) => errors.push(error.message));
	return errors;
}

/**
 * Console errors that are bugs. Chromium logs every 4xx fetch as "Failed to load resource";
 * those are API answers the page handles (e.g. 404 of an endpoint not built yet).
 */
export function appErrors(errors: string[]): string[] {
	return errors.filter((e) => !/^Failed to load resource: the server responded with a status of 4\d\d/.test(e));
}

/** A sidebar section link. */
export function navLink(page: Page, name: string) {
	return page.getByRole('navigation', { name: 'Secciones' }).getByRole('link', { name, exact: true });
}

export async function screenshot(page: Page, name: string): Promise<void> {
	await page.screenshot({ path: `test-results/screenshots/${name}.png`, fullPage: true });
}

export async function login(page: Page, email = EMAIL!, password = PASSWORD!): Promise<void> {
	await page.goto('/login');
	await page.getByLabel('Correo electrónico').fill(email);
	await page.getByLabel('Contraseña').fill(password);
	await page.getByRole('button', { name: 'Iniciar sesión' }).click();
	await expect(page.getByRole('button', { name: 'Cerrar sesión' })).toBeVisible();
}

/** An access token for direct API calls from a test (the same figures the page asks for). */
export async function apiToken(request: APIRequestContext, email = EMAIL!, password = PASSWORD!): Promise<string> {
	const response = await request.post('/api/auth/login', { data: { email, password } });
	expect(response.ok(), `login ${email}: ${response.status()}`).toBeTruthy();
	return (await response.json()).data.access_token as string;
}

/** GET an /api path with a token: `{status, body}` (body null when not JSON). */
export async function apiGet(request: APIRequestContext, token: string, path: string): Promise<{ status: number; body: any }> {
	const response = await request.get(path, { headers: { Authorization: `Bearer ${token}` } });
	let body: unknown = null;
	try {
		body = await response.json();
	} catch {
		body = null;
	}
	return { status: response.status(), body };
}

/** Text as a person reads it: non-breaking and narrow spaces become plain spaces. */
export const plain = (text: string | null | undefined) => (text ?? '').replace(/[\u00a0\u202f]/g, ' ').trim();

interface Mail {
	id: number | string;
	to: string[];
	subject: string;
	text: string;
}

/** The newest captured message to `email` whose text holds a link to `path`; waits for the mail job. */
export async function mailLink(request: APIRequestContext, token: string, email: string, path: string): Promise<string> {
	let link: string | null = null;
	await expect
		.poll(
			async () => {
				const { status, body } = await apiGet(request, token, '/api/lab/mail');
				if (status !== 200) return `GET /api/lab/mail → ${status}`;
				for (const m of (body.data as Mail[]) ?? []) {
					if (!m.to.some((to) => to.toLowerCase() === email.toLowerCase())) continue;
					const found = m.text.match(new RegExp(`https?://[^\\s<>"']*${path.replace('/', '\\/')}\\?token=[^\\s<>"']+`));
					if (found) {
						link = found[0];
						return 'found';
					}
				}
				return 'waiting';
			},
			{ timeout: 60_000, message: `a mail to ${email} with a ${path} link` }
		)
		.toBe('found');
	return link!;
}
