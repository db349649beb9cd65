import { expect, test } from '@playwright/test';
import { apiGet, apiToken, appErrors, login, navLink, requireBackend, requireCredentials, screenshot, watchConsole } from './helpers';
import type { OdooServer, Tenant } from '../src/lib/api/types';
import { STEP_LABELS } from '../src/lib/status';

test.describe('Tenants', () => {
	test.beforeEach(() => {
		requireBackend();
		requireCredentials();
	});

	test('crear un tenant, verlo llegar a Activo, suspenderlo y reactivarlo', async ({ page, request }) => {
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

		// The Odoo server by name, with a link (not "Servidor Odoo: 1"), as the API names it.
		const token = await apiToken(request);
		const tenantId = Number(new URL(page.url()).pathname.split('/').pop());
		const tenant = (await apiGet(request, token, `/api/tenants/${tenantId}`)).body.data as Tenant;
		const servers = (await apiGet(request, token, '/api/tenants/servers')).body.data as OdooServer[];
		const server = servers.find((s) => s.id === tenant.odoo_server_id);
		expect(server, 'the tenant is placed on a registered server').toBeTruthy();
		const serverCell = page.getByTestId('tenant-server');
		await expect(serverCell.getByRole('link', { name: server!.name, exact: true })).toHaveAttribute('href', /^\/infrastructure/);
		await expect(serverCell).not.toHaveText(/^\s*\d+\s*$/);

		// Screen-reader text of the steps is Spanish ("(completado)"), never "(succeeded)".
		const stepStates = await page.locator('ol[aria-label="Pasos"] .sr-only').allTextContents();
		expect(stepStates.length).toBeGreaterThan(0);
		for (const text of stepStates) expect(text).not.toMatch(/succeeded|failed|running|pending|skipped/i);
		expect(stepStates).toContain('(completado)');

		await page.getByRole('button', { name: 'Suspender' }).click();
		await page.getByRole('dialog', { name: 'Suspender tenant' }).getByRole('button', { name: 'Suspender' }).click();
		await expect(page.locator('[data-status="suspended"]').first()).toBeVisible({ timeout: 120_000 });
		await screenshot(page, 'tenant-suspended');

		await page.getByRole('button', { name: 'Reactivar' }).click();
		await page.getByRole('dialog', { name: 'Reactivar tenant' }).getByRole('button', { name: 'Reactivar' }).click();
		// The tenant's own state: the header offers «Suspender» again only once the tenant is
		// active. (The first «Activo» badge on the page may be the subscription's, shown while
		// the tenant is still reactivating; a click then met a disabled or moving «Respaldar».)
		await expect(page.getByRole('button', { name: 'Suspender', exact: true })).toBeVisible({ timeout: 120_000 });

		// Facturación and Respaldos sections: a backup now, then download it with the session's token.
		await expect(page.getByRole('heading', { name: 'Facturación', level: 2 })).toBeVisible();
		const backups = page.getByTestId('tenant-backups');
		const respaldar = backups.getByRole('button', { name: 'Respaldar' });
		{
			await expect(respaldar).toBeEnabled();
			await respaldar.click();
			const toast = page.getByTestId('toaster').getByText('Respaldo en curso.');
			await expect(toast).toBeVisible();
			// The toast covers no action button of the page.
			const box = (await page.getByTestId('toaster').boundingBox())!;
			for (const button of await page.locator('main button:visible').all()) {
				const b = await button.boundingBox();
				if (!b) continue;
				const overlaps = b.x < box.x + box.width && box.x < b.x + b.width && b.y < box.y + box.height && box.y < b.y + b.height;
				expect(overlaps, `toast covers «${(await button.textContent())?.trim()}»`).toBe(false);
			}
			const descargar = backups.getByRole('button', { name: /^Descargar el respaldo/ }).first();
			await expect(descargar).toBeVisible({ timeout: 120_000 });
			await screenshot(page, 'tenant-backups');
			const download = page.waitForEvent('download');
			await descargar.click();
			const file = await download;
			expect(file.suggestedFilename()).toMatch(/\S+\.\w+/);
			expect(await file.failure()).toBeNull();

			// Restore that backup as a staging copy on a new subdomain: the app opens the copy's
			// page (its own admin password is shown there once) and its job finishes.
			const tenantUrl = page.url();
			await backups.getByRole('button', { name: /^Restaurar el respaldo/ }).first().click();
			const restoreDialog = page.getByRole('dialog', { name: 'Restaurar respaldo' });
			await restoreDialog.getByLabel('Subdominio de la copia').fill(`${subdomain}-copia`);
			await restoreDialog.getByRole('button', { name: 'Restaurar' }).click();
			await expect(page.getByText(/Restauración en curso/)).toBeVisible();
			await expect(page.getByTestId('job-percent')).toHaveText('100 %', { timeout: 120_000 });
			await expect(page).not.toHaveURL(tenantUrl);
			await screenshot(page, 'tenant-restore-copy');
			await page.goto(tenantUrl);
			await expect(page.getByRole('button', { name: 'Eliminar' })).toBeVisible();
		}

		// Deleting asks for the subdomain typed out: the button stays disabled until it matches.
		await page.getByRole('button', { name: 'Eliminar' }).click();
		const confirmDelete = page.getByRole('dialog', { name: 'Eliminar tenant' });
		const confirmButton = confirmDelete.getByRole('button', { name: 'Eliminar' });
		await expect(confirmButton).toBeDisabled();
		await confirmDelete.getByLabel(/Para confirmar, escriba/).fill(`${subdomain}x`);
		await expect(confirmButton).toBeDisabled();
		await confirmDelete.getByLabel(/Para confirmar, escriba/).fill(subdomain);
		await expect(confirmButton).toBeEnabled();
		await screenshot(page, 'tenant-delete-confirm');
		await confirmDelete.getByRole('button', { name: 'Cancelar' }).click();

		// The tenant's log: the step column shows Spanish titles, never codes like verify_http.
		await page.getByRole('link', { name: 'Ver todos los registros de este tenant' }).click();
		await expect(page.getByRole('heading', { name: 'Registros', level: 1 })).toBeVisible();
		const logTable = page.getByRole('table', { name: 'Registro de aprovisionamiento' });
		await expect(logTable.locator('tbody tr').first()).toBeVisible();
		const stepColumn = (await logTable.locator('thead th').allTextContents()).findIndex((t) => t.trim() === 'Paso');
		expect(stepColumn).toBeGreaterThanOrEqual(0);
		const steps = (await logTable.locator(`tbody tr td:nth-child(${stepColumn + 1})`).allTextContents()).map((t) => t.trim());
		expect(steps.some((t) => t !== '—')).toBe(true);
		for (const step of steps) {
			expect(Object.keys(STEP_LABELS), `step column shows the code «${step}»`).not.toContain(step);
			expect(step).not.toMatch(/^[a-z]+(_[a-z]+)*$/);
		}

		await navLink(page, 'Tenants').click();
		await page.getByLabel('Buscar').fill(subdomain);
		// The tenant and, when backups are on, its staging copy (same company, `-copia` subdomain).
		await expect(page.getByRole('link', { name: 'Compañía de Pruebas S.L.' }).first()).toBeVisible();
		await expect(page.getByText(`${subdomain}-copia`)).toHaveCount(1);
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
