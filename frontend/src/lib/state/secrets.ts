/**
 * A generated admin password travels from the "Nuevo tenant" answer to the tenant page
 * exactly once, in memory only (never in the URL, storage or logs).
 */
const pending = new Map<string, string>();

export function handOver(tenantId: number | string, password: string): void {
	pending.set(String(tenantId), password);
}

export function takeOver(tenantId: number | string): string | null {
	const key = String(tenantId);
	const password = pending.get(key) ?? null;
	pending.delete(key);
	return password;
}
