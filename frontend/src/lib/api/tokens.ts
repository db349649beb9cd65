/**
 * The session's tokens. The access token lives in memory only (never in web storage); the
 * refresh token lives in an httpOnly, SameSite=Strict cookie scoped to /api/auth that no
 * script can read (see docs/api-conventions.md, "Sesión del navegador"). A new tab or a reload
 * therefore starts with no access token and restores the session with one POST
 * /api/auth/refresh, which the browser sends with the cookie.
 *
 * The only thing kept in storage is a non-secret hint ("this browser logged in"), so a fresh
 * tab knows a refresh is worth trying instead of showing the login page at once.
 */

export interface TokenPair {
	access_token: string;
	refresh_token: string;
	expires_in: number;
}

export type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** Stands for "the refresh token is in the cookie" when this tab never saw the real one. */
export const COOKIE_SESSION = 'cookie';

const HINT_KEY = 'jc.session';
const LEGACY_KEYS = ['jc.access_token', 'jc.refresh_token', 'jc.access_expires_at'];

export class TokenStore {
	#access: string | null = null;
	#refresh: string | null = null;
	#expiresAt: number | null = null;
	readonly #storage: StorageLike | null;

	constructor(storage: StorageLike | null) {
		this.#storage = storage;
		// Tokens written by older builds must not linger in storage.
		for (const key of LEGACY_KEYS) this.#write(key, null);
		if (this.#read(HINT_KEY) === '1') this.#refresh = COOKIE_SESSION;
	}

	get access(): string | null {
		return this.#access;
	}

	/**
	 * The refresh token of the last login/refresh in this tab (kept in memory, only for
	 * logout), COOKIE_SESSION when the session came from the cookie, null when logged out.
	 * The transport never sends it: refreshes always go by cookie, so tabs never race with
	 * stale copies (a spent token revokes the whole family).
	 */
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
		this.#refresh = pair.refresh_token || COOKIE_SESSION;
		this.#expiresAt = pair.expires_in > 0 ? now + pair.expires_in * 1000 : null;
		this.#write(HINT_KEY, '1');
	}

	clear(): void {
		this.#access = null;
		this.#refresh = null;
		this.#expiresAt = null;
		this.#write(HINT_KEY, null);
	}

	#read(key: string): string | null {
		try {
			return this.#storage?.getItem(key) ?? null;
		} catch {
			return null; // storage disabled (privacy mode): this tab only
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

/** The browser's localStorage (shared by its tabs), or nothing outside a browser. */
export function browserSessionStorage(): StorageLike | null {
	try {
		if (typeof sessionStorage !== 'undefined') {
			for (const key of LEGACY_KEYS) sessionStorage.removeItem(key); // older builds kept tokens here
		}
		return typeof localStorage === 'undefined' ? null : localStorage;
	} catch {
		return null;
	}
}
