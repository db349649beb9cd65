import { expect, test, type Page } from '@playwright/test';
import {
	apiGet,
	apiToken,
	appErrors,
	login,
	navLink,
	plain,
	requireBackend,
	requireCredentials,
	screenshot,
	watchConsole
} from './helpers';
import { FIGURES, KPI_FIGURES, formatFigure, monthOf } from '../src/lib/billing';
import type { Invoice, MonthMetrics, Tenant } from '../src/lib/api/types';

async function openSection(page: Page, name: string) {
	await navLink(page, name).click();
	await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
	// Let every section settle (skeletons gone) before judging the page.
	await expect(page.locator('[aria-busy="true"]')).toHaveCount(0, { timeout: 15_000 });
}

test.describe('Páginas', () => {
	test.beforeEach(() => {
		requireBackend();
		requireCredentials();
	});

	test('cada página se muestra sin errores de consola', async ({ page }) => {
		const errors = watchConsole(page);
		await login(page);
		await expect(page.getByRole('heading', { name: 'Panel', level: 1 })).toBeVisible();
		// Chart.js is loaded only when a chart nears the viewport: scrolled to, each is drawn
		// (Chart.js sizes its canvas; an undrawn one has no inline size).
		const charts = page.locator('main div[role="img"]:has(canvas)');
		await expect(charts.first()).toBeVisible({ timeout: 15_000 });
		for (const chart of await charts.all()) {
			await chart.scrollIntoViewIfNeeded();
			await expect(chart.locator('canvas')).toHaveAttribute('style', /width/);
		}
		await page.evaluate(() => window.scrollTo(0, 0));
		await screenshot(page, 'page-panel');

		await openSection(page, 'Tenants');
		await screenshot(page, 'page-tenants');

		await openSection(page, 'Infraestructura');
		await expect(page.getByRole('heading', { name: 'Servidores Odoo' })).toBeVisible();
		await expect(page.getByRole('heading', { name: 'Nodos' })).toBeVisible();
		await expect(page.locator('#containers-title')).toBeVisible();
		await expect(page.getByRole('heading', { name: 'Túneles' })).toBeVisible();
		await screenshot(page, 'page-infrastructure');
		await page.getByRole('button', { name: 'Nuevo servidor' }).click();
		const dialog = page.getByRole('dialog', { name: 'Nuevo servidor Odoo' });
		await dialog.getByRole('button', { name: 'Crear' }).click();
		await expect(dialog.getByText('Indique un nombre de al menos 2 caracteres.')).toBeVisible();
		await screenshot(page, 'page-infrastructure-new-server');
		await dialog.getByRole('button', { name: 'Cancelar' }).click();

		await openSection(page, 'Registros');
		await expect(page.getByRole('heading', { name: 'Estado de servicios' })).toBeVisible();
		await expect(page.getByRole('heading', { name: 'Registro de aprovisionamiento' })).toBeVisible();
		await screenshot(page, 'page-logs');

		await openSection(page, 'Ajustes');
		await screenshot(page, 'page-settings');
		await page.getByRole('tab', { name: 'Usuarios' }).click();
		await expect(page.getByRole('heading', { name: 'Usuarios', level: 2 })).toBeVisible();
		await expect(page.getByRole('cell', { name: /admin@jeturing\.com|Administrador/ }).first()).toBeVisible();
		await screenshot(page, 'page-settings-users');
		// Arrow keys move between tabs (keyboard access).
		await page.getByRole('tab', { name: 'Usuarios' }).press('ArrowRight');
		await expect(page.getByRole('tab', { name: 'Auditoría' })).toHaveAttribute('aria-selected', 'true');
		await expect(page.getByRole('tab', { name: 'Auditoría' })).toBeFocused();
		await expect(page.getByRole('table', { name: 'Auditoría' })).toBeVisible();
		await expect(page.getByRole('button', { name: 'Inicio de sesión' }).first()).toBeVisible();
		await screenshot(page, 'page-settings-audit');

		// Last, so a billing failure does not hide the other pages' screenshots.
		await openSection(page, 'Facturación');
		await expect(page.getByTestId('billing-kpis')).toBeVisible();
		await screenshot(page, 'page-billing');

		expect(appErrors(errors)).toEqual([]);
	});

	test('un lector (viewer) solo consulta: sin «Nuevo tenant» ni acciones de administración', async ({ page, request }) => {
		const token = await apiToken(request);
		const email = `lector-${Date.now().toString(36)}@example.com`;
		const password = `Lector-${Date.now()}-contraseña`;
		const created = await request.post('/api/users', {
			headers: { Authorization: `Bearer ${token}` },
			data: { email, name: 'Lector E2E', role: 'viewer', password }
		});
		expect(created.status()).toBe(201);

		const errors = watchConsole(page);
		// Any 4xx/5xx the pages themselves cause for a viewer is a defect (a call it may not make).
		const refused: string[] = [];
		page.on('response', (r) => {
			if (r.url().includes('/api/') && r.status() >= 400) refused.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
		});
		await login(page, email, password);
		await expect(page.getByText('Solo lectura').first()).toBeVisible();
		await expect(page.locator('[aria-busy="true"]')).toHaveCount(0, { timeout: 15_000 });
		await expect(page.getByRole('link', { name: 'Nuevo tenant' })).toHaveCount(0);
		await openSection(page, 'Tenants');
		await expect(page.getByRole('button', { name: 'Nuevo tenant' })).toHaveCount(0);
		await screenshot(page, 'viewer-tenants');

		const tenants = (await apiGet(request, token, '/api/tenants?per_page=1')).body.data as Tenant[];
		if (tenants.length) {
			await page.goto(`/tenants/${tenants[0]!.id}`);
			await expect(page.getByRole('heading', { name: tenants[0]!.company_name, level: 1 })).toBeVisible();
			await expect(page.locator('[aria-busy="true"]')).toHaveCount(0, { timeout: 15_000 });
			for (const name of ['Respaldar', 'Suspender', 'Eliminar', 'Reactivar', 'Reintentar']) {
				await expect(page.getByRole('button', { name, exact: true })).toHaveCount(0);
			}
			await expect(page.getByText(/Pulse «Respaldar»/)).toHaveCount(0);
		}

		await openSection(page, 'Facturación');
		await expect(page.getByTestId('billing-kpis')).toBeVisible();
		await expect(page.getByRole('heading', { name: /Eventos de Stripe/ })).toHaveCount(0);
		await expect(page.getByRole('button', { name: 'Reintentar' })).toHaveCount(0);
		await screenshot(page, 'viewer-billing');

		await openSection(page, 'Infraestructura');
		await expect(page.getByRole('button', { name: 'Nuevo servidor' })).toHaveCount(0);
		await expect(page.getByRole('button', { name: /^Eliminar / })).toHaveCount(0);

		await openSection(page, 'Ajustes');
		await expect(page.getByRole('tab', { name: 'Usuarios' })).toHaveCount(0);
		await expect(page.getByRole('tab', { name: 'Auditoría' })).toHaveCount(0);
		await expect(page.getByRole('button', { name: /^Editar / })).toHaveCount(0);
		await expect(page.getByRole('button', { name: 'Probar conexión' })).toHaveCount(0);
		await screenshot(page, 'viewer-settings');
		await openSection(page, 'Registros');
		expect(refused).toEqual([]);
		expect(appErrors(errors)).toEqual([]);
	});

	test('Facturación muestra las cifras que devuelve la API', async ({ page, request }) => {
		const token = await apiToken(request);
		const month = monthOf();
		const api = await apiGet(request, token, `/api/billing/metrics?month=${month}`);
		const errors = watchConsole(page);
		await login(page);
		await openSection(page, 'Facturación');
		expect(api.status).toBe(200);
		const data = api.body.data as MonthMetrics;
		for (const figure of KPI_FIGURES) {
			const card = page.locator(`[data-kpi="${figure}"]`);
			await expect(card.getByRole('heading', { name: FIGURES[figure].label })).toBeVisible();
			expect(plain(await card.locator('p.font-mono').first().textContent())).toBe(plain(formatFigure(figure, data[figure], data.currency)));
		}
		expect(plain(await page.locator('[data-figure="new_customers"]').textContent())).toBe(
			plain(formatFigure('new_customers', data.new_customers, data.currency))
		);
		// Invoices of the month as the API lists them.
		const invoices = await apiGet(request, token, `/api/billing/invoices?month=${month}`);
		expect(invoices.status).toBe(200);
		for (const invoice of (invoices.body.data as Invoice[]).slice(0, 3)) {
			await expect(page.getByRole('cell', { name: invoice.number ?? String(invoice.id), exact: true })).toBeVisible();
		}
		await screenshot(page, 'billing-figures');
		expect(appErrors(errors)).toEqual([]);
	});
});
