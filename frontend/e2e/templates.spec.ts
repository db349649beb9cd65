import { expect, test } from '@playwright/test';
import { apiToken, appErrors, login, navLink, requireBackend, requireCredentials, screenshot, watchConsole } from './helpers';

test.describe('Plantillas Odoo', () => {
	test.beforeEach(() => {
		requireBackend();
		requireCredentials();
	});

	test('la primera creación construye la plantilla del servidor y se puede reconstruir', async ({ page, request }) => {
		test.setTimeout(120_000);
		const errors = watchConsole(page);
		const token = await apiToken(request);
		const headers = { Authorization: `Bearer ${token}` };
		const sub = `plantilla${Date.now().toString(36)}`;
		const created = await request.post('/api/tenants', {
			headers,
			data: { company_name: `Empresa ${sub}`, email: `ops@${sub}.example.com`, subdomain: sub, plan: 'basic' }
		});
		expect(created.status()).toBe(202);
		const serverId: number = (await (await request.get('/api/tenants/servers', { headers })).json()).data[0].id;

		await login(page);
		await navLink(page, 'Infraestructura').click();
		const panel = page.getByTestId(`templates-${serverId}`);
		await expect(panel.getByRole('heading', { name: /Plantillas de/ })).toBeVisible();
		// The create fell back to Odoo's own path and queued a build: the row turns "Lista".
		await expect(async () => {
			await page.getByRole('button', { name: 'Actualizar' }).click();
			await expect(panel.getByText('Lista', { exact: true })).toBeVisible({ timeout: 2_000 });
		}).toPass({ timeout: 60_000 });
		await expect(panel.getByRole('cell', { name: /\|/ }).first()).toBeVisible();
		// A ready template keeps prepared clones (spares) for instant creates: they get ready too.
		await expect(async () => {
			await page.getByRole('button', { name: 'Actualizar' }).click();
			await expect(panel.getByText(/^[1-9]\d* listas?$/).first()).toBeVisible({ timeout: 2_000 });
		}).toPass({ timeout: 60_000 });
		await screenshot(page, 'templates-ready');

		// The next create claims a spare: its job log says so.
		const sub2 = `reserva${Date.now().toString(36)}`;
		const second = await request.post('/api/tenants', {
			headers,
			data: { company_name: `Empresa ${sub2}`, email: `ops@${sub2}.example.com`, subdomain: sub2, plan: 'basic' }
		});
		expect(second.status()).toBe(202);
		const jobId: number = (await second.json()).data.job_id;
		await expect(async () => {
			const job = (await (await request.get(`/api/jobs/${jobId}`, { headers })).json()).data;
			expect(job.status).toBe('succeeded');
		}).toPass({ timeout: 60_000 });
		const logs = await (await request.get(`/api/logs/provisioning?job_id=${jobId}`, { headers })).json();
		expect(JSON.stringify(logs.data)).toContain('Base de reserva');

		await panel.getByRole('button', { name: /Reconstruir la plantilla/ }).first().click();
		await expect(page.getByText('Reconstrucción de la plantilla en cola.')).toBeVisible();
		await expect(panel.getByText('Lista', { exact: true })).toBeVisible({ timeout: 60_000 });
		expect(appErrors(errors)).toEqual([]);
	});
});
