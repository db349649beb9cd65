import { expect, test, type Page } from '@playwright/test';
import { apiGet, apiToken, appErrors, login, navLink, requireBackend, requireCredentials, screenshot, watchConsole } from './helpers';
import { judge, visibleText } from './language';

// Continuity (issue 21): what happened to a tenant survives a reload and its deletion. A new
// tenant's one-time password names its login; its operations stay listed after a reload;
// deleting asks for the subdomain; the deleted tenant keeps a page with its backups and
// "Restaurar como nuevo tenant"; the copy carries a badge and a link to its source; the log
// names tenants, filters by name and groups lines by operation; a setting returns to its
// default and shows the API's per-field error.

/** Every page this spec opens is judged by the tour's rules too. */
async function expectSpanish(page: Page): Promise<void> {
	await expect(page.locator('[aria-busy="true"]')).toHaveCount(0, { timeout: 20_000 });
	expect(judge(await visibleText(page)), page.url()).toEqual([]);
}

test.describe('Continuidad', () => {
	test.beforeEach(() => {
		requireBackend();
		requireCredentials();
	});

	test('un tenant conserva su historia: operaciones, borrado con subdominio, respaldos y copia restaurada', async ({ page, request }) => {
		test.setTimeout(180_000);
		const errors = watchConsole(page);
		const refused: string[] = [];
		page.on('response', (r) => {
			const url = new URL(r.url());
			if (url.pathname.startsWith('/api/') && r.status() >= 400) refused.push(`${r.status()} ${r.request().method()} ${url.pathname}`);
		});
		const token = await apiToken(request);
		const stamp = Date.now().toString(36);
		const subdomain = `cont-${stamp}`;
		const company = `Continuidad ${stamp} S.L.`;
		const email = `continuidad-${stamp}@example.com`;

		await login(page);
		await navLink(page, 'Tenants').click();
		await page.getByRole('button', { name: 'Nuevo tenant' }).first().click();
		const dialog = page.getByRole('dialog', { name: 'Nuevo tenant' });
		await dialog.getByLabel('Empresa').fill(company);
		await dialog.getByLabel('Correo electrónico').fill(email);
		await dialog.getByLabel('Subdominio').fill(subdomain);
		await expect(dialog.getByTestId('subdomain-status')).toHaveText(/Disponible/);
		await dialog.getByRole('button', { name: 'Crear' }).click();
		await expect(page).toHaveURL(/\/tenants\/\d+$/);
		const tenantId = Number(new URL(page.url()).pathname.split('/').pop());

		// The one-time password says which Odoo login it is for.
		const created = (await apiGet(request, token, `/api/tenants/${tenantId}`)).body.data;
		await expect(page.getByText('Contraseña del administrador de Odoo (se muestra una sola vez)')).toBeVisible();
		await expect(page.getByTestId('admin-login')).toContainText(created.admin_login ?? email);
		await expect(page.locator('[data-status="active"]').first()).toBeVisible({ timeout: 120_000 });
		await screenshot(page, 'continuity-created');

		// After a reload the page still lists the creation (operation history API), in Spanish.
		await page.reload();
		const operations = page.getByTestId('tenant-operations');
		await expect(operations.getByRole('heading', { name: 'Operaciones', level: 2 })).toBeVisible();
		await expect(operations.locator('li').first()).toContainText('Creación');
		await expect(operations.locator('li').first().locator('[data-status="succeeded"]')).toHaveText(/Completado/);
		// The password was shown once: a reload does not bring it back.
		await expect(page.getByTestId('admin-login')).toHaveCount(0);
		await expectSpanish(page);

		// Deleting asks for the subdomain typed out.
		await page.getByRole('button', { name: 'Eliminar', exact: true }).click();
		const confirm = page.getByRole('dialog', { name: 'Eliminar tenant' });
		await expect(confirm.getByText(subdomain, { exact: true })).toBeVisible();
		const confirmButton = confirm.getByRole('button', { name: 'Eliminar' });
		await expect(confirmButton).toBeDisabled();
		await confirm.getByLabel(/Para confirmar, escriba/).fill(subdomain.slice(0, -1));
		await expect(confirmButton).toBeDisabled();
		await confirm.getByLabel(/Para confirmar, escriba/).fill(subdomain);
		await confirmButton.click();
		await expect(page.getByTestId('tenant-deleted')).toBeVisible({ timeout: 120_000 });
		await page.reload();

		// The deleted tenant keeps its page: its backups (the one taken before deleting) and
		// "Restaurar como nuevo tenant"; its operations include the deletion.
		await expect(page.getByRole('heading', { name: company, level: 1 })).toBeVisible();
		await expect(page.locator('[data-status="deleted"]').first()).toBeVisible();
		await expect(operations.locator('li').first()).toContainText('Eliminación');
		const backups = page.getByTestId('tenant-backups');
		const restoreAsNew = backups.getByRole('button', { name: /^Restaurar como nuevo tenant/ }).first();
		await expect(restoreAsNew).toBeVisible();
		await expect(backups.getByRole('button', { name: 'Respaldar' })).toHaveCount(0);
		await expectSpanish(page);
		await screenshot(page, 'continuity-deleted');

		await restoreAsNew.click();
		const restore = page.getByRole('dialog', { name: 'Restaurar como nuevo tenant' });
		await expect(restore.getByRole('radio')).toHaveCount(1);
		const copySubdomain = `${subdomain}-r`;
		await restore.getByLabel('Subdominio de la copia').fill(copySubdomain);
		await restore.getByRole('button', { name: 'Restaurar' }).click();
		// The new tenant's own page: a badge and a link back to its (deleted) source.
		await expect(page).not.toHaveURL(new RegExp(`/tenants/${tenantId}$`));
		await expect(page.getByTestId('restored-copy')).toHaveText(/Copia restaurada/);
		const source = page.getByTestId('restored-from').getByRole('link', { name: subdomain, exact: true });
		await expect(source).toHaveAttribute('href', `/tenants/${tenantId}`);
		await expect(page.locator('nav[aria-label="Ruta"]')).toContainText(copySubdomain);
		await expect(page.locator('[data-status="active"]').first()).toBeVisible({ timeout: 120_000 });
		await expectSpanish(page);
		await screenshot(page, 'continuity-restored-copy');

		// The log: filtered by the company's name, grouped by operation, tenants by name.
		await navLink(page, 'Registros').click();
		await page.getByLabel('Tenant', { exact: true }).fill(company);
		const groups = page.getByTestId('log-group');
		await expect(groups.first()).toBeVisible();
		await expect(page.getByTestId('log-tenant').first()).toHaveText(company);
		const titles = await groups.locator('th[scope="rowgroup"]').allInnerTexts();
		for (const expected of ['Creación', 'Eliminación']) {
			expect(titles.some((t) => t.includes(expected)), `una operación «${expected}» en ${titles.join(' | ')}`).toBe(true);
		}
		for (const title of titles) expect(title).not.toMatch(/#\d+/);
		await expectSpanish(page);
		await screenshot(page, 'continuity-logs');

		expect(refused).toEqual([]);
		expect(appErrors(errors)).toEqual([]);
	});

	test('un ajuste muestra el error del campo y vuelve a su valor predeterminado', async ({ page }) => {
		const errors = watchConsole(page);
		await login(page);
		await navLink(page, 'Ajustes').click();
		const row = page.locator('[data-setting="odoo_default_language"]');
		await row.getByRole('button', { name: /^Editar / }).click();
		await row.getByRole('textbox').fill('klingon');
		await row.getByRole('button', { name: 'Guardar' }).click();
		// The API's per-field message, in Spanish, under the field.
		await expect(row.getByRole('alert')).toContainText('Debe ser un código de idioma de Odoo');
		await row.getByRole('textbox').fill('es_MX');
		await row.getByRole('button', { name: 'Guardar' }).click();
		await expect(row.getByText('Base de datos', { exact: true })).toBeVisible();
		await expect(row.getByText('es_MX', { exact: true })).toBeVisible();
		await screenshot(page, 'continuity-setting-saved');

		await row.getByRole('button', { name: /^Restaurar valor predeterminado/ }).click();
		await expect(row.getByText('Por defecto', { exact: true })).toBeVisible();
		await expect(row.getByRole('button', { name: /^Restaurar valor predeterminado/ })).toHaveCount(0);
		await expectSpanish(page);
		expect(appErrors(errors)).toEqual([]);
	});
});
