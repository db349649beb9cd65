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
import { FIGURES, KPI_FIGURES, formatFigure, monthOf, shiftMonth } from '../src/lib/billing';

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
		await expect(page.getByText('auth.login').first()).toBeVisible();
		await screenshot(page, 'page-settings-audit');

		// Last, so a billing failure does not hide the other pages' screenshots.
		await openSection(page, 'Facturación');
		await expect(page.getByTestId('billing-kpis').or(page.getByText('Disponible pronto').first())).toBeVisible();
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
		await login(page, email, password);
		await expect(page.getByText('Solo lectura').first()).toBeVisible();
		await openSection(page, 'Tenants');
		await expect(page.getByRole('button', { name: 'Nuevo tenant' })).toHaveCount(0);
		await screenshot(page, 'viewer-tenants');

		await openSection(page, 'Infraestructura');
		await expect(page.getByRole('button', { name: 'Nuevo servidor' })).toHaveCount(0);
		await expect(page.getByRole('button', { name: /^Eliminar / })).toHaveCount(0);

		await openSection(page, 'Ajustes');
		await expect(page.getByRole('tab', { name: 'Usuarios' })).toHaveCount(0);
		await expect(page.getByRole('tab', { name: 'Auditoría' })).toHaveCount(0);
		await expect(page.getByRole('button', { name: /^Editar / })).toHaveCount(0);
		await expect(page.getByRole('button', { name: 'Probar conexión' })).toHaveCount(0);
		await screenshot(page, 'viewer-settings');
		expect(appErrors(errors)).toEqual([]);
	});

	test('Facturación muestra las cifras que devuelve la API', async ({ page, request }) => {
		const token = await apiToken(request);
		const month = monthOf();
		const api = await apiGet(request, token, `/api/billing/metrics?month=${month}`);
		const errors = watchConsole(page);
		await login(page);
		await openSection(page, 'Facturación');
		if (api.status === 404) {
			// Not landed on this server: an honest empty state, and no figures at all.
			await expect(page.getByText('Disponible pronto').first()).toBeVisible();
			await expect(page.getByTestId('billing-kpis')).toHaveCount(0);
		} else {
			expect(api.status).toBe(200);
			const data = api.body.data as Record<string, number | null> & { currency?: string };
			const currency = data.currency ?? api.body.meta?.currency ?? null;
			for (const figure of KPI_FIGURES) {
				const card = page.locator(`[data-kpi="${figure}"]`);
				await expect(card.getByRole('heading', { name: FIGURES[figure].label })).toBeVisible();
				expect(plain(await card.locator('p.font-mono').first().textContent())).toBe(plain(formatFigure(figure, data[figure], currency)));
			}
			expect(plain(await page.locator('[data-figure="new_customers"]').textContent())).toBe(
				plain(formatFigure('new_customers', data.new_customers, currency))
			);
		}
		await screenshot(page, 'billing-figures');
		expect(appErrors(errors)).toEqual([]);
	});

	test('Facturación pinta lo que recibe (API de facturación simulada en el navegador)', async ({ page }) => {
		// Fixed figures served to the page only: checks the rendering of every section while the
		// billing API is being built. The real-API test above compares against the server.
		const month = monthOf();
		const metrics = {
			month,
			currency: 'usd',
			mrr: 1234567,
			arr: 14814804,
			mrr_start: 1100000,
			new_mrr: 200000,
			expansion_mrr: 50000,
			contraction_mrr: 15433,
			churned_mrr: 100000,
			reactivation_mrr: 0,
			active_customers: 42,
			customers_start: 40,
			new_customers: 5,
			reactivated_customers: 0,
			churned_customers: 3,
			customer_churn_rate: 0.075,
			gross_mrr_churn_rate: 0.1049,
			net_mrr_churn_rate: 0.0594,
			nrr: 0.9406,
			arpa: 29394,
			revenue: 1180000
		};
		const envelope = (data: unknown, meta: object = {}) => ({ status: 200, contentType: 'application/json', body: JSON.stringify({ success: true, data, meta }) });
		await page.route('**/api/billing/**', async (route) => {
			const url = new URL(route.request().url());
			if (url.pathname === '/api/billing/metrics') return route.fulfill(envelope(metrics, { configured: true }));
			if (url.pathname === '/api/billing/comparison')
				return route.fulfill(envelope({ month, current: metrics, previous: { ...metrics, month: shiftMonth(month, -1), mrr: 1100000, customer_churn_rate: 0.1 } }));
			if (url.pathname === '/api/billing/metrics/series') return route.fulfill(envelope([{ ...metrics }]));
			if (url.pathname === '/api/billing/invoices')
				return route.fulfill(envelope([{ id: 1, number: 'JC-0001', customer: 'Acme S.L.', status: 'paid', currency: 'usd', total: 29900, created_at: `${month}-03T10:00:00Z` }], { total: 1, page: 1, per_page: 25 }));
			if (url.pathname === '/api/billing/events')
				return route.fulfill(envelope([{ id: 9, event_id: 'evt_1', event_type: 'invoice.paid', processed: false, error: 'Cliente desconocido', received_at: `${month}-03T10:00:00Z` }], { total: 1, page: 1, per_page: 25 }));
			return route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ success: false, error: 'NOT_FOUND', detail: 'La ruta solicitada no existe.' }) });
		});
		const errors = watchConsole(page);
		await login(page);
		await openSection(page, 'Facturación');
		const value = (figure: string) => page.locator(`[data-kpi="${figure}"] p.font-mono`).first();
		await expect(value('mrr')).toHaveText(/12\.345,67\sUS\$/);
		await expect(value('arr')).toHaveText(/148\.148,04\sUS\$/);
		await expect(value('customer_churn_rate')).toHaveText(/7,5\s%/);
		await expect(value('nrr')).toHaveText(/94,1\s%/);
		await expect(page.locator('[data-kpi="mrr"]')).toContainText('+12,2 %');
		await expect(page.locator('[data-kpi="customer_churn_rate"]')).toContainText('−2,5 p. p.');
		await expect(page.locator('[data-kpi="mrr"] [title]').first()).toHaveAttribute('title', /Ingreso mensual recurrente/);
		await expect(page.getByTestId('comparison').locator('[data-row="mrr"]')).toContainText('+1.345,67');
		await expect(page.getByRole('img', { name: /Movimientos de MRR/ })).toBeVisible();
		await expect(page.getByRole('cell', { name: 'JC-0001' })).toBeVisible();
		await expect(page.locator('[data-status="paid"]')).toHaveText('Pagada');
		await expect(page.getByRole('button', { name: 'Reintentar' })).toBeVisible();
		await screenshot(page, 'billing-rendered');
		expect(appErrors(errors)).toEqual([]);
	});
});
