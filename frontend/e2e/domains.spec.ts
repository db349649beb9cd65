import { expect, test } from '@playwright/test';
import { apiGet, apiToken, appErrors, login, requireBackend, requireCredentials, screenshot, watchConsole } from './helpers';

// Custom domains (issue 17) against `serve --lab`: add a domain, read the DNS records the
// customer must create, "publish" them through the lab, see the domain turn Activo and
// make it the tenant's primary domain (Odoo's web.base.url).
test.describe('Dominios personalizados', () => {
	test.beforeEach(() => {
		requireBackend();
		requireCredentials();
	});

	test('añadir un dominio, ver los registros, publicarlos, verlo Activo y hacerlo principal', async ({ page, request }) => {
		test.setTimeout(180_000);
		const errors = watchConsole(page);
		const token = await apiToken(request);
		const auth = { Authorization: `Bearer ${token}` };
		const stamp = Date.now().toString(36);
		const subdomain = `dom-${stamp}`;
		const hostname = `erp.cliente-${stamp}.com`;
		const adminPassword = `Clave-${stamp}-Dominios`;

		const created = await request.post('/api/tenants', {
			headers: auth,
			data: {
				company_name: 'Dominios de Prueba S.L.',
				email: `dominios-${stamp}@example.com`,
				subdomain,
				plan: 'pro',
				admin_password: adminPassword
			}
		});
		expect(created.status(), await created.text()).toBe(202);
		const tenantId = (await created.json()).data.id as number;
		await expect
			.poll(async () => (await apiGet(request, token, `/api/tenants/${tenantId}`)).body?.data?.status, { timeout: 120_000 })
			.toBe('active');

		await login(page);
		await page.goto(`/tenants/${tenantId}`);
		const section = page.getByTestId('tenant-domains');
		await expect(section.getByRole('heading', { name: 'Dominios', level: 2 })).toBeVisible();
		await expect(section.getByTestId('domains-base-url')).toHaveText(`https://${subdomain}.sajet.us`);

		await section.getByRole('button', { name: 'Añadir dominio' }).click();
		const dialog = page.getByRole('dialog', { name: 'Añadir dominio' });
		await dialog.getByLabel('Dominio').fill('203.0.113.9');
		await dialog.getByRole('button', { name: 'Añadir' }).click();
		await expect(dialog.getByRole('alert')).toContainText('no una dirección IP');
		await dialog.getByLabel('Dominio').fill(hostname.toUpperCase());
		await dialog.getByRole('button', { name: 'Añadir' }).click();
		await expect(dialog).toBeHidden();

		const row = section.locator(`[data-testid="domain-row"][data-hostname="${hostname}"]`);
		await expect(row.locator('[data-status="pending"]')).toHaveText(/Esperando DNS/);
		const records = row.getByTestId('domain-records');
		// The routing CNAME, Cloudflare's ownership TXT and the certificate's DCV TXT.
		await expect(records.locator('[data-purpose="routing"]')).toContainText(`${subdomain}.sajet.us`, { timeout: 60_000 });
		await expect(records.locator('[data-purpose="ownership"]')).toContainText(`_cf-custom-hostname.${hostname}`);
		await expect(records.locator('[data-purpose="ssl"]')).toContainText(`_acme-challenge.${hostname}`);
		await expect(records.getByRole('button', { name: /^Copiar valor/ })).toHaveCount(3);
		await screenshot(page, 'tenant-domains-pending');

		// The lab plays the customer creating the records at their DNS provider.
		const published = await request.post(`/api/lab/custom_hostnames/${hostname}/publish`, { headers: auth, data: { ssl: 'active' } });
		expect(published.status(), await published.text()).toBe(200);
		await row.getByRole('button', { name: 'Comprobar' }).click();
		await expect(row.locator('[data-status="active"]')).toHaveText(/Activo/);
		await expect(row.getByTestId('domain-records')).toHaveCount(0);
		await screenshot(page, 'tenant-domains-active');

		await row.getByRole('button', { name: 'Hacer principal' }).click();
		const primary = page.getByRole('dialog', { name: 'Hacer principal' });
		// The tenant has its service user: no Odoo admin password is asked.
		await expect(primary.getByLabel('Contraseña del administrador de Odoo del tenant')).toHaveCount(0);
		await primary.getByRole('button', { name: 'Hacer principal' }).click();
		await expect(row.getByTestId('domain-primary')).toHaveText('Principal', { timeout: 60_000 });
		await expect(section.getByTestId('domains-base-url')).toHaveText(`https://${hostname}`);
		await screenshot(page, 'tenant-domains-primary');
		expect(appErrors(errors)).toEqual([]);
	});
});
