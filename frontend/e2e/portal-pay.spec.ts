import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { apiGet, apiToken, appErrors, login, mailLink, requireBackend, requireCredentials, screenshot, watchConsole } from './helpers';

/**
 * Paying from the portal, against `serve --lab`: a customer cancels the lab Checkout, comes
 * back to the portal and resumes with "Pagar ahora" (a new Checkout session); then opens an
 * invoice from "Facturas" on the lab's hosted invoice page (real lines and amounts) and pays
 * an open one there with "Pagar" — the portal shows it paid once Stripe's webhook is in.
 */

const stamp = Date.now().toString(36);
/** The customer's invoices as the API lists them (what the portal shows). */
async function invoiceStatuses(request: APIRequestContext, token: string): Promise<string[]> {
	const { status, body } = await apiGet(request, token, '/api/portal/invoices');
	return status === 200 ? ((body.data ?? []) as { status: string }[]).map((i) => i.status) : [`HTTP ${status}`];
}

/** Open /portal once the data is there; a session lost to Stripe's round trip logs in again. */
async function openPortal(page: Page): Promise<void> {
	await page.goto('/portal');
	if (page.url().includes('/login')) await login(page, CUSTOMER.email, CUSTOMER.password);
	await expect(page.getByRole('heading', { name: 'Mi cuenta', level: 1 })).toBeVisible();
}

const CUSTOMER = {
	company: 'Pagos Pendientes S.L.',
	email: `paga-${stamp}@example.com`,
	password: 'Portal-e2e-pagar-ahora-1',
	subdomain: `paga-${stamp}`
};

