import { expect, test, type Page } from '@playwright/test';
import { EMAIL, apiGet, apiToken, appErrors, login, mailLink, requireBackend, requireCredentials, screenshot, watchConsole } from './helpers';

/**
 * The customer's whole road, against the real `serve --lab` backend (lab SMTP sink, lab
 * Stripe, lab Odoo): sign up → verification link from the captured mail → pay in the lab's
 * Checkout → tenant reaches Activo → billing portal → backup download → upgrade (proration
 * on the next invoice) → cancel. Then the customer cannot reach an operator page.
 */

const stamp = Date.now().toString(36);
const CUSTOMER = {
	company: 'Ferretería Portal S.L.',
	email: `cliente-${stamp}@example.com`,
	password: 'Portal-e2e-contraseña-1',
	subdomain: `portal-${stamp}`
};

/** Pays on the lab's Stripe Checkout page (its one submit button) and waits to be back. */
async function payInLabCheckout(page: Page): Promise<void> {
	await screenshot(page, 'portal-checkout');
	await page.getByRole('button', { name: /pagar|pay|subscribe|suscrib/i }).first().click();
	await page.waitForURL((url) => !/checkout/i.test(url.pathname) || url.pathname.startsWith('/portal'), { timeout: 30_000 });
}

let verified = false;

test.describe.serial('Portal del cliente', () => {
	test.beforeEach(() => {
		requireBackend();
		requireCredentials();
	});

	test('alta, verificación, pago, Activo, portal de facturación, respaldo, cambio de plan y cancelación', async ({ page, request }) => {
		test.setTimeout(300_000);
		const errors = watchConsole(page);

		// `serve --lab` prices the plans in the lab Stripe at start; /registro reads them without a login.
		const adminToken = await apiToken(request);
		const publicPlans = await request.get('/api/portal/plans');
		expect(publicPlans.status()).toBe(200);
		const plans = ((await publicPlans.json()).data ?? []) as { code: string; monthly_price: number; intervals: string[] }[];
		const basic = plans.find((p) => p.code === 'basic');
		expect(basic?.intervals, 'plan «basic» is on sale per month in the lab').toContain('month');
		expect(basic!.monthly_price).toBeGreaterThan(0);

		// 1. Sign-up with live availability.
		await page.goto('/registro');
		await expect(page.getByRole('heading', { name: 'Crear una cuenta' })).toBeVisible();
		await expect(page.getByTestId('plan-basic')).toBeVisible();
		await page.getByLabel('Empresa').fill(CUSTOMER.company);
		await page.getByLabel('Correo electrónico').fill(CUSTOMER.email);
		await page.getByLabel('Contraseña').fill(CUSTOMER.password);
		await page.getByLabel('Subdominio').fill('-mal');
		await expect(page.getByTestId('subdomain-status')).toHaveText(/guion|letras/);
		await page.getByLabel('Subdominio').fill(CUSTOMER.subdomain);
		await expect(page.getByTestId('subdomain-status')).toHaveText(/Disponible/);
		await page.getByTestId('plan-basic').click();
		await screenshot(page, 'portal-registro');
		await page.getByRole('button', { name: 'Crear cuenta' }).click();
		await expect(page.getByTestId('signup-sent')).toContainText('Revise su correo');

		// 2. The verification link from the lab's captured mail (read as an operator).
		const verifyLink = await mailLink(request, adminToken, CUSTOMER.email, '/verificar');
		const checkoutRequest = page.waitForRequest((r) => /\/c\/pay\/|checkout/i.test(new URL(r.url()).pathname) && !r.url().includes('/api/'), { timeout: 20_000 });
		await page.goto(new URL(verifyLink).pathname + new URL(verifyLink).search);
		const checkoutUrl = new URL((await checkoutRequest).url());
		await page.waitForURL((url) => url.pathname.startsWith('/c/pay/'));
		await expect(page.getByRole('button', { name: /^Pagar/ })).toBeVisible();
		verified = true;

		// The verification logged the customer in: the portal opens without a login.
		await page.goto('/portal');
		await expect(page.getByRole('heading', { name: 'Mi cuenta', level: 1 })).toBeVisible();
		await expect(page.getByTestId('portal-tenants')).toBeVisible();
		await screenshot(page, 'portal-verificado');

		// 3. Pay in the lab's Checkout, come back, log in: the tenant is being created.
		expect(['127.0.0.1', 'localhost'], `the lab's Checkout page (${checkoutUrl.origin}) is served on loopback`).toContain(checkoutUrl.hostname);
		await page.goto(checkoutUrl.toString());
		await payInLabCheckout(page);
		if (page.url().includes('/login')) {
			await page.getByLabel('Correo electrónico').fill(CUSTOMER.email);
			await page.getByLabel('Contraseña').fill(CUSTOMER.password);
			await page.getByRole('button', { name: 'Iniciar sesión' }).click();
		} else if (!page.url().includes('/portal')) {
			await login(page, CUSTOMER.email, CUSTOMER.password);
		}
		await expect(page).toHaveURL(/\/portal/);
		const card = page.getByTestId('portal-tenant').filter({ hasText: CUSTOMER.subdomain });
		await expect(card).toBeVisible({ timeout: 30_000 });
		await card.getByRole('link', { name: 'Gestionar' }).click();
		await expect(page).toHaveURL(/\/portal\/instancias\/\d+$/);
		const tenantId = Number(new URL(page.url()).pathname.split('/').pop());

		// 4. Live progress, then Activo and "Tu Odoo está listo" with URL, login and password once.
		await expect(page.locator('[data-status="active"]').first()).toBeVisible({ timeout: 150_000 });
		const ready = page.getByTestId('tenant-ready');
		await expect(ready.getByRole('heading', { name: 'Tu Odoo está listo' })).toBeVisible();
		await expect(ready.getByTestId('tenant-url')).toContainText(CUSTOMER.subdomain);
		await expect(ready.getByTestId('one-time-secret')).toBeVisible();
		await screenshot(page, 'portal-listo');

		// 5. A backup (taken by an operator: customers download, they do not trigger) and its download.
		const started = await request.post(`/api/tenants/${tenantId}/backups`, { headers: { Authorization: `Bearer ${adminToken}` } });
		expect(started.status(), 'operator backup').toBe(202);
		await expect
			.poll(async () => (await apiGet(request, adminToken, `/api/tenants/${tenantId}/backups`)).body?.data?.[0]?.status, { timeout: 90_000 })
			.toBe('succeeded');
		await page.reload();
		const backups = page.getByTestId('portal-backups');
		const downloadButton = backups.getByRole('button', { name: /^Descargar el respaldo/ }).first();
		await expect(downloadButton).toBeVisible();
		const [download] = await Promise.all([page.waitForEvent('download'), downloadButton.click()]);
		expect(download.suggestedFilename()).toMatch(/\.(zip|dump|gz|tar)/);
		expect((await download.path()) ?? '').not.toBe('');

		// 6. Upgrade: the dialog states old → new price and the proration before confirming;
		// Stripe's proration (create_preview) shows on the page once the change is made.
		await page.getByRole('button', { name: 'Cambiar de plan' }).click();
		const dialog = page.getByRole('dialog', { name: 'Cambiar de plan' });
		await dialog.getByTestId('plan-pro').click();
		await expect(dialog.getByTestId('plan-quote')).toContainText('→');
		await expect(dialog.getByTestId('plan-quote')).toContainText(/prorratea/);
		await screenshot(page, 'portal-cambio-plan');
		await dialog.getByRole('button', { name: 'Confirmar el cambio' }).click();
		await expect(page.getByTestId('current-plan')).toContainText('Pro', { timeout: 60_000 });
		await expect(page.getByTestId('plan-proration')).toContainText(/Prorrateo en la próxima factura: \d/);

		// 7. The billing portal (Stripe Customer Portal session) from the portal's home.
		await page.goto('/portal');
		await page.getByRole('button', { name: 'Gestionar pago y facturación' }).click();
		await page.waitForURL((url) => !url.pathname.startsWith('/portal') || url.pathname.includes('billing'), { timeout: 20_000 });
		await screenshot(page, 'portal-facturacion-stripe');
		await page.goto(`/portal/instancias/${tenantId}`);

		// 8. Cancel at period end: confirmed by typing the subdomain.
		await page.getByRole('button', { name: 'Cancelar suscripción' }).click();
		const confirm = page.getByRole('dialog', { name: 'Cancelar suscripción' });
		const go = confirm.getByRole('button', { name: 'Cancelar suscripción' });
		await expect(go).toBeDisabled();
		await confirm.getByLabel(/Para confirmar/).fill(CUSTOMER.subdomain);
		await go.click();
		await expect(page.getByTestId('cancel-notice')).toBeVisible();
		await screenshot(page, 'portal-cancelada');

		expect(appErrors(errors)).toEqual([]);
	});

	test('un cliente no abre páginas de operadores', async ({ page, request }) => {
		test.skip(!verified, 'needs the verified customer of the sign-up test');
		await login(page, CUSTOMER.email, CUSTOMER.password);
		await expect(page).toHaveURL(/\/portal$/);
		for (const path of ['/', '/tenants', '/customers', '/billing', '/settings', '/infrastructure', '/logs', '/lab/mail']) {
			await page.goto(path);
			await expect(page, `${path} sends a customer to the portal`).toHaveURL(/\/portal$/);
			await expect(page.getByRole('navigation', { name: 'Secciones' })).toHaveCount(0);
		}
		// And the API refuses the operator routes to the customer's token.
		const token = await apiToken(request, CUSTOMER.email, CUSTOMER.password);
		for (const path of ['/api/tenants', '/api/customers', '/api/billing/invoices', '/api/settings']) {
			expect((await apiGet(request, token, path)).status, path).toBe(403);
		}
	});
});

