/**
 * Spanish (es-ES) formatting for everything the UI prints: money, numbers, rates, dates,
 * times, relative times and sizes. Every formatter accepts null/undefined and prints "—",
 * so a missing figure is shown as missing, never as a zero.
 */

export const LOCALE = 'es-ES';
export const EMPTY = '—';

type Maybe<T> = T | null | undefined;
type DateInput = Date | string | number;

const numberFormats = new Map<string, Intl.NumberFormat>();

function numberFormat(options: Intl.NumberFormatOptions): Intl.NumberFormat {
	const key = JSON.stringify(options);
	let format = numberFormats.get(key);
	if (!format) {
		// es-ES leaves 4-digit numbers ungrouped ("1234"); the UI groups always ("1.234").
		// signDisplay 'negative': zero (and −0, or a value rounding to zero) has no sign,
		// so a month without movement never reads "-0,00 US$".
		format = new Intl.NumberFormat(LOCALE, { useGrouping: 'always', signDisplay: 'negative', ...options });
		numberFormats.set(key, format);
	}
	return format;
}

function isNumber(value: Maybe<number>): value is number {
	return typeof value === 'number' && Number.isFinite(value);
}

/** Digits after the decimal point of a currency (USD 2, JPY 0, KWD 3). */
export function currencyDigits(currency: string): number {
	return numberFormat({ style: 'currency', currency: currency.toUpperCase() }).resolvedOptions()
		.maximumFractionDigits ?? 2;
}

/**
 * Money as the API sends it: an integer of minor units (cents) plus the ISO currency code.
 * `formatMoney(123456, 'usd')` → "1.234,56 US$".
 */
export function formatMoney(
	minor: Maybe<number>,
	currency: Maybe<string>,
	options: { compact?: boolean } = {}
): string {
	if (!isNumber(minor) || !currency) return EMPTY;
	const code = currency.toUpperCase();
	const digits = currencyDigits(code);
	const major = minor / 10 ** digits;
	if (options.compact) {
		return numberFormat({
			style: 'currency',
			currency: code,
			notation: 'compact',
			maximumFractionDigits: 1
		}).format(major);
	}
	return numberFormat({
		style: 'currency',
		currency: code,
		minimumFractionDigits: digits,
		maximumFractionDigits: digits
	}).format(major);
}

/** Plain numbers: `formatNumber(1234.5)` → "1.234,5". */
export function formatNumber(value: Maybe<number>, maximumFractionDigits = 2): string {
	if (!isNumber(value)) return EMPTY;
	return numberFormat({ maximumFractionDigits }).format(value);
}

/** A latency or duration in milliseconds, one decimal, es style: "12,8 ms". */
export function formatMilliseconds(value: Maybe<number>): string {
	if (!isNumber(value)) return EMPTY;
	return `${formatNumber(value, 1)}\u00a0ms`;
}

/**
 * Rates arrive as fractions (0.125); the screen shows "12,5 %".
 * `signed` prints "+2,0 %" for variations.
 */
export function formatPercent(
	fraction: Maybe<number>,
	options: { digits?: number; signed?: boolean } = {}
): string {
	if (!isNumber(fraction)) return EMPTY;
	const digits = options.digits ?? 1;
	return numberFormat({
		style: 'percent',
		minimumFractionDigits: digits,
		maximumFractionDigits: digits,
		signDisplay: options.signed ? 'exceptZero' : 'negative'
	}).format(fraction);
}

