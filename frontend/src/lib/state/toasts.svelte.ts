/** Short-lived notifications ("Tenant suspendido", API errors in Spanish). */
import { errorMessage } from '$lib/api/errors';

export type ToastKind = 'success' | 'error' | 'info' | 'warning';

export interface Toast {
	id: number;
	kind: ToastKind;
	message: string;
}

const DEFAULT_TIMEOUT: Record<ToastKind, number> = {
	success: 4000,
	info: 5000,
	warning: 7000,
	error: 8000
};

export class Toasts {
	items = $state<Toast[]>([]);
	#next = 1;
	#timers = new Map<number, ReturnType<typeof setTimeout>>();
	readonly max: number;

	constructor(max = 5) {
		this.max = max;
	}

	/** Adds a toast; timeout 0 keeps it until dismissed. Returns its id. */
	push(kind: ToastKind, message: string, timeout = DEFAULT_TIMEOUT[kind]): number {
		const id = this.#next++;
		// The same message twice in a row (a double click) shows once.
		const last = this.items.at(-1);
		if (last && last.kind === kind && last.message === message) this.dismiss(last.id);
		this.items = [...this.items, { id, kind, message }];
		while (this.items.length > this.max) this.dismiss(this.items[0]!.id);
		if (timeout > 0) this.#timers.set(id, setTimeout(() => this.dismiss(id), timeout));
		return id;
	}

	success(message: string): number {
		return this.push('success', message);
	}

	info(message: string): number {
		return this.push('info', message);
	}

	warning(message: string): number {
		return this.push('warning', message);
	}

	/** Accepts an ApiError (shows its Spanish detail), any thrown value, or a sentence. */
	error(error: unknown): number {
		return this.push('error', typeof error === 'string' ? error : errorMessage(error));
	}

	dismiss(id: number): void {
		const timer = this.#timers.get(id);
		if (timer) clearTimeout(timer);
		this.#timers.delete(id);
		this.items = this.items.filter((toast) => toast.id !== id);
	}

	clear(): void {
		for (const toast of this.items) this.dismiss(toast.id);
	}
}
