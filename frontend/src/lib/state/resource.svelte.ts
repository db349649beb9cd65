/**
 * One remote read for a page section — the app's single loading pattern: loading, ready
 * or error (a 404 is an error like any other, shown with the server's Spanish detail). A new
 * load cancels the previous one, and the last data stays visible while a refresh runs
 * (tables dim instead of flashing).
 */
import { ApiError, errorMessage } from '$lib/api/errors';

export type ResourceStatus = 'idle' | 'loading' | 'ready' | 'error';

export type Fetcher<T, M> = (signal: AbortSignal) => Promise<{ data: T; meta: M }>;

export class Resource<T, M = Record<string, unknown>> {
	status = $state<ResourceStatus>('idle');
	data = $state<T | null>(null);
	meta = $state<M | null>(null);
	error = $state<ApiError | null>(null);
	#controller: AbortController | null = null;
	#fetcher: Fetcher<T, M> | null = null;

	get loading(): boolean {
		return this.status === 'loading';
	}

	/** True once the first answer (of any kind) arrived. */
	get settled(): boolean {
		return this.status !== 'idle' && !(this.status === 'loading' && this.data === null && this.error === null);
	}

	/** Failed with nothing to show: the section renders its error state instead of data. */
	get failed(): boolean {
		return this.status === 'error' && this.data === null;
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
			this.error = err instanceof ApiError ? err : new ApiError({ status: 0, code: 'UNKNOWN', detail: errorMessage(err) });
			this.status = 'error';
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
