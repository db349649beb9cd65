/** Whether the backend runs with `--lab` (emulated vendors): GET /api/health → data.lab. */
import type { Health } from '$lib/api/types';

export class LabMode {
	enabled = $state(false);
	version = $state<string | null>(null);
	loaded = $state(false);
	/** The backend could not be reached or answered 503 (database down). */
	unreachable = $state(false);
	readonly #fetchHealth: () => Promise<Health>;

	constructor(fetchHealth: () => Promise<Health>) {
		this.#fetchHealth = fetchHealth;
	}

	async load(): Promise<void> {
		try {
			const health = await this.#fetchHealth();
			this.enabled = health.lab === true;
			this.version = health.version ?? null;
			this.unreachable = false;
		} catch {
			// Without an answer we cannot claim lab mode; the banner stays off.
			this.unreachable = true;
		} finally {
			this.loaded = true;
		}
	}
}
