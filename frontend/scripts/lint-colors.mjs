#!/usr/bin/env node
// Brand rule from the seed, enforced: no purple/violet/pink/rose/fuchsia (nor the deprecated
// cyan/teal) Tailwind classes anywhere in src/, and no raw colour — hex, rgb(), hsl() —
// that is not one of the palette's values declared in src/app.css's @theme block.
// #8F00FF (innovation) is in the palette, for rare "innovation" badges only.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const srcDir = join(root, 'src');
const EXTENSIONS = /\.(svelte|ts|js|css|html)$/;

const FORBIDDEN_CLASS =
	/(?<![\w-])(?:[\w[\]&:>*-]+:)?[a-z]+(?:-[a-z]+)*-(purple|violet|pink|rose|fuchsia|cyan|teal)-(\d{2,3})(?:\/\d+)?(?![\w-])/g;
const HEX = /(?<![\w&/])#([0-9a-fA-F]{8}|[0-9a-fA-F]{6}|[0-9a-fA-F]{4}|[0-9a-fA-F]{3})(?![\w-])/g;
const RGB = /rgba?\(\s*(\d{1,3})[\s,]+(\d{1,3})[\s,]+(\d{1,3})/g;
const HSL = /hsla?\(/g;
const NAMED = new Set(['#fff', '#ffffff', '#000', '#000000']);

function walk(dir) {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		if (name.startsWith('.')) return [];
		return statSync(path).isDirectory() ? walk(path) : EXTENSIONS.test(name) ? [path] : [];
	});
}

function normalise(hex) {
	let h = hex.toLowerCase().replace('#', '');
	if (h.length === 3 || h.length === 4) h = [...h].map((c) => c + c).join('');
	return `#${h.slice(0, 6)}`;
}

const css = readFileSync(join(srcDir, 'app.css'), 'utf8');
const theme = css.match(/@theme[^{]*\{([\s\S]*?)\n\}/)?.[1] ?? '';
const palette = new Set([...theme.matchAll(/--color-[\w-]+:\s*(#[0-9a-fA-F]{3,8})/g)].map((m) => normalise(m[1])));
for (const hex of NAMED) palette.add(normalise(hex));
if (palette.size < 20) {
	console.error('lint-colors: could not read the palette from src/app.css @theme');
	process.exit(2);
}

const problems = [];
for (const file of walk(srcDir)) {
	const rel = relative(root, file);
	const lines = readFileSync(file, 'utf8').split('\n');
	lines.forEach((line, index) => {
		const where = `${rel}:${index + 1}`;
		if (/^\s*(\/\/|\*|\/\*)/.test(line)) return; // comments may name the rule they explain
		for (const m of line.matchAll(FORBIDDEN_CLASS)) {
			problems.push(`${where}  forbidden colour class "${m[0]}" (${m[1]} is not a Jeturing colour)`);
		}
		for (const m of line.matchAll(HEX)) {
			if (line.slice(Math.max(0, m.index - 6), m.index).includes('href=')) continue;
			if (!palette.has(normalise(m[0]))) problems.push(`${where}  raw colour ${m[0]} is not in the palette`);
		}
		for (const m of line.matchAll(RGB)) {
			const hex = `#${[m[1], m[2], m[3]].map((n) => Number(n).toString(16).padStart(2, '0')).join('')}`;
			if (!palette.has(hex)) problems.push(`${where}  raw colour ${m[0]}…) (${hex}) is not in the palette`);
		}
		for (const _ of line.matchAll(HSL)) problems.push(`${where}  hsl() colour: use a palette token`);
	});
}

if (problems.length) {
	console.error(problems.join('\n'));
	console.error(`lint-colors: ${problems.length} problem(s). Use the palette tokens (primary-*, accent-*, surface-*, success/warning/error/info).`);
	process.exit(1);
}
console.log(`lint-colors: ok (${palette.size} palette colours)`);
