import { expect, test } from '@playwright/test';
import { login, requireBackend, requireCredentials } from './helpers';

test.describe('Sesión entre pestañas', () => {
	test.beforeEach(() => {
		requireBackend();
		requireCredentials();
	});

	test('una pestaña nueva conserva la sesión con una sola renovación y sin tokens en el almacenamiento', async ({
		context,
		page
	}) => {
		await login(page);
		const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
		expect(stored).not.toMatch(/eyJ|refresh_token|access_token/);
		const cookies = await context.cookies();
		const refresh = cookies.find((c) => c.name === 'jc_refresh');
		expect(refresh?.httpOnly).toBe(true);
		expect(refresh?.sameSite).toBe('Strict');
		expect(refresh?.path).toBe('/api/auth');

		const tab = await context.newPage();
		const refreshes: number[] = [];
		tab.on('response', (response) => {
			if (new URL(response.url()).pathname === '/api/auth/refresh') refreshes.push(response.status());
		});
		await tab.goto('/tenants');
		await expect(tab.getByRole('button', { name: 'Cerrar sesión' })).toBeVisible();
		await expect(tab).toHaveURL(/\/tenants/);
		expect(refreshes).toEqual([200]);
		await tab.close();
	});
});
