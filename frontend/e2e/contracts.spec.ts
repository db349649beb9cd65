import { expect, test, type Page, type Route } from '@playwright/test';
import { appErrors, login, navLink, requireBackend, requireCredentials, screenshot, watchConsole } from './helpers';

// Endpoints still being built (status, settings, nodes, containers, tunnels, metrics) answered
// in the browser with the shapes agreed in the brief, so each page's rendering of real
// answers is exercised today. Everything else goes to the real backend.

const ok = (data: unknown, meta: object = {}) => ({ status: 200, contentType: 'application/json', body: JSON.stringify({ success: true, data, meta }) });

async function serve(page: Page, routes: Record<string, (route: Route) => unknown>) {
	await page.route('**/api/**', async (route) => {
		const url = new URL(route.request().url());
		const key = `${route.request().method()} ${url.pathname}`;
		const handler = routes[key];
		if (handler) return handler(route);
		return route.fallback();
	});
}

async function open(page: Page, name: string) {
	await navLink(page, name).click();
	await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
	await expect(page.locator('[aria-busy="true"]')).toHaveCount(0, { timeout: 15_000 });
}

test.describe('Contratos de API en construcción', () => {
	test.beforeEach(() => {
		requireBackend();
		requireCredentials();
	});

	test('Registros: estado de servicios con sus cuatro estados', async ({ page }) => {
		await serve(page, {
			'GET /api/logs/status': (r) =>
				r.fulfill(
					ok({
						overall: 'degraded',
						checked_at: new Date().toISOString(),
						checks: [
							{ name: 'database', label: 'Base de datos', status: 'ok', message: 'Responde', latency_ms: 1.4, details: { version: '16' } },
							{ name: 'odoo', label: 'Servidores Odoo', status: 'degraded', message: '1 de 2 responde', latency_ms: 120, details: {} },
							{ name: 'proxmox', label: 'Proxmox', status: 'not_configured', message: 'Falta PROXMOX_HOST', latency_ms: null, details: {} },
							{ name: 'disk', label: 'Disco', status: 'down', message: 'Sin espacio', latency_ms: null, details: { free: '0 B' } }
						]
					})
				)
		});
		const errors = watchConsole(page);
		await login(page);
		await open(page, 'Registros');
		const checks = page.getByTestId('service-checks');
		await expect(checks.locator('[data-check="database"]')).toContainText('Operativo');
		await expect(checks.locator('[data-check="odoo"]')).toContainText('Degradado');
		await expect(checks.locator('[data-check="proxmox"]')).toContainText('Sin configurar');
		await expect(checks.locator('[data-check="disk"]')).toContainText('Caído');
		await expect(page.getByText('Algún servicio degradado')).toBeVisible();
		await screenshot(page, 'contract-logs-status');
		expect(appErrors(errors)).toEqual([]);
	});

	test('Infraestructura: nodos, contenedores, túneles sin configurar y métricas', async ({ page }) => {
		const now = Date.now();
		const GiB = 1024 ** 3;
		await serve(page, {
			'GET /api/infrastructure/nodes': (r) =>
				r.fulfill(ok([{ id: 1, hostname: 'pve-01', status: 'online', cpu_usage: 0.42, cpu_total: 32, ram_used: 24 * GiB, ram_total: 64 * GiB, disk_used: 900 * GiB, disk_total: 1000 * GiB, containers: 1, tunnel_id: null, last_seen_at: new Date(now).toISOString() }], { total: 1, configured: { proxmox: true } })),
			'GET /api/infrastructure/containers': (r) =>
				r.fulfill(ok([{ id: 7, vmid: 105, hostname: 'odoo-105', node: 'pve-01', status: 'running', ip_address: '10.0.0.105', tenant: { id: 3, subdomain: 'acme', status: 'active' }, cpu_cores: 4, cpu_usage: 0.1, ram_mb: 8192, ram_used: 2 * GiB, disk_gb: 50, disk_used: 10 * GiB, last_seen_at: null }], { total: 1, page: 1, per_page: 50, configured: { proxmox: true } })),
			'GET /api/tunnels': (r) => r.fulfill(ok([], { total: 0, configured: { cloudflare: false } })),
			'GET /api/infrastructure/metrics': (r) =>
				r.fulfill(
					ok({
						kind: 'node',
						id: 1,
						source: 'raw',
						step: 60,
						points: Array.from({ length: 30 }, (_, i) => ({ t: new Date(now - (30 - i) * 60_000).toISOString(), cpu: 0.3 + (i % 5) / 20, cpu_max: 0.9, ram: (20 + i / 10) * GiB, ram_max: 30 * GiB, disk: 900 * GiB, disk_max: 900 * GiB, netin: 1000, netin_max: 2000, netout: 500, netout_max: 900, samples: 1 }))
					})
				)
		});
		const errors = watchConsole(page);
		await login(page);
		await open(page, 'Infraestructura');
		await expect(page.getByRole('cell', { name: 'pve-01', exact: true })).toBeVisible();
		await expect(page.getByRole('meter', { name: 'CPU de pve-01' })).toHaveAttribute('aria-valuenow', '42');
		await expect(page.getByRole('meter', { name: 'Disco de pve-01' })).toHaveAttribute('aria-valuenow', '90');
		await expect(page.getByRole('link', { name: 'acme' })).toHaveAttribute('href', '/tenants/3');
		await expect(page.getByText('Cloudflare sin configurar')).toBeVisible();
		await expect(page.getByRole('meter', { name: 'RAM de odoo-105' })).toHaveAttribute('aria-valuenow', '25');
		await expect(page.getByRole('img', { name: /Uso de pve-01/ })).toBeVisible();
		const metricsCall = page.waitForRequest((req) => req.url().includes('/api/infrastructure/metrics') && req.url().includes('step=3600'));
		await page.getByRole('group', { name: 'Intervalo' }).getByRole('button', { name: '7 d' }).click();
		const request = await metricsCall;
		expect(new URL(request.url()).searchParams.get('kind')).toBe('node');
		await page.getByRole('button', { name: 'Ver métricas de odoo-105' }).click();
		await expect(page.getByLabel('Nodo o contenedor')).toHaveValue('container:7');
		await screenshot(page, 'contract-infrastructure');
		expect(appErrors(errors)).toEqual([]);
	});

	test('Ajustes: secretos enmascarados, edición y Probar conexión', async ({ page }) => {
		let saved: unknown = null;
		await serve(page, {
			'GET /api/settings': (r) =>
				r.fulfill(
					ok({
						categories: [
							{
								category: 'stripe',
								label: 'Stripe',
								settings: [
									{ key: 'STRIPE_SECRET_KEY', label: 'Clave secreta', description: 'Clave de la API de Stripe', value: '••••1234', is_secret: true, source: 'environment', editable: true, type: 'secret' },
									{ key: 'STRIPE_CURRENCY', label: 'Moneda', description: null, value: 'usd', is_secret: false, source: 'default', editable: false, type: 'string' }
								]
							}
						]
					})
				),
			'PUT /api/settings/STRIPE_SECRET_KEY': (r) => {
				saved = r.request().postDataJSON();
				return r.fulfill(ok({ key: 'STRIPE_SECRET_KEY', label: 'Clave secreta', value: '••••9999', is_secret: true, source: 'database', editable: true, type: 'secret' }));
			},
			'POST /api/settings/test/stripe': (r) =>
				r.fulfill(ok({ integration: 'stripe', ok: false, checks: [{ name: 'Autenticación', ok: true, message: 'Clave válida' }, { name: 'Webhook', ok: false, message: 'Secreto del webhook sin configurar' }] }))
		});
		const errors = watchConsole(page);
		await login(page);
		await open(page, 'Ajustes');
		const row = page.locator('[data-setting="STRIPE_SECRET_KEY"]');
		await expect(row).toContainText('••••1234');
		await expect(row).toContainText('Entorno');
		await expect(page.locator('[data-setting="STRIPE_CURRENCY"]')).toContainText('Solo lectura');
		await row.getByRole('button', { name: 'Editar Clave secreta' }).click();
		const input = row.getByLabel('Clave secreta');
		await expect(input).toHaveValue('');
		await expect(input).toHaveAttribute('type', 'password');
		await row.getByRole('button', { name: 'Guardar' }).click(); // empty = unchanged: nothing sent
		expect(saved).toBeNull();
		await row.getByRole('button', { name: 'Editar Clave secreta' }).click();
		await row.getByLabel('Clave secreta').fill('sk_test_nueva9999');
		await row.getByRole('button', { name: 'Guardar' }).click();
		await expect(row).toContainText('••••9999');
		await expect(row).toContainText('Base de datos');
		expect(saved).toEqual({ value: 'sk_test_nueva9999' });
		await page.getByRole('button', { name: 'Probar conexión' }).click();
		const result = page.getByTestId('connection-result');
		await expect(result).toContainText('La conexión falló');
		await expect(result).toContainText('Secreto del webhook sin configurar');
		await screenshot(page, 'contract-settings');
		expect(appErrors(errors)).toEqual([]);
	});
});
