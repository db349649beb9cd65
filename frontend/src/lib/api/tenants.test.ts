import { describe, expect, it } from 'vitest';
import { validateSubdomain } from './tenants';

describe('validateSubdomain', () => {
	it('accepts valid subdomains', () => {
		for (const ok of ['abc', 'acme-corp', 'a1b2', 'x'.repeat(63), '123']) {
			expect(validateSubdomain(ok), ok).toBeNull();
		}
	});
	it('explains each rule in Spanish', () => {
		expect(validateSubdomain('')).toBe('Indique un subdominio.');
		expect(validateSubdomain('ab')).toMatch(/al menos 3/);
		expect(validateSubdomain('x'.repeat(64))).toMatch(/63/);
		expect(validateSubdomain('Acme')).toMatch(/minúsculas/);
		expect(validateSubdomain('acmé')).toMatch(/minúsculas/);
		expect(validateSubdomain('a_b')).toMatch(/minúsculas/);
		expect(validateSubdomain('-acme')).toMatch(/guion/);
		expect(validateSubdomain('acme-')).toMatch(/guion/);
	});
});
