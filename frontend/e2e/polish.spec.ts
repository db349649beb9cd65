import { expect, test, type Page } from '@playwright/test';
import { appErrors, login, navLink, plain, requireBackend, requireCredentials, screenshot, watchConsole } from './helpers';
import { monthOf, shiftMonth } from '../src/lib/billing';

// Rough edges an operator reported (issues 19 and 21), each pinned in the browser against
// the real lab backend.

async function openSection(page: Page, name: string) {
	await navLink(page, name).click();
	await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
	await expect(page.locator('[aria-busy="true"]')).toHaveCount(0, { timeout: 15_000 });
}

test.describe('Detalles de la interfaz', () => {
	test.beforeEach(() => {
		requireBackend();
		requireCredentials();
	});

	test('Facturación: barra lateral hasta abajo, selector de mes en español y ningún «-0,00»', async ({ page }) => {
		const errors = watchConsole(page);
		await login(page);
		await openSection(page, 'Facturación');

		// The sidebar reaches the bottom of the window however far the long page is scrolled.
		const viewport = page.viewportSize()!;
		await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
		const aside = (await page.locator('aside').boundingBox())!;
		expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeGreaterThan(viewport.height);
		expect(aside.y).toBeLessThanOrEqual(0.5);
		expect(aside.y + aside.height).toBeGreaterThanOrEqual(viewport.height - 0.5);
		await page.evaluate(() => window.scrollTo(0, 0));

		// A Spanish month control, not the browser's `input type=month`.
		await expect(page.locator('input[type="month"]')).toHaveCount(0);
		const picker = page.getByTestId('month-picker');
		const thisMonth = monthOf();
		const select = page.getByLabel('Mes', { exact: true });
		await expect(select).toHaveValue(thisMonth);
		const label = plain(await select.locator('option:checked').textContent());
		expect(label).toMatch(/^(enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre) de \d{4}$/);
		await expect(picker.getByRole('button', { name: 'Mes siguiente' })).toBeDisabled();
		await picker.getByRole('button', { name: 'Mes anterior' }).click();
		await expect(page).toHaveURL(new RegExp(`month=${shiftMonth(thisMonth, -1)}`));
		await expect(page.locator('[aria-busy="true"]')).toHaveCount(0, { timeout: 15_000 });

		// Zero has no sign, anywhere on the page.
		const text = plain(await page.locator('main').innerText());
		expect(text).not.toMatch(/[-−]\s?0(,0+)?\s?(US\$|€|%)/);
		await screenshot(page, 'polish-billing');
		expect(appErrors(errors)).toEqual([]);
	});

	test('una ruta desconocida muestra una página 404 en español con navegación', async ({ page }) => {
		await login(page);
		await page.goto('/esto-no-existe');
		const error = page.getByTestId('error-page');
		await expect(error.getByRole('heading', { name: 'Página no encontrada', level: 1 })).toBeVisible();
		await expect(error).toContainText('404');
		await expect(error).not.toContainText('Not Found');
		await screenshot(page, 'polish-404');
		await error.getByRole('navigation', { name: 'Secciones' }).getByRole('link', { name: 'Tenants' }).click();
		await expect(page.getByRole('heading', { name: 'Tenants', level: 1 })).toBeVisible();
	});

	test('Registros: latencias con coma decimal y detalles con nombre en español', async ({ page }) => {
		const errors = watchConsole(page);
		await login(page);
		await openSection(page, 'Registros');

		// Latencies the es way ("12,8 ms"), never "12.82 ms".
		// (The checks' own messages come from the backend as written; the figures the page formats are these.)
		const latencies = (await page.getByTestId('service-checks').getByText(/^Latencia:/).allInnerTexts()).map(plain);
		expect(latencies.length).toBeGreaterThan(0);
		for (const text of latencies) expect(text).toMatch(/^Latencia: \d+(,\d)? ms$/);
		// Check details are labelled in Spanish: no raw keys such as used_bytes or workers.
		const detailLabels = (await page.getByTestId('service-checks').locator('details dt').allTextContents()).map((t) => t.trim());
		expect(detailLabels.length).toBeGreaterThan(0);
		for (const label of detailLabels) expect(label).not.toMatch(/^[a-z]+(_[a-z]+)*$/);
		await screenshot(page, 'polish-logs');
		expect(appErrors(errors)).toEqual([]);
	});
});
