/** Ajustes: settings by category, edit one value, "Probar conexión" per integration. */
import { api, unwrap } from './client';
import type { paths } from './schema';
import type { ConnectionTest, Setting, SettingsData } from './types';

export type { ConnectionCheck, ConnectionTest, Setting, SettingCategory, SettingsData } from './types';

export type Integration = paths['/api/settings/test/{integration}']['post']['parameters']['path']['integration'];
export const INTEGRATIONS = ['stripe', 'cloudflare', 'proxmox', 'odoo'] as const satisfies readonly Integration[];
export type SettingType = Setting['type'];
export type SettingSource = Setting['source'];

export const settingsApi = {
	list: (signal?: AbortSignal) => unwrap<SettingsData>(api.GET('/api/settings', { signal })),
	update: (key: string, value: string | null) =>
		unwrap<Setting>(api.PUT('/api/settings/{key}', { params: { path: { key } }, body: { value } })),
	/** Drops the stored override (DELETE): the environment's or the built-in value applies again. */
	restoreDefault: (key: string) => unwrap<Setting>(api.DELETE('/api/settings/{key}', { params: { path: { key } } })),
	test: (integration: Integration) =>
		unwrap<ConnectionTest>(api.POST('/api/settings/test/{integration}', { params: { path: { integration } } }))
};
