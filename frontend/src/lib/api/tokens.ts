/**
 * Where the session's tokens live: in memory for speed and in sessionStorage so a reload of
 * the tab keeps the session (a new tab or a closed browser starts from the login page).
 */

export interface TokenPair {
	access_token: string;
	refresh_token: string;
	expires_in: number;
}

export type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

const ACCESS_KEY = 'jc.access_token';
const REFRESH_KEY = 'jc.refresh_token';
const EXPIRES_KEY = 'jc.access_expires_at';

export class TokenStore {
	#access: string | null = null;
	#refresh: string | null = null;
	#expiresAt: number | null = null;
	readonly #storage: StorageLike | null;

	constructor(storage: StorageLike | null) {
		this.#storage = storage;
		this.#access = this.#read(ACCESS_KEY);
		this.#refresh = this.#read(REFRESH_KEY);
		const expires = Number(this.#read(EXPIRES_KEY));
		this.#expiresAt = Number.isFinite(expires) && expires > 0 ? expires : null;
	}

	get access(): string | null {
		return this.#access;
	}

	get refresh(): string | null {
		return this.#refresh;
	}

	/** Epoch milliseconds at which the access token expires, when the server said. */
	get expiresAt(): number | null {
		return this.#expiresAt;
	}

	get hasSession(): boolean {
		return this.#refresh !== null || this.#access !== null;
	}

	set(pair: TokenPair, now: number = Date.now()): void {
		this.#access = pair.access_token;
		this.#refresh = pair.refresh_token;
		this.#expiresAt = pair.expires_in > 0 ? now + pair.expires_in * 1000 : null;
		this.#write(ACCESS_KEY, this.#access);
		this.#write(REFRESH_KEY, this.#refresh);
		this.#write(EXPIRES_KEY, this.#expiresAt === null ? null : String(this.#expiresAt));
	}

	clear(): void {
		this.#access = null;
		this.#refresh = null;
		this.#expiresAt = null;
		for (const key of [ACCESS_KEY, REFRESH_KEY, EXPIRES_KEY]) this.#write(key, null);
	}

	#read(key: string): string | null {
		try {
			return this.#storage?.getItem(key) ?? null;
		} catch {
			return null; // storage disabled (privacy mode): memory only
		}
	}

	#write(key: string, value: string | null): void {
		try {
			if (value === null) this.#storage?.removeItem(key);
			else this.#storage?.setItem(key, value);
		} catch {
			// storage full or disabled: the session still works for this page's life
		}
	}
}

/** The tab's sessionStorage, or nothing outside a browser (unit tests, prerender). */
export function browserSessionStorage(): StorageLike | null {
	try {
		return typeof sessionStorage === 'undefined' ? null : sessionStorage;
	} catch {
		return null;
	}
}
