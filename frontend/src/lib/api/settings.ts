/** Ajustes: settings by category, edit one value, "Probar conexión" per integration. */
import { request } from './client';

export type SettingType = 'string' | 'int' | 'bool' | 'url' | 'secret';
export type SettingSource = 'database' | 'environment' | 'default';

export interface Setting {
	key: string;
	label?: string | null;
	description?: string | null;
	/** Secrets arrive masked ("••••1234") or null. */
	value: string | null;
	is_secret?: boolean;
	source?: SettingSource | string | null;
	editable?: boolean;
	type?: SettingType | string | null;
}

export interface SettingCategory {
	category: string;
	label?: string | null;
	settings: Setting[];
}

export interface SettingsData {
	categories: SettingCategory[];
}

export const INTEGRATIONS = ['stripe', 'cloudflare', 'proxmox', 'odoo'] as const;
export type Integration = (typeof INTEGRATIONS)[number];

export interface ConnectionCheck {
	name: string;
	ok: boolean;
	message?: string | null;
}

export interface ConnectionTest {
	integration: string;
	ok: boolean;
	checks: ConnectionCheck[];
}

export const settingsApi = {
	list: (signal?: AbortSignal) => request<SettingsData>('GET', '/api/settings', { signal }),
	update: (key: string, value: string | null) =>
		request<Setting>('PUT', `/api/settings/${encodeURIComponent(key)}`, { body: { value } }),
	test: (integration: Integration) =>
		request<ConnectionTest>('POST', `/api/settings/test/${encodeURIComponent(integration)}`)
};
