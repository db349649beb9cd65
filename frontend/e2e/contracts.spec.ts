import { expect, test, type Page } from '@playwright/test';
import { apiGet, apiToken, appErrors, login, navLink, requireBackend, requireCredentials, screenshot, watchConsole } from './helpers';
import { statusInfo } from '../src/lib/status';
import type { Container, OdooServer, ProxmoxNode, ServiceStatusReport, SettingsData, Tunnel } from '../src/lib/api/types';

// The API contract as the pages render it, against the REAL lab backend (`serve --lab` via
// tests/e2e_runner.py): every figure the page shows is compared with what the same endpoint
// answers to a direct call. Nothing is intercepted: if the API's shape drifts from
// schema.d.ts, svelte-check or these comparisons fail.

async function open(page: Page, name: string) {
	await navLink(page, name).click();
	await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
	await expect(page.locator('[aria-busy="true"]')).toHaveCount(0, { timeout: 15_000 });
}

test.describe('Contratos de la API real (lab)', () => {
	test.beforeEach(() => {
		requireBackend();
		requireCredentials();
	});

	test('Registros: cada comprobación de /api/logs/status con su estado en español', async ({ page, request }) => {
		const token = await apiToken(request);
		const api = await apiGet(request, token, '/api/logs/status');
		expect(api.status).toBe(200);
		const report = api.body.data as ServiceStatusReport;
		expect(report.checks.length).toBeGreaterThan(0);

		const errors = watchConsole(page);
		await login(page);
		await open(page, 'Registros');
		const checks = page.getByTestId('service-checks');
		for (const check of report.checks) {
			const card = checks.locator(`[data-check="${check.name}"]`);
			await expect(card).toContainText(check.label);
			// The status may change between the two reads only for a flapping service; the lab's do not.
			await expect(card).toContainText(statusInfo(check.status).label);
			if (check.latency_ms != null) await expect(card).toContainText(/Latencia: \d+(,\d)?\s+ms/);
		}
		await screenshot(page, 'contract-logs-status');
		expect(appErrors(errors)).toEqual([]);
	});

	test('Infraestructura: servidores, nodos, contenedores y túneles como los devuelve la API', async ({ page, request }) => {
		const token = await apiToken(request);
		const [servers, nodes, containers, tunnels] = await Promise.all(
			['/api/tenants/servers', '/api/infrastructure/nodes', '/api/infrastructure/containers?per_page=200', '/api/tunnels'].map((path) =>
				apiGet(request, token, path)
			)
		);
		for (const answer of [servers, nodes, containers, tunnels]) expect(answer!.status).toBe(200);

		const errors = watchConsole(page);
		await login(page);
		await open(page, 'Infraestructura');

		for (const server of servers!.body.data as OdooServer[]) {
			await expect(page.getByRole('meter', { name: `Ocupación de ${server.name}` })).toHaveAttribute(
				'aria-valuenow',
				String(Math.round((server.capacity > 0 ? server.tenants / server.capacity : server.tenants > 0 ? 1 : 0) * 100))
			);
		}

		if (nodes!.body.meta?.configured?.proxmox === false) {
			await expect(page.getByText(/Proxmox sin configurar/).first()).toBeVisible();
		} else {
			for (const node of nodes!.body.data as ProxmoxNode[]) {
				await expect(page.getByRole('cell', { name: node.hostname, exact: false }).first()).toBeVisible();
				if (node.cpu_usage != null) {
					await expect(page.getByRole('meter', { name: `CPU de ${node.hostname}` })).toHaveAttribute(
						'aria-valuenow',
						String(Math.round(Math.min(1, node.cpu_usage) * 100))
					);
				}
			}
			for (const container of (containers!.body.data as Container[]).slice(0, 5)) {
				await expect(page.getByRole('cell', { name: String(container.vmid), exact: true })).toBeVisible();
				if (container.tenant) {
					await expect(page.getByRole('link', { name: container.tenant.subdomain, exact: true }).first()).toHaveAttribute(
						'href',
						`/tenants/${container.tenant.id}`
					);
				}
			}
		}

		if (tunnels!.body.meta?.configured?.cloudflare === false) {
			await expect(page.getByText('Cloudflare sin configurar')).toBeVisible();
		} else {
			for (const tunnel of tunnels!.body.data as Tunnel[]) {
				await expect(page.locator('section[aria-labelledby="tunnels-title"]').getByRole('cell', { name: tunnel.id, exact: true })).toBeVisible();
			}
		}
		await screenshot(page, 'contract-infrastructure');
		expect(appErrors(errors)).toEqual([]);
	});

	test('Ajustes: cada valor de /api/settings y el resultado real de «Probar conexión»', async ({ page, request }) => {
		const token = await apiToken(request);
		const api = await apiGet(request, token, '/api/settings');
		expect(api.status).toBe(200);
		const data = api.body.data as SettingsData;

		const errors = watchConsole(page);
		await login(page);
		await open(page, 'Ajustes');
		for (const category of data.categories) {
			await expect(page.getByRole('heading', { name: category.label, level: 2 })).toBeVisible();
			for (const setting of category.settings) {
				// Secrets arrive masked and are shown as they came; booleans in words.
				const shown = setting.value == null || setting.value === '' ? '—' : setting.type === 'bool' ? /^(Sí|No)$/ : setting.value;
				const value = page.locator(`[data-setting="${setting.key}"] .font-mono.text-sm`).first();
				await expect(value).toHaveText(shown);
			}
		}

		const stripe = page.locator('[data-category="stripe"]');
		if (await stripe.count()) {
			const answer = page.waitForResponse((r) => r.url().endsWith('/api/settings/test/stripe') && r.request().method() === 'POST');
			await stripe.getByRole('button', { name: 'Probar conexión' }).click();
			const body = await (await answer).json();
			expect(body.success).toBe(true);
			const result = page.getByTestId('connection-result');
			await expect(result).toContainText(body.data.ok ? 'Conexión correcta' : 'La conexión falló');
			for (const check of body.data.checks as { name: string; message: string }[]) {
				await expect(result).toContainText(check.name);
				if (check.message) await expect(result).toContainText(check.message);
			}
		}
		await screenshot(page, 'contract-settings');
		expect(appErrors(errors)).toEqual([]);
	});

	test('una ruta de la API que no existe es un error, nunca «Disponible pronto»', async ({ request }) => {
		const token = await apiToken(request);
		const missing = await apiGet(request, token, '/api/no-existe');
		expect(missing.status).toBe(404);
		expect(missing.body).toMatchObject({ success: false, error: 'NOT_FOUND' });
	});
});
