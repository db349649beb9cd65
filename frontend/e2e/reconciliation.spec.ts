import { expect, test } from '@playwright/test';
import { apiToken, appErrors, login, navLink, requireBackend, requireCredentials, screenshot, watchConsole } from './helpers';

test.describe('Desajustes', () => {
	test.beforeEach(() => {
		requireBackend();
		requireCredentials();
	});

	test('una base de datos huérfana en Odoo aparece, se corrige y queda resuelta', async ({ page, request }) => {
		test.setTimeout(120_000);
		const errors = watchConsole(page);
		// Sabotage behind the control plane's back: the lab Odoo gets a database nobody owns.
		const token = await apiToken(request);
		const servers = await request.get('/api/tenants/servers', { headers: { Authorization: `Bearer ${token}` } });
		expect(servers.ok()).toBeTruthy();
		const odooUrl: string = (await servers.json()).data[0].url;
		const orphan = `huerfana${Date.now().toString(36)}`;
		const sabotage = await request.post(`${odooUrl}/_lab/sabotage`, { data: { add_database: orphan } });
		expect(sabotage.ok(), `lab sabotage: ${sabotage.status()}`).toBeTruthy();

		await login(page);
		await navLink(page, 'Desajustes').click();
		await expect(page.getByRole('heading', { name: 'Desajustes', level: 1 })).toBeVisible();
		await page.getByTestId('run-audit').click();
		const row = page.locator('[data-testid="finding"][data-kind="orphan_database"]').filter({ hasText: orphan });
		await expect(row).toBeVisible({ timeout: 30_000 });
		await expect(row).toContainText('Base de datos huérfana');
		await screenshot(page, 'reconciliation-open');

		await row.getByRole('button', { name: 'Corregir' }).click();
		await expect(row).toBeHidden({ timeout: 60_000 });
		await page.getByRole('button', { name: 'Resueltos' }).click();
		const resolved = page.locator('[data-testid="finding"][data-kind="orphan_database"]').filter({ hasText: orphan });
		await expect(resolved.getByTestId('finding-resolved')).toBeVisible();
		await screenshot(page, 'reconciliation-resolved');

		const state = await request.get(`${odooUrl}/_lab/state`);
		expect(JSON.stringify(await state.json())).not.toContain(`"${orphan}"`);

		await navLink(page, 'Panel').click();
		await expect(page.getByTestId('drift-tile')).toBeVisible();
		expect(appErrors(errors)).toEqual([]);
	});
});