test.describe('Portal: pagar ahora y factura alojada', () => {
	test.beforeEach(() => {
		requireBackend();
		requireCredentials();
	});

	test('cancelar el pago, pagar ahora, ver la factura y pagar una factura abierta', async ({ page, request }) => {
		test.setTimeout(240_000);
		const errors = watchConsole(page);
		const adminToken = await apiToken(request);

		await page.goto('/registro');
		await page.getByLabel('Empresa').fill(CUSTOMER.company);
		await page.getByLabel('Correo electrónico').fill(CUSTOMER.email);
		await page.getByLabel('Contraseña').fill(CUSTOMER.password);
		await page.getByLabel('Subdominio').fill(CUSTOMER.subdomain);
		await expect(page.getByTestId('subdomain-status')).toHaveText(/Disponible/);
		await page.getByTestId('plan-basic').click();
		await page.getByRole('button', { name: 'Crear cuenta' }).click();
		await expect(page.getByTestId('signup-sent')).toContainText('Revise su correo');

		// Verified and sent to the lab Checkout: the customer cancels instead of paying.
		const verifyLink = new URL(await mailLink(request, adminToken, CUSTOMER.email, '/verificar'));
		await page.goto(verifyLink.pathname + verifyLink.search);
		await page.waitForURL((url) => url.pathname.startsWith('/c/pay/'));
		const firstCheckout = page.url();
		await page.getByRole('link', { name: 'Cancelar' }).click();
		await expect(page).toHaveURL(/\/portal\?checkout=\d+&cancelado=1/);
		await expect(page.getByTestId('checkout-cancelled')).toBeVisible();
		const pending = page.getByTestId('pending-signups');
		await expect(pending).toContainText(CUSTOMER.subdomain);
		await screenshot(page, 'portal-pagar-ahora');

		// "Pagar ahora": a new Checkout session (the cancelled one is closed at Stripe).
		await pending.getByTestId('pay-now').click();
		await page.waitForURL((url) => url.pathname.startsWith('/c/pay/'));
		expect(page.url()).not.toBe(firstCheckout);
		await page.getByRole('button', { name: /^Pagar/ }).click();
		await page.waitForURL((url) => !url.pathname.startsWith('/c/pay/'));
		const old = await request.get(firstCheckout);
		expect(old.status(), 'the cancelled Checkout can no longer be paid').toBe(410);

		// The paid invoice opens on the lab's hosted invoice page, with its real lines.
		const customerToken = await apiToken(request, CUSTOMER.email, CUSTOMER.password);
		await expect.poll(() => invoiceStatuses(request, customerToken), { timeout: 60_000 }).toEqual(['paid']);
		await openPortal(page);
		const invoices = page.getByTestId('portal-invoices');
		await expect(invoices.getByTestId('invoice-link')).toHaveCount(1);
		const paidHref = (await invoices.getByTestId('invoice-link').first().getAttribute('href'))!;
		const invoiceUrl = new URL(paidHref);
		expect(['127.0.0.1', 'localhost']).toContain(invoiceUrl.hostname);
		const hosted = await page.context().newPage();
		await hosted.goto(paidHref);
		await expect(hosted.getByRole('heading', { name: /^Factura / })).toBeVisible();
		await expect(hosted.getByTestId('invoice-status')).toHaveText('Pagada');
		await expect(hosted.getByTestId('invoice-line')).toHaveCount(1);
		await expect(hosted.getByTestId('invoice-line')).toContainText('basic');
		await expect(hosted.getByTestId('invoice-pay')).toHaveCount(0);
		await screenshot(hosted, 'factura-alojada-pagada');

		// The next period's invoice (the lab renews the subscription now) stays open until paid.
		const stripeBase = invoiceUrl.origin;
		const paidId = invoiceUrl.pathname.split('/').pop();
		const events = (await (await request.get(`${stripeBase}/_lab/events`)).json()) as { events: { type: string; data: { object: any } }[] };
		const paidEvent = events.events.find((e) => e.type === 'invoice.paid' && e.data.object.id === paidId);
		const subscription = paidEvent!.data.object.parent.subscription_details.subscription as string;
		const renewed = await request.post(`${stripeBase}/_lab/subscriptions/${subscription}/advance`);
		expect(renewed.status()).toBe(200);
		const openId = ((await renewed.json()) as { id: string }).id;
		await expect.poll(() => invoiceStatuses(request, customerToken), { timeout: 60_000 }).toContain('open');
		await page.bringToFront();
		await openPortal(page);
		const openLink = invoices.getByRole('link', { name: 'Ver y pagar' });
		await expect(openLink).toBeVisible();
		expect(await openLink.getAttribute('href')).toContain(`/i/${openId}`);

		await hosted.goto((await openLink.getAttribute('href'))!);
		await expect(hosted.getByTestId('invoice-status')).toHaveText('Abierta');
		await screenshot(hosted, 'factura-alojada-abierta');
		await hosted.getByTestId('invoice-pay').click();
		await expect(hosted.getByTestId('invoice-status')).toHaveText('Pagada');
		await expect(hosted.getByTestId('invoice-due')).toContainText('0,00');

		// invoice.paid reaches the control plane: the portal shows no invoice left to pay.
		await expect.poll(() => invoiceStatuses(request, customerToken), { timeout: 60_000 }).toEqual(['paid', 'paid']);
		await openPortal(page);
		await expect(invoices.getByTestId('invoice-link')).toHaveCount(2);
		await expect(invoices.getByRole('link', { name: 'Ver y pagar' })).toHaveCount(0);

		// A move to a dedicated container from the portal: the downtime is stated and accepted
		// first, the move's steps run live, and the instance ends on the new plan.
		const card = page.getByTestId('portal-tenant').filter({ hasText: CUSTOMER.subdomain });
		await card.getByRole('link', { name: 'Gestionar' }).click();
		await expect(page.locator('[data-status="active"]').first()).toBeVisible({ timeout: 150_000 });
		await page.getByRole('button', { name: 'Cambiar de plan' }).click();
		const dialog = page.getByRole('dialog', { name: 'Cambiar de plan' });
		await dialog.getByTestId('plan-enterprise').click();
		await expect(dialog.getByTestId('quote-downtime')).toContainText(/unos \d+ minutos/);
		const confirm = dialog.getByRole('button', { name: 'Confirmar el traslado' });
		await expect(confirm).toBeDisabled();
		await dialog.getByTestId('accept-downtime').check();
		await confirm.click();
		await expect(page.getByTestId('plan-notice')).toContainText('Traslado');
		await expect(page.locator('ol[aria-label="Pasos"]')).toContainText('Restaurar el respaldo en el destino');
		await screenshot(page, 'portal-traslado');
		await expect(page.getByTestId('current-plan')).toContainText('Enterprise', { timeout: 180_000 });

		expect(appErrors(errors)).toEqual([]);
	});
});