test.describe('Páginas públicas del portal', () => {
	test.beforeEach(() => requireBackend());

	test('registro con disponibilidad en vivo, restablecer sin revelar cuentas, /portal pide sesión', async ({ page }) => {
		const errors = watchConsole(page);
		await page.goto('/registro');
		await expect(page.getByRole('heading', { name: 'Crear una cuenta' })).toBeVisible();
		await page.getByLabel('Subdominio').fill('-mal');
		await expect(page.getByTestId('subdomain-status')).toHaveText(/guion|letras/);
		await page.getByLabel('Subdominio').fill(`libre-${stamp}`);
		await expect(page.getByTestId('subdomain-status')).toHaveText(/Disponible/);
		await expect(page.getByTestId('plan-basic')).toBeVisible();
		await screenshot(page, 'portal-registro-publico');

		// The same answer for an unknown e-mail as for a known one.
		for (const email of [`nadie-${stamp}@example.com`, EMAIL ?? `otro-${stamp}@example.com`]) {
			await page.goto('/restablecer');
			await page.getByLabel('Correo electrónico').fill(email);
			await page.getByRole('button', { name: 'Enviar enlace' }).click();
			await expect(page.getByTestId('reset-sent')).toContainText('Revise su correo');
		}

		await page.goto('/portal');
		await expect(page).toHaveURL(/\/login\?next=%2Fportal/);
		expect(appErrors(errors)).toEqual([]);
	});
});
