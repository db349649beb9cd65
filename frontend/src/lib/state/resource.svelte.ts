/**
 * One remote read for a page section: loading, ready, unavailable (endpoint not on this
 * server yet: 404 route / 405 / 501) or error. A new load cancels the previous one, and
 * the last data stays visible while a refresh runs (tables dim instead of flashing).
 */
import { ApiError, errorMessage } from '$lib/api/errors';
import { isUnavailable } from '$lib/api/optional';

export type ResourceStatus = 'idle' | 'loading' | 'ready' | 'unavailable' | 'error';

export type Fetcher<T, M> = (signal: AbortSignal) => Promise<{ data: T; meta: M }>;

export class Resource<T, M = Record<string, unknown>> {
	status = $state<ResourceStatus>('idle');
	data = $state<T | null>(null);
	meta = $state<M | null>(null);
	error = $state<ApiError | null>(null);
	#controller: AbortController | null = null;
	#fetcher: Fetcher<T, M> | null = null;
	readonly #unavailable: (error: unknown) => boolean;

	constructor(options: { unavailable?: (error: unknown) => boolean } = {}) {
		this.#unavailable = options.unavailable ?? isUnavailable;
	}

	get loading(): boolean {
		return this.status === 'loading';
	}

	/** True once the first answer (of any kind) arrived. */
	get settled(): boolean {
		return this.status !== 'idle' && !(this.status === 'loading' && this.data === null && this.error === null);
	}

	async load(fetcher?: Fetcher<T, M>): Promise<void> {
		if (fetcher) this.#fetcher = fetcher;
		const run = this.#fetcher;
		if (!run) return;
		this.#controller?.abort();
		const controller = new AbortController();
		this.#controller = controller;
		this.status = 'loading';
		try {
			const result = await run(controller.signal);
			if (controller.signal.aborted) return;
			this.data = result.data;
			this.meta = result.meta;
			this.error = null;
			this.status = 'ready';
		} catch (err) {
			if (controller.signal.aborted) return;
			if (this.#unavailable(err)) {
				this.data = null;
				this.error = null;
				this.status = 'unavailable';
			} else {
				this.error = err instanceof ApiError ? err : new ApiError({ status: 0, code: 'UNKNOWN', detail: errorMessage(err) });
				this.status = 'error';
			}
		} finally {
			if (this.#controller === controller) this.#controller = null;
		}
	}

	reload(): Promise<void> {
		return this.load();
	}

	abort(): void {
		this.#controller?.abort();
		this.#controller = null;
	}
}
