/** Editing one setting: what the form shows, what it validates and what it sends. */
import { INTEGRATIONS, type Integration, type Setting } from './api/settings';

export const SOURCE_LABELS: Record<Setting['source'], { label: string; hint: string }> = {
	database: { label: 'Base de datos', hint: 'Guardado desde Ajustes; tiene prioridad sobre el entorno.' },
	environment: { label: 'Entorno', hint: 'Definido en una variable de entorno del servidor.' },
	default: { label: 'Por defecto', hint: 'Valor por defecto de la aplicación.' }
};

export const INTEGRATION_LABELS: Record<Integration, string> = {
	stripe: 'Stripe',
	cloudflare: 'Cloudflare',
	proxmox: 'Proxmox',
	odoo: 'Odoo'
};

/** The integration a settings category can test, if any ("stripe", "cloudflare", …). */
export function integrationOf(category: string): Integration | null {
	const name = category.toLowerCase();
	return (INTEGRATIONS as readonly string[]).includes(name) ? (name as Integration) : null;
}

export function settingType(setting: Setting): 'string' | 'int' | 'bool' | 'url' | 'secret' {
	if (setting.is_secret || setting.type === 'secret') return 'secret';
	if (setting.type === 'int' || setting.type === 'bool' || setting.type === 'url') return setting.type;
	return 'string';
}

/** The form's starting value: secrets start empty (write-only), bools as "true"/"false". */
export function initialInput(setting: Setting): string {
	const type = settingType(setting);
	if (type === 'secret') return '';
	if (type === 'bool') return isTrue(setting.value) ? 'true' : 'false';
	return setting.value ?? '';
}

export function isTrue(value: string | null | undefined): boolean {
	return ['true', '1', 'yes', 'on', 'sí', 'si'].includes((value ?? '').trim().toLowerCase());
}

/** A Spanish message when the input cannot be saved, else null. */
export function validateSetting(setting: Setting, input: string): string | null {
	const type = settingType(setting);
	const value = input.trim();
	if (type === 'secret' || value === '') return null;
	if (type === 'int' && !/^-?\d+$/.test(value)) return 'Indique un número entero.';
	if (type === 'url') {
		try {
			const url = new URL(value);
			if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'La URL debe empezar por http:// o https://.';
		} catch {
			return 'Indique una URL completa, p. ej. https://ejemplo.com.';
		}
	}
	return null;
}

/**
 * The body value for PUT /api/settings/{key}, or `undefined` when nothing changes: an empty
 * secret means "keep the current one"; an unchanged plain value is not sent either. An
 * emptied plain value is sent as null (back to the environment or default).
 */
export function settingPayload(setting: Setting, input: string): string | null | undefined {
	const type = settingType(setting);
	const value = type === 'secret' ? input : input.trim();
	if (type === 'secret') return value === '' ? undefined : value;
	if (value === (initialInput(setting) ?? '').trim()) return undefined;
	return value === '' ? null : value;
}

/** How a value is shown read-only: secrets as they came (masked), bools in words. */
export function displayValue(setting: Setting): string {
	if (setting.value == null || setting.value === '') return '—';
	if (settingType(setting) === 'bool') return isTrue(setting.value) ? 'Sí' : 'No';
	return setting.value;
}
