import { expect, test } from '@playwright/test';
import { apiGet, apiToken, appErrors, login, requireBackend, requireCredentials, screenshot, watchConsole } from './helpers';

/**
 * An operator moves a tenant from a shared Odoo server to its own dedicated container
 * (`serve --lab`: lab Odoo, Proxmox, Cloudflare, Stripe): the dialog states the downtime and
 * asks for it to be accepted, then the move's steps run live on the tenant page (verified
 * backup → container → restore → route → price) and the tenant ends on the new plan.
 */
test.describe('Cambio de plan con traslado', () => {
	test.beforeEach(() => {
		requireBackend();
		requireCredentials();
	});

	test('de compartido a dedicado: interrupción aceptada, pasos en vivo y plan nuevo', async ({ page, request }) => {
		test.setTimeout(240_000);
		const errors = watchConsole(page);
		const token = await apiToken(request);
		const subdomain = `mueve-${Date.now().toString(36)}`;
		const created = await request.post('/api/tenants', {
			headers: { Authorization: `Bearer ${token}` },
			data: { company_name: 'Traslados S.L.', email: `${subdomain}@example.com`, subdomain, plan: 'basic' }
		});
		expect(created.status(), await created.text()).toBe(202);
		const tenantId = (await created.json()).data.id as number;
		await expect
			.poll(async () => (await apiGet(request, token, `/api/tenants/${tenantId}`)).body?.data?.status, { timeout: 120_000 })
			.toBe('active');

		await login(page);
		await page.goto(`/tenants/${tenantId}`);
		await page.getByRole('button', { name: 'Cambiar plan' }).click();
		const dialog = page.getByRole('dialog', { name: 'Cambiar de plan' });
		await dialog.getByTestId('plan-enterprise').click();
		await expect(dialog.getByTestId('quote-downtime')).toContainText(/unos \d+ minutos/);
		const confirm = dialog.getByRole('button', { name: 'Confirmar el traslado' });
		await expect(confirm).toBeDisabled();
		await dialog.getByTestId('accept-downtime').check();
		await screenshot(page, 'tenant-traslado-confirmar');
		await confirm.click();

		await expect(page.getByRole('progressbar')).toBeVisible();
		await expect(page.locator('ol[aria-label="Pasos"]')).toContainText('Respaldo verificado de la base de datos actual');
		await expect(page.getByTestId('job-percent')).toHaveText('100 %', { timeout: 180_000 });
		await expect(page.locator('ol[aria-label="Pasos"]')).toContainText('Aplicar el nuevo precio en Stripe');
		await screenshot(page, 'tenant-traslado-hecho');

		// The job's last step is done; the tenant takes its new plan as the job closes.
		await expect
			.poll(async () => {
				const t = (await apiGet(request, token, `/api/tenants/${tenantId}`)).body.data;
				return `${t.status}/${t.plan}`;
			}, { timeout: 30_000 })
			.toBe('active/enterprise');
		await page.reload();
		await expect(page.getByTestId('tenant-server')).toContainText(/ct\d+-t\d+/);
		const operations = page.getByTestId('tenant-operations');
		await expect(operations).toContainText('Traslado a contenedor dedicado');
		expect(appErrors(errors)).toEqual([]);
	});
});