function toDate(value: DateInput): Date | null {
	const date = value instanceof Date ? value : new Date(value);
	return Number.isNaN(date.getTime()) ? null : date;
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

function dateFormat(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
	const key = JSON.stringify(options);
	let format = dateFormats.get(key);
	if (!format) {
		format = new Intl.DateTimeFormat(LOCALE, options);
		dateFormats.set(key, format);
	}
	return format;
}

/** "24 nov 2026" (no trailing dot on the month, whatever the ICU version says). */
export function formatDate(value: Maybe<DateInput>, timeZone?: string): string {
	const date = value == null ? null : toDate(value);
	if (!date) return EMPTY;
	return dateFormat({ day: 'numeric', month: 'short', year: 'numeric', timeZone })
		.format(date)
		.replace('.', '');
}

/** 24-hour clock: "14:05"; `seconds` adds ":09". */
export function formatTime(
	value: Maybe<DateInput>,
	options: { seconds?: boolean; timeZone?: string } = {}
): string {
	const date = value == null ? null : toDate(value);
	if (!date) return EMPTY;
	return dateFormat({
		hour: '2-digit',
		minute: '2-digit',
		second: options.seconds ? '2-digit' : undefined,
		hourCycle: 'h23',
		timeZone: options.timeZone
	}).format(date);
}

/** "24 nov 2026, 14:05". */
export function formatDateTime(value: Maybe<DateInput>, timeZone?: string): string {
	const date = value == null ? null : toDate(value);
	if (!date) return EMPTY;
	return `${formatDate(date, timeZone)}, ${formatTime(date, { timeZone })}`;
}

/** A month key from the API ("2026-11") as "nov 2026". */
export function formatMonth(month: Maybe<string>): string {
	if (!month || !/^\d{4}-\d{2}$/.test(month)) return EMPTY;
	const date = new Date(`${month}-01T00:00:00Z`);
	return dateFormat({ month: 'short', year: 'numeric', timeZone: 'UTC' })
		.format(date)
		.replace('.', '');
}

/** "noviembre de 2026": a month in full, for month pickers. */
export function formatMonthLong(month: Maybe<string>): string {
	if (!month || !/^\d{4}-\d{2}$/.test(month)) return EMPTY;
	return dateFormat({ month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${month}-01T00:00:00Z`));
}

const relativeShort = new Intl.RelativeTimeFormat(LOCALE, { numeric: 'auto', style: 'short' });
const relativeLong = new Intl.RelativeTimeFormat(LOCALE, { numeric: 'auto', style: 'long' });

/**
 * "hace 5 min", "hace 2 h", "ayer", "hace 3 días"; older than 30 days falls back to the date.
 * Future instants read "dentro de 5 min".
 */
export function formatRelative(value: Maybe<DateInput>, now: DateInput = Date.now()): string {
	const date = value == null ? null : toDate(value);
	const reference = toDate(now);
	if (!date || !reference) return EMPTY;
	const seconds = Math.round((date.getTime() - reference.getTime()) / 1000);
	const abs = Math.abs(seconds);
	if (abs < 45) return seconds <= 0 ? 'hace unos segundos' : 'en unos segundos';
	if (abs < 3600) return relativeShort.format(Math.round(seconds / 60), 'minute');
	if (abs < 86400) return relativeShort.format(Math.round(seconds / 3600), 'hour');
	if (abs < 30 * 86400) return relativeLong.format(Math.round(seconds / 86400), 'day');
	return formatDate(date);
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** Sizes in binary units, as Proxmox and disks report them: 1536 → "1,5 KiB". */
export function formatBytes(bytes: Maybe<number>, maximumFractionDigits = 1): string {
	if (!isNumber(bytes)) return EMPTY;
	let value = Math.abs(bytes);
	let unit = 0;
	while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
		value /= 1024;
		unit += 1;
	}
	const sign = bytes < 0 ? '-' : '';
	const digits = unit === 0 ? 0 : maximumFractionDigits;
	return `${sign}${numberFormat({ maximumFractionDigits: digits }).format(value)} ${BYTE_UNITS[unit]}`;
}

/** Durations of jobs and steps: 850 ms → "850 ms", 65 s → "1 min 5 s". */
export function formatDuration(milliseconds: Maybe<number>): string {
	if (!isNumber(milliseconds) || milliseconds < 0) return EMPTY;
	if (milliseconds < 1000) return `${Math.round(milliseconds)} ms`;
	const totalSeconds = Math.round(milliseconds / 1000);
	if (totalSeconds < 60) return `${totalSeconds} s`;
	const hours = Math.floor(totalSeconds / 3600);
	const minutes = Math.floor((totalSeconds % 3600) / 60);
	const seconds = totalSeconds % 60;
	if (hours > 0) return `${hours} h ${minutes} min`;
	return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
}
