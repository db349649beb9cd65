#!/usr/bin/env node
// Budget: the JavaScript the browser must fetch before /login is interactive stays ≤ 150 KB
// gzip. Walks Vite's manifest from SvelteKit's two entries (start, app), the root layout
// node and the /login page node through their static imports (dynamic imports — charts,
// other routes — are not initial), gzips each file once and adds them up.
// Usage: npm run build && npm run check:bundle   [--route /login] [--budget-kb 150]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const args = process.argv.slice(2);
const option = (name, fallback) => {
	const i = args.indexOf(name);
	return i === -1 ? fallback : args[i + 1];
};
const route = option('--route', '/login');
const budgetKb = Number(option('--budget-kb', '150'));

const root = new URL('..', import.meta.url).pathname;
const clientDir = join(root, '.svelte-kit/output/client');
let manifest;
let appSource;
try {
	manifest = JSON.parse(readFileSync(join(clientDir, '.vite/manifest.json'), 'utf8'));
	appSource = readFileSync(join(root, '.svelte-kit/generated/client-optimized/app.js'), 'utf8');
} catch (error) {
	console.error(`check-bundle: no build output (${error.code ?? error.message}); run \`npm run build\` first.`);
	process.exit(2);
}

// dictionary: "/login": [10] or "/(app)/tenants": [8,[2]] → page node, layout nodes.
const routeIds = [...appSource.matchAll(/"([^"]+)":\s*\[(-?\d+)(?:,\s*\[([\d,\s-]*)\])?/g)].map((m) => ({
	id: m[1],
	page: Number(m[2]),
	layouts: (m[3] ?? '').split(',').filter(Boolean).map((n) => Math.abs(Number(n)))
}));
const match = routeIds.find((r) => (r.id.replace(/\/\([^)]+\)/g, '') || '/') === route || r.id === route);
if (!match) {
	console.error(`check-bundle: route ${route} not found among ${routeIds.map((r) => r.id).join(', ')}`);
	process.exit(2);
}

const nodeKey = (n) => `.svelte-kit/generated/client-optimized/nodes/${n}.js`;
const starts = [
	Object.keys(manifest).find((k) => manifest[k].isEntry && manifest[k].name === 'entry/start'),
	'.svelte-kit/generated/client-optimized/app.js',
	nodeKey(0),
	...match.layouts.map(nodeKey),
	nodeKey(match.page)
].filter(Boolean);

const seen = new Set();
const stack = [...starts];
while (stack.length) {
	const key = stack.pop();
	if (seen.has(key)) continue;
	if (!manifest[key]) {
		console.error(`check-bundle: ${key} missing from the Vite manifest`);
		process.exit(2);
	}
	seen.add(key);
	stack.push(...(manifest[key].imports ?? []));
}

let raw = 0;
let gzip = 0;
const rows = [];
for (const key of seen) {
	const file = manifest[key].file;
	const bytes = readFileSync(join(clientDir, file));
	const gz = gzipSync(bytes, { level: 9 }).length;
	raw += bytes.length;
	gzip += gz;
	rows.push([file, bytes.length, gz]);
}
rows.sort((a, b) => b[2] - a[2]);
const kb = (n) => (n / 1024).toFixed(1);
for (const [file, r, g] of rows) console.log(`${kb(g).padStart(7)} KB gz  ${kb(r).padStart(7)} KB  ${file}`);
console.log(`${route}: ${rows.length} JS files, ${kb(raw)} KB raw, ${kb(gzip)} KB gzip (budget ${budgetKb} KB)`);
if (gzip > budgetKb * 1024) {
	console.error(`check-bundle: FAIL — initial JS of ${route} is ${kb(gzip)} KB gzip, over ${budgetKb} KB`);
	process.exit(1);
}
console.log('check-bundle: ok');
