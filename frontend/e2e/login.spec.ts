import { expect, test } from '@playwright/test';
import { appErrors, login, navLink, requireBackend, requireCredentials, screenshot, watchConsole } from './helpers';

test.describe('Iniciar sesión', () => {
	test.beforeEach(() => requireBackend());

	test('la página de inicio de sesión está en español', async ({ page }) => {
		const errors = watchConsole(page);
		await page.goto('/login');
		await expect(page).toHaveTitle(/Iniciar sesión/);
		await expect(page.locator('html')).toHaveAttribute('lang', 'es');
		await expect(page.getByRole('heading', { name: 'Iniciar sesión' })).toBeVisible();
		await expect(page.getByLabel('Correo electrónico')).toBeVisible();
		await expect(page.getByLabel('Contraseña')).toBeVisible();
		await expect(page.getByRole('button', { name: 'Iniciar sesión' })).toBeEnabled();
		await screenshot(page, 'login');
		expect(errors).toEqual([]);
	});

	test('una contraseña incorrecta muestra el error en español', async ({ page }) => {
		await page.goto('/login');
		await page.getByLabel('Correo electrónico').fill('nadie@example.com');
		await page.getByLabel('Contraseña').fill('contraseña-incorrecta');
		await page.getByRole('button', { name: 'Iniciar sesión' }).click();
		const alert = page.getByTestId('login-error');
		// Invalid credentials, or — after many runs — the rate limit; both in Spanish.
		await expect(alert).toHaveText(/Correo electrónico o contraseña incorrectos|Demasiados intentos/);
		await expect(page).toHaveURL(/\/login/);
		await screenshot(page, 'login-error');
	});

	test('sin sesión, una ruta protegida lleva a /login', async ({ page }) => {
		await page.goto('/tenants');
		await expect(page).toHaveURL(/\/login\?next=%2Ftenants/);
	});

	test('con credenciales válidas entra al panel y cierra sesión', async ({ page }) => {
		requireCredentials();
		const errors = watchConsole(page);
		await login(page);
		await expect(page.getByRole('heading', { name: 'Panel', level: 1 })).toBeVisible();
		await screenshot(page, 'panel');
		await page.getByRole('button', { name: 'Cerrar sesión' }).click();
		await expect(page).toHaveURL(/\/login/);
		// 404 of a not-yet-built /api/dashboard/all is an honest empty state, not a console error.
		expect(appErrors(errors)).toEqual([]);
	});
});
