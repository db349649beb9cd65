import type { Page } from '@playwright/test';

// The language judge of the tour (issue 21): English UI words, raw keys and snake_case
// identifiers in a page's visible text. Shared by tour.spec.ts and continuity.spec.ts.

/** Common English UI words: none of them is also a Spanish word (so not "No", "Error", "Plan"). */
export const ENGLISH = [
	'Loading', 'Save', 'Saving', 'Cancel', 'Delete', 'Submit', 'Search', 'Settings', 'Status', 'Name',
	'Yes', 'Back', 'Next', 'Previous', 'Retry', 'Unknown', 'None', 'null', 'undefined', 'NaN', 'true',
	'false', 'Not Found', 'Unauthorized', 'Forbidden', 'succeeded', 'failed', 'pending', 'running',
	'queued', 'cancelled', 'active', 'suspended', 'deleted', 'provisioning', 'Edit', 'Close', 'Create',
	'Update', 'Refresh', 'Login', 'Logout', 'Sign in', 'Password', 'Dashboard', 'Backup', 'Backups',
	'Invoice', 'Invoices', 'Customer', 'Customers', 'Server', 'Servers', 'Warning', 'Debug', 'Details',
	'Actions', 'Show', 'Hide', 'Download', 'Restore', 'Billing', 'Health', 'healthy', 'degraded',
	'down', 'unreachable', 'workers', 'worker', 'depth', 'used_bytes', 'Invalid Date', 'object Object',
	'No data', 'Something went wrong', 'Page', 'Total', 'Empty', 'Required', 'Invalid', 'Expired'
].filter((w) => w !== 'Total');

const ENGLISH_RE = new RegExp(`(?<![\\p{L}\\p{N}_])(${ENGLISH.map((w) => w.replace(/ /g, '\\s+')).join('|')})(?![\\p{L}\\p{N}_])`, 'u');
/** `snake_case` identifiers (a lowercase word joined by underscores). */
const SNAKE_RE = /(?<![\p{L}\p{N}_.@/-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\p{L}\p{N}_])/u;
/** Raw dotted keys like `auth.login` or `tenant.backup` (hostnames are removed before). */
const DOTTED_RE = /(?<![\p{L}\p{N}_.@/-])[a-z]+(?:\.[a-z_]+)+(?![\p{L}\p{N}_.])/u;

/**
 * Legitimate data, removed before judging (the only exclusions): e-mail addresses, URLs and
 * host names. Elements marked `data-raw` or `<code>` are removed in the page itself.
 */
export const DATA_PATTERNS = [
	/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g,
	/\b(?:https?|wss?):\/\/\S+/g,
	/\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:us|com|es|net|org|io|test|local|dev|example|invalid|internal|lan)\b/gi,
	// Stripe's object ids (cus_…, sub_…, in_…, evt_…) inside messages: references, not words.
	/\b(?:cus|sub|in|ii|il|evt|pi|pm|ch|re|price|prod|cs|si|seti|txn)_[A-Za-z0-9]{8,}\b/g
];

/** The page's visible text without `<code>` / `[data-raw]` elements (identifiers shown on purpose). */
export async function visibleText(page: Page): Promise<string> {
	const text = await page.evaluate(() => {
		// Collapsed <details> are text a click away: judge them too.
		for (const details of Array.from(document.querySelectorAll('details'))) details.open = true;
		let all = document.body.innerText;
		for (const el of Array.from(document.querySelectorAll<HTMLElement>('code, [data-raw]'))) {
			const raw = el.innerText.trim();
			if (raw) all = all.split(raw).join(' ');
		}
		return all;
	});
	return DATA_PATTERNS.reduce((acc, re) => acc.replace(re, ' '), text);
}

/** Findings in one page's text, each with the line it was found on. */
export function judge(text: string): string[] {
	const findings: string[] = [];
	for (const line of text.split('\n')) {
		for (const [kind, re] of [['palabra en inglés', ENGLISH_RE], ['identificador snake_case', SNAKE_RE], ['clave sin traducir', DOTTED_RE]] as const) {
			const match = re.exec(line);
			if (match) findings.push(`${kind} «${match[0]}» en: ${line.trim().slice(0, 140)}`);
		}
	}
	return findings;
}

