import { expect, test, type Page } from '@playwright/test';
import { apiGet, apiToken, appErrors, login, navLink, plain, requireBackend, requireCredentials, screenshot, watchConsole } from './helpers';
import { formatMoney, formatPercent } from '../src/lib/format';

// The lab tells the whole business: an operator's tenant gets its lab Stripe subscription
// and first invoice, and the simulation fills Facturación with figures that must equal
// /api/billing/metrics (the page and the API read the same events; neither is seeded).

async function kpi(page: Page, figure: string): Promise<string> {
	return plain(await page.locator(`[data-kpi="${figure}"]`).textContent());
}

test.describe('Facturación en el laboratorio', () => {
	test.beforeEach(() => {
		requireBackend();
		requireCredentials();
	});

	test('un tenant de un operador se factura, y la simulación llena Facturación con las cifras de la API', async ({ page, request }) => {
		test.setTimeout(240_000);
		const adminToken = await apiToken(request);
		const stamp = Date.now().toString(36);
		const email = `operador-${stamp}@example.com`;
		const password = `Operador-${stamp}-contraseña`;
		const created = await request.post('/api/users', {
			headers: { Authorization: `Bearer ${adminToken}` },
			data: { email, name: 'Operador E2E', role: 'operator', password }
		});
		expect(created.status()).toBe(201);

		// 1. The operator creates a tenant; its page shows the subscription and first invoice.
		const errors = watchConsole(page);
		await login(page, email, password);
		await navLink(page, 'Tenants').click();
		await page.getByRole('button', { name: 'Nuevo tenant' }).first().click();
		const dialog = page.getByRole('dialog', { name: 'Nuevo tenant' });
		await dialog.getByLabel('Empresa').fill('Facturada S.L.');
		await dialog.getByLabel('Correo electrónico').fill(`facturas-${stamp}@example.com`);
		await dialog.getByLabel('Subdominio').fill(`fact-${stamp}`);
		await expect(dialog.getByTestId('subdomain-status')).toHaveText(/Disponible/);
		await dialog.getByRole('button', { name: 'Crear' }).click();
		await expect(page).toHaveURL(/\/tenants\/\d+$/);
		const tenantId = page.url().split('/').pop()!;
		await expect(page.locator('[data-status="active"]').first()).toBeVisible({ timeout: 120_000 });

		let billing: any = null;
		await expect
			.poll(async () => {
				billing = (await apiGet(request, adminToken, `/api/tenants/${tenantId}/billing`)).body?.data;
				return billing?.subscription?.status === 'active' && billing?.invoices?.[0]?.status === 'paid';
			}, { timeout: 60_000 })
			.toBe(true);
		const section = page.getByTestId('tenant-billing');
		await expect(async () => {
			await page.reload();
			await expect(section.getByText('Sin suscripción.')).toHaveCount(0, { timeout: 2_000 });
			await expect(section).toContainText(billing.invoices[0].number, { timeout: 2_000 });
		}).toPass({ timeout: 30_000 });
		await expect(section).toContainText(plain(formatMoney(billing.subscription.mrr, 'usd')));
		await screenshot(page, 'lab-tenant-billing');
		await page.getByRole('button', { name: 'Cerrar sesión' }).click();

		// 2. An admin runs a small simulation from the lab banner's menu.
		await login(page);
		await page.getByRole('button', { name: 'Acciones del laboratorio' }).click();
		await page.getByRole('menuitem', { name: 'Simular un año de negocio' }).click();
		const simulate = page.getByRole('dialog', { name: 'Simular un año de negocio' });
		await simulate.getByLabel('Meses').fill('3');
		await simulate.getByLabel('Clientes').fill('8');
		await simulate.getByRole('button', { name: 'Simular' }).click();
		await expect(simulate.getByTestId('job-percent')).toHaveText('100 %', { timeout: 180_000 });
		await screenshot(page, 'lab-simulation-done');
		await simulate.getByRole('button', { name: 'Cerrar', exact: true }).last().click();

		// 3. Facturación shows MRR and churn exactly as the API computes them, this month and
		//    the last simulated month.
		const now = new Date();
		const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
		for (const month of [null, last]) {
			await expect(async () => {
				const api = (await apiGet(request, adminToken, `/api/billing/metrics${month ? `?month=${month}` : ''}`)).body.data;
				await page.goto(month ? `/billing?month=${month}` : '/billing');
				await expect(page.getByRole('heading', { name: 'Facturación', level: 1 })).toBeVisible();
				await expect.poll(() => kpi(page, 'mrr'), { timeout: 5_000 }).toContain(plain(formatMoney(api.mrr, api.currency)));
				const churn = api.customer_churn_rate == null ? '—' : plain(formatPercent(api.customer_churn_rate));
				await expect.poll(() => kpi(page, 'customer_churn_rate'), { timeout: 5_000 }).toContain(churn);
				expect(api.mrr).toBeGreaterThan(0);
			}).toPass({ timeout: 30_000 });
			await screenshot(page, `lab-billing-${month ?? 'current'}`);
		}
		expect(appErrors(errors)).toEqual([]);
	});
});
