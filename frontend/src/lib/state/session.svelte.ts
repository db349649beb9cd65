/**
 * Who is logged in. Tokens live in the TokenStore (memory + sessionStorage); this class keeps
 * the user and role for the UI and runs login, logout, restore-on-reload and expiry.
 */
import type { TokenPair } from '$lib/api/tokens';
import type { Role, User } from '$lib/api/types';
import { ApiError } from '$lib/api/errors';

export interface SessionDeps {
	tokens: {
		readonly refresh: string | null;
		readonly hasSession: boolean;
		set(pair: TokenPair): void;
		clear(): void;
	};
	login(email: string, password: string): Promise<TokenPair>;
	me(): Promise<User>;
	logout(refreshToken: string | null): Promise<void>;
}

export type SessionStatus = 'unknown' | 'loading' | 'authenticated' | 'anonymous';

export const ROLE_LABELS: Record<Role, string> = {
	admin: 'Administrador',
	operator: 'Operador',
	viewer: 'Lector',
	customer: 'Cliente'
};

export class Session {
	user = $state<User | null>(null);
	status = $state<SessionStatus>('unknown');
	/** Why the user is back on the login page, shown there once. */
	notice = $state<string | null>(null);
	readonly #deps: SessionDeps;
	#restoring: Promise<void> | null = null;

	constructor(deps: SessionDeps) {
		this.#deps = deps;
	}

	get role(): Role | null {
		return this.user?.role ?? null;
	}

	get roleLabel(): string {
		return this.role ? ROLE_LABELS[this.role] : '';
	}

	get isAuthenticated(): boolean {
		return this.status === 'authenticated' && this.user !== null;
	}

	/** Operators and admins manage tenants; viewers read only. */
	get canOperate(): boolean {
		return this.role === 'operator' || this.role === 'admin';
	}

	get isAdmin(): boolean {
		return this.role === 'admin';
	}

	/** A customer's account: it sees only the portal (/portal), never an operator page. */
	get isCustomer(): boolean {
		return this.role === 'customer';
	}

	/** Where this user belongs after login: customers in the portal, staff in the panel. */
	get home(): string {
		return this.isCustomer ? '/portal' : '/';
	}

	/** On page load: if the tab holds tokens, find out who they belong to. Idempotent. */
	restore(): Promise<void> {
		if (this.status === 'authenticated' || this.status === 'anonymous') return Promise.resolve();
		if (!this.#restoring) {
			this.#restoring = this.#restore().finally(() => {
				this.#restoring = null;
			});
		}
		return this.#restoring;
	}

	async #restore(): Promise<void> {
		if (!this.#deps.tokens.hasSession) {
			this.status = 'anonymous';
			return;
		}
		this.status = 'loading';
		try {
			this.user = await this.#deps.me();
			this.status = 'authenticated';
		} catch (error) {
			if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
				this.#deps.tokens.clear();
			}
			// Unreachable server: tokens stay, so a reload once it is back resumes the session.
			this.user = null;
			this.status = 'anonymous';
		}
	}

	/** Throws ApiError (INVALID_CREDENTIALS, RATE_LIMITED, …) for the login form to show. */
	async login(email: string, password: string): Promise<User> {
		this.status = 'loading';
		try {
			const pair = await this.#deps.login(email.trim(), password);
			this.#deps.tokens.set(pair);
			const user = await this.#deps.me();
			this.user = user;
			this.status = 'authenticated';
			this.notice = null;
			return user;
		} catch (error) {
			this.#deps.tokens.clear();
			this.user = null;
			this.status = 'anonymous';
			throw error;
		}
	}

	/** Revokes the refresh token on the server when it can; ends the local session always. */
	async logout(): Promise<void> {
		const refresh = this.#deps.tokens.refresh;
		try {
			if (refresh) await this.#deps.logout(refresh);
		} catch {
			// Server unreachable or token already spent: the local session ends anyway.
		} finally {
			this.#deps.tokens.clear();
			this.user = null;
			this.status = 'anonymous';
		}
	}

	/** Called by the transport when the refresh token is refused. */
	expire(): void {
		this.user = null;
		this.status = 'anonymous';
		this.notice = 'Su sesión ha caducado. Inicie sesión de nuevo.';
	}
}
