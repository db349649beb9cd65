import { describe, expect, it } from 'vitest';
import {
	EMPTY,
	currencyDigits,
	formatBytes,
	formatDate,
	formatDateTime,
	formatDuration,
	formatMonth,
	formatMonthLong,
	formatMilliseconds,
	formatMoney,
	formatNumber,
	formatPercent,
	formatRelative,
	formatTime
} from './format';

/** Intl puts non-breaking spaces before units; compare with plain spaces. */
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

describe('formatMoney', () => {
	it('formats minor units with es grouping and the currency after the amount', () => {
		expect(plain(formatMoney(123456, 'usd'))).toBe('1.234,56 US$');
		expect(plain(formatMoney(123456, 'EUR'))).toBe('1.234,56 €');
		expect(plain(formatMoney(999, 'usd'))).toBe('9,99 US$');
		expect(plain(formatMoney(0, 'usd'))).toBe('0,00 US$');
	});
	it('groups thousands even for four digits', () => {
		expect(plain(formatMoney(100000, 'usd'))).toBe('1.000,00 US$');
	});
	it('handles negative amounts and currencies without decimals', () => {
		expect(plain(formatMoney(-5050, 'eur'))).toBe('-50,50 €');
		expect(currencyDigits('JPY')).toBe(0);
		expect(plain(formatMoney(1500, 'jpy'))).toBe('1.500 JPY');
	});
	it('never signs zero ("-0,00 US$")', () => {
		expect(plain(formatMoney(-0, 'usd'))).toBe('0,00 US$');
		expect(plain(formatMoney(-0.4, 'usd'))).toBe('0,00 US$');
		expect(plain(formatMoney(-0, 'usd', { compact: true }))).not.toMatch(/^-/);
		expect(formatNumber(-0)).toBe('0');
		expect(plain(formatPercent(-0.0001))).toBe('0,0 %');
	});
	it('shows missing values as missing, never as zero', () => {
		expect(formatMoney(null, 'usd')).toBe(EMPTY);
		expect(formatMoney(100, null)).toBe(EMPTY);
		expect(formatMoney(Number.NaN, 'usd')).toBe(EMPTY);
	});
	it('has a compact form for chart axes', () => {
		expect(plain(formatMoney(1_250_000_00, 'usd', { compact: true }))).toMatch(/^1,3 M US\$$/);
	});
});

describe('formatNumber and formatPercent', () => {
	it('formats numbers the es way', () => {
		expect(formatNumber(1234.5)).toBe('1.234,5');
		expect(formatNumber(1234567)).toBe('1.234.567');
		expect(formatNumber(undefined)).toBe(EMPTY);
		expect(plain(formatMilliseconds(12.84))).toBe('12,8 ms');
		expect(formatMilliseconds(null)).toBe(EMPTY);
	});
	it('turns API fractions into percentages', () => {
		expect(plain(formatPercent(0.125))).toBe('12,5 %');
		expect(plain(formatPercent(1))).toBe('100,0 %');
		expect(plain(formatPercent(0.03456, { digits: 2 }))).toBe('3,46 %');
		expect(plain(formatPercent(0.02, { signed: true }))).toBe('+2,0 %');
		expect(plain(formatPercent(-0.02, { signed: true }))).toBe('-2,0 %');
		expect(formatPercent(null)).toBe(EMPTY);
	});
});

describe('dates and times', () => {
	const instant = '2026-11-24T14:05:09Z';
	it('prints dates as "24 nov 2026"', () => {
		expect(formatDate(instant, 'UTC')).toBe('24 nov 2026');
		expect(formatDate('2026-01-02T00:00:00Z', 'UTC')).toBe('2 ene 2026');
		expect(formatDate('not a date')).toBe(EMPTY);
		expect(formatDate(null)).toBe(EMPTY);
	});
	it('uses a 24-hour clock', () => {
		expect(formatTime(instant, { timeZone: 'UTC' })).toBe('14:05');
		expect(formatTime('2026-11-24T00:05:00Z', { timeZone: 'UTC' })).toBe('00:05');
		expect(formatTime(instant, { seconds: true, timeZone: 'UTC' })).toBe('14:05:09');
	});
	it('joins date and time', () => {
		expect(formatDateTime(instant, 'UTC')).toBe('24 nov 2026, 14:05');
	});
	it('formats month keys in full for pickers', () => {
		expect(formatMonthLong('2026-12')).toBe('diciembre de 2026');
		expect(formatMonthLong('bad')).toBe(EMPTY);
	});
	it('formats month keys', () => {
		expect(formatMonth('2026-11')).toBe('nov 2026');
		expect(formatMonth('bad')).toBe(EMPTY);
	});
});

describe('formatRelative', () => {
	const now = new Date('2026-11-24T12:00:00Z');
	const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);
	it('speaks of recent instants in Spanish', () => {
		expect(formatRelative(ago(10), now)).toBe('hace unos segundos');
		expect(plain(formatRelative(ago(5 * 60), now))).toBe('hace 5 min');
		expect(plain(formatRelative(ago(2 * 3600), now))).toBe('hace 2 h');
		expect(formatRelative(ago(86400), now)).toBe('ayer');
		expect(formatRelative(ago(3 * 86400), now)).toBe('hace 3 días');
	});
	it('handles the future and old dates', () => {
		expect(plain(formatRelative(new Date(now.getTime() + 5 * 60_000), now))).toBe('dentro de 5 min');
		expect(formatRelative(ago(90 * 86400), now)).toMatch(/^\d{1,2} \w+ 2026$/);
		expect(formatRelative(undefined, now)).toBe(EMPTY);
	});
});

describe('formatBytes and formatDuration', () => {
	it('uses binary units with es decimals', () => {
		expect(formatBytes(512)).toBe('512 B');
		expect(formatBytes(1536)).toBe('1,5 KiB');
		expect(formatBytes(5 * 1024 ** 3)).toBe('5 GiB');
		expect(formatBytes(1.25 * 1024 ** 4)).toBe('1,3 TiB');
		expect(formatBytes(null)).toBe(EMPTY);
	});
	it('prints durations', () => {
		expect(formatDuration(850)).toBe('850 ms');
		expect(formatDuration(12_000)).toBe('12 s');
		expect(formatDuration(65_000)).toBe('1 min 5 s');
		expect(formatDuration(120_000)).toBe('2 min');
		expect(formatDuration(3_720_000)).toBe('1 h 2 min');
		expect(formatDuration(-1)).toBe(EMPTY);
	});
});
