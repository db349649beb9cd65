#!/usr/bin/env node
// Every call to the backend goes through the typed openapi-fetch client (`api` in
// src/lib/api/client.ts, paths and shapes from schema.d.ts). This fails on anything that
// would bypass it outside the transport layer: fetch(), XMLHttpRequest, EventSource, a
// plain `request(` helper, `new Request(` or a string literal naming an /api path that is
// not the first argument of api.GET/POST/PUT/PATCH/DELETE.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const srcDir = join(root, 'src');
const EXTENSIONS = /\.(svelte|ts|js)$/;
/** The transport layer itself: the client singletons and the bearer/refresh transport. */
const ALLOWED = new Set(['src/lib/api/client.ts', 'src/lib/api/transport.ts', 'src/lib/api/schema.d.ts']);

const RULES = [
	{ pattern: /(?<![\w.$])fetch\s*\(/g, why: 'direct fetch()' },
	{ pattern: /\bXMLHttpRequest\b/g, why: 'XMLHttpRequest' },
	{ pattern: /\bnew\s+EventSource\b/g, why: 'EventSource (use api.GET with parseAs: "stream")' },
	{ pattern: /\bnew\s+Request\s*\(/g, why: 'hand-built new Request(...)' },
	{ pattern: /(?<![\w.$])request\s*(?:<[^>()]*>)?\s*\(/g, why: 'untyped request() helper' },
	{ pattern: /\bcreateRequester\b/g, why: 'createRequester (untyped client)' },
	{ pattern: /\baxios\b/g, why: 'axios' }
];
/** An /api path in a string literal … */
const API_LITERAL = /(['"`])\/api\/[^'"`]*\1/g;
/** … is fine only as the path argument of the typed client, or as a type index `paths['/api/…']`. */
const TYPED_CALL = /(\bapi\.(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\(|\bpaths\[)\s*$/;

function walk(dir) {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		if (name.startsWith('.')) return [];
		return statSync(path).isDirectory() ? walk(path) : EXTENSIONS.test(name) ? [path] : [];
	});
}

/** Comments out of the way (keeping line numbers), so prose may name endpoints. */
function stripComments(text) {
	return text
		.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
		.replace(/<!--[\s\S]*?-->/g, (m) => m.replace(/[^\n]/g, ' '))
		.replace(/(^|[^:'"`\\])\/\/.*$/gm, (m, lead) => lead + ' '.repeat(m.length - lead.length));
}

const problems = [];
for (const file of walk(srcDir)) {
	const rel = relative(root, file);
	if (ALLOWED.has(rel) || /\.test\.ts$/.test(rel) || rel === 'src/lib/api/testing.ts') continue;
	const text = stripComments(readFileSync(file, 'utf8'));
	const lineOf = (index) => text.slice(0, index).split('\n').length;
	for (const { pattern, why } of RULES) {
		for (const m of text.matchAll(pattern)) problems.push(`${rel}:${lineOf(m.index)}: ${why}: ${m[0].trim()}`);
	}
	for (const m of text.matchAll(API_LITERAL)) {
		if (!TYPED_CALL.test(text.slice(Math.max(0, m.index - 40), m.index))) {
			problems.push(`${rel}:${lineOf(m.index)}: /api path outside the typed client: ${m[0]}`);
		}
	}
}

if (problems.length) {
	console.error(`lint-api: ${problems.length} API call(s) bypass the typed client (api in src/lib/api/client.ts):`);
	for (const p of problems) console.error(`  ${p}`);
	process.exit(1);
}
console.log('lint-api: every API call goes through the typed client');
