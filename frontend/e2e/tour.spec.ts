import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { apiGet, apiToken, appErrors, login, requireBackend, requireCredentials, watchConsole } from './helpers';
import { DATA_PATTERNS, judge, visibleText } from './language';

// The language tour (issue 21): as admin, operator and viewer, every page of the admin app
// (derived from the route tree, so a new page joins the tour by existing), failing on English
// UI words, raw keys / snake_case identifiers shown as text, and any 4xx/5xx /api answer the
// page itself caused. One browser context per role; pages are judged once they settle.

type Role = 'admin' | 'operator' | 'viewer';

/** The admin app's pages from the route tree (`src/routes/(app)`): `/tenants/[id]` and so on. */
function appRoutes(): string[] {
	const root = fileURLToPath(new URL('../src/routes/(app)', import.meta.url));
	const found: string[] = [];
	const walk = (dir: string) => {
		for (const name of readdirSync(dir)) {
			const full = join(dir, name);
			if (statSync(full).isDirectory()) walk(full);
			else if (name === '+page.svelte') {
				const rel = relative(root, dir).split(sep).filter((part) => part && !/^\(.*\)$/.test(part));
				found.push(`/${rel.join('/')}`);
			}
		}
	};
	walk(root);
	return found.sort();
}

/** Sample values for the routes' parameters: an existing tenant and customer. */
async function routeParams(request: APIRequestContext, token: string): Promise<Record<string, string>> {
	const tenants = (await apiGet(request, token, '/api/tenants?per_page=1')).body?.data ?? [];
	let tenantId = tenants[0]?.id as number | undefined;
	if (tenantId == null) {
		const stamp = Date.now().toString(36);
		const created = await request.post('/api/tenants', {
			headers: { Authorization: `Bearer ${token}` },
			data: { company_name: 'Recorrido S.L.', email: `recorrido-${stamp}@example.com`, subdomain: `recorrido-${stamp}`, plan: 'basic' }
		});
		expect(created.status(), await created.text()).toBe(202);
		tenantId = (await created.json()).data.id as number;
	}
	const customers = (await apiGet(request, token, '/api/customers?per_page=1')).body?.data ?? [];
	const tenant = (await apiGet(request, token, `/api/tenants/${tenantId}`)).body?.data;
	const customerId = customers[0]?.id ?? tenant?.customer_id;
	expect(customerId, 'hay un cliente para /customers/[id]').toBeTruthy();
	return { '/tenants/[id]': `/tenants/${tenantId}`, '/customers/[id]': `/customers/${customerId}` };
}

/** Who may see which page: the lab's pages (its captured mail) are not for a viewer. */
function visibleTo(route: string, role: Role): boolean {
	return !route.startsWith('/lab/') || role !== 'viewer';
}

async function newUser(request: APIRequestContext, token: string, role: Exclude<Role, 'admin'>) {
	const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
	const email = `recorrido-${role}-${stamp}@example.com`;
	const password = `Recorrido-${stamp}-Clave`;
	const created = await request.post('/api/users', {
		headers: { Authorization: `Bearer ${token}` },
		data: { email, name: `Recorrido ${role === 'operator' ? 'Operador' : 'Lector'}`, role, password }
	});
	expect(created.status(), await created.text()).toBe(201);
	return { email, password };
}

/** Waits until the page has a heading and no section is still loading. */
async function settle(page: Page): Promise<void> {
	await expect(page.locator('h1').first()).toBeVisible();
	await expect(page.locator('[aria-busy="true"]')).toHaveCount(0, { timeout: 20_000 });
}

async function tour(page: Page, request: APIRequestContext, role: Role): Promise<void> {
	const token = await apiToken(request);
	const params = await routeParams(request, token);
	const credentials = role === 'admin' ? undefined : await newUser(request, token, role);

	const errors = watchConsole(page);
	let current = '(inicio)';
	const failures: string[] = [];
	page.on('response', (r) => {
		const url = new URL(r.url());
		if (url.pathname.startsWith('/api/') && r.status() >= 400) {
			failures.push(`${current}: ${r.status()} ${r.request().method()} ${url.pathname}${url.search}`);
		}
	});
	await login(page, credentials?.email, credentials?.password);

	const routes = appRoutes().filter((route) => visibleTo(route, role));
	// Every section link of the sidebar is a route of the tree (nothing outside the tour).
	const nav = await page.getByRole('navigation', { name: 'Secciones' }).getByRole('link').evaluateAll((links) => links.map((a) => new URL((a as HTMLAnchorElement).href).pathname));
	for (const href of nav) expect(routes, `el enlace ${href} del menú es una página del recorrido`).toContain(href);

	const visits = [...routes.map((route) => params[route] ?? route), '/ruta-que-no-existe'];
	for (const path of visits) {
		expect(path, `falta un valor de ejemplo para ${path}`).not.toContain('[');
		current = path;
		if (nav.includes(path)) {
			// Sections through the menu, as a person moves (no reload).
			await page.getByRole('navigation', { name: 'Secciones' }).locator(`a[href="${path}"]`).click();
			await page.waitForURL((url) => url.pathname === path);
		} else {
			await page.goto(path);
		}
		await settle(page);
		if (path === '/ruta-que-no-existe') await expect(page.getByRole('heading', { name: 'Página no encontrada' })).toBeVisible();
		failures.push(...judge(await visibleText(page)).map((f) => `${path}: ${f}`));
		// Tabs (Ajustes) hold pages of their own.
		const tabs = page.getByRole('tab');
		for (let i = 0; i < (await tabs.count()); i += 1) {
			const tab = tabs.nth(i);
			const name = (await tab.innerText()).trim();
			current = `${path} › ${name}`;
			await tab.click();
			await settle(page);
			failures.push(...judge(await visibleText(page)).map((f) => `${current}: ${f}`));
		}
	}
	expect(failures, `recorrido como ${role}`).toEqual([]);
	// SvelteKit reports the unknown route it was asked for; that visit is the 404 check itself.
	expect(appErrors(errors).filter((e) => !e.includes('Not found: /ruta-que-no-existe'))).toEqual([]);
}

test.describe('Recorrido del idioma', () => {
	test.beforeEach(() => {
		requireBackend();
		requireCredentials();
	});

	for (const role of ['admin', 'operator', 'viewer'] as const) {
		test(`cada página en español y sin errores como ${role}`, async ({ page, request }) => {
			test.setTimeout(120_000);
			await tour(page, request, role);
		});
	}

	test('el juez reconoce lo que debe rechazar y deja pasar los datos', () => {
		expect(judge('Loading…')).toHaveLength(1);
		expect(judge('Estado: succeeded')).toHaveLength(1);
		expect(judge('Paso verify_http')).toHaveLength(1);
		expect(judge('Acción auth.login')).toHaveLength(1);
		expect(judge('Sin respaldo. No hay errores. Error de conexión. Plan Pro.')).toEqual([]);
		const data = DATA_PATTERNS.reduce((acc, re) => acc.replace(re, ' '), 'ana_lopez@example.com https://acme.sajet.us/web?db=acme_1 acme.sajet.us sub_c7277da8a0f7fc78');
		expect(judge(data)).toEqual([]);
	});
});
