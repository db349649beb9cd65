import { expect, test } from '@playwright/test';
import { appErrors, login, navLink, requireBackend, requireCredentials, screenshot, watchConsole } from './helpers';

test.describe('Tenants', () => {
	test.beforeEach(() => {
		requireBackend();
		requireCredentials();
	});

	test('crear un tenant, verlo llegar a Activo, suspenderlo y reactivarlo', async ({ page }) => {
		test.setTimeout(180_000);
		const errors = watchConsole(page);
		await login(page);
		await navLink(page, 'Tenants').click();
		await expect(page.getByRole('heading', { name: 'Tenants', level: 1 })).toBeVisible();
		await screenshot(page, 'tenants');

		const subdomain = `e2e-${Date.now().toString(36)}`;
		await page.getByRole('button', { name: 'Nuevo tenant' }).first().click();
		const dialog = page.getByRole('dialog', { name: 'Nuevo tenant' });
		await dialog.getByLabel('Empresa').fill('Compañía de Pruebas S.L.');
		await dialog.getByLabel('Correo electrónico').fill('pruebas@example.com');
		await dialog.getByLabel('Subdominio').fill('-mal');
		await expect(dialog.getByTestId('subdomain-status')).toHaveText(/guion/);
		await dialog.getByLabel('Subdominio').fill(subdomain);
		await expect(dialog.getByTestId('subdomain-status')).toHaveText(/Disponible/);
		await screenshot(page, 'tenants-new');
		await dialog.getByRole('button', { name: 'Crear' }).click();

		await expect(page).toHaveURL(/\/tenants\/\d+$/);
		await expect(page.getByRole('progressbar')).toBeVisible();
		await expect(page.locator('[data-status="active"]').first()).toBeVisible({ timeout: 120_000 });
		await expect(page.getByTestId('job-percent')).toHaveText('100 %');
		await screenshot(page, 'tenant-active');

		await page.getByRole('button', { name: 'Suspender' }).click();
		await page.getByRole('dialog', { name: 'Suspender tenant' }).getByRole('button', { name: 'Suspender' }).click();
		await expect(page.locator('[data-status="suspended"]').first()).toBeVisible({ timeout: 120_000 });
		await screenshot(page, 'tenant-suspended');

		await page.getByRole('button', { name: 'Reactivar' }).click();
		await page.getByRole('dialog', { name: 'Reactivar tenant' }).getByRole('button', { name: 'Reactivar' }).click();
		await expect(page.locator('[data-status="active"]').first()).toBeVisible({ timeout: 120_000 });

		// Facturación and Respaldos sections: a backup now, then download it with the session's token.
		await expect(page.getByRole('heading', { name: 'Facturación', level: 2 })).toBeVisible();
		const backups = page.getByTestId('tenant-backups');
		const respaldar = backups.getByRole('button', { name: 'Respaldar' });
		let restoredCopy = false;
		if (await respaldar.count()) {
			await respaldar.click();
			await expect(page.getByText('Respaldo en curso.')).toBeVisible();
			const descargar = backups.getByRole('button', { name: /^Descargar el respaldo/ }).first();
			await expect(descargar).toBeVisible({ timeout: 120_000 });
			await screenshot(page, 'tenant-backups');
			const download = page.waitForEvent('download');
			await descargar.click();
			const file = await download;
			expect(file.suggestedFilename()).toMatch(/\S+\.\w+/);
			expect(await file.failure()).toBeNull();

			// Restore that backup as a staging copy on a new subdomain, and watch its job finish.
			await backups.getByRole('button', { name: /^Restaurar el respaldo/ }).first().click();
			const restoreDialog = page.getByRole('dialog', { name: 'Restaurar respaldo' });
			await restoreDialog.getByLabel('Subdominio de la copia').fill(`${subdomain}-copia`);
			await restoreDialog.getByRole('button', { name: 'Restaurar' }).click();
			await expect(page.getByText(/Restauración en curso/)).toBeVisible();
			await expect(page.getByTestId('job-percent')).toHaveText('100 %', { timeout: 120_000 });
			await screenshot(page, 'tenant-restore-copy');
			restoredCopy = true;
		} else {
			await expect(backups).toContainText('Disponible pronto');
		}

		await navLink(page, 'Tenants').click();
		await page.getByLabel('Buscar').fill(subdomain);
		// The tenant and, when backups are on, its staging copy (same company, `-copia` subdomain).
		await expect(page.getByRole('link', { name: 'Compañía de Pruebas S.L.' }).first()).toBeVisible();
		await expect(page.getByText(`${subdomain}-copia`)).toHaveCount(restoredCopy ? 1 : 0);
		expect(appErrors(errors)).toEqual([]);
	});

	test('las demás secciones se muestran sin errores de consola', async ({ page }) => {
		const errors = watchConsole(page);
		await login(page);
		for (const [name, file] of [
			['Facturación', 'billing'],
			['Infraestructura', 'infrastructure'],
			['Registros', 'logs'],
			['Ajustes', 'settings']
		] as const) {
			await navLink(page, name).click();
			await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
			await screenshot(page, file);
		}
		expect(appErrors(errors)).toEqual([]);
	});
});
