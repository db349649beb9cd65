import { sveltekit } from '@sveltejs/kit/vite';
import tailwindcss from '@tailwindcss/vite';
import { defineConfig } from 'vitest/config';

// In `npm run dev`, /api goes to the backend (erp-core serve listens on 4443 by default).
const apiTarget = process.env.API_PROXY_TARGET ?? 'http://127.0.0.1:4443';

export default defineConfig({
	plugins: [tailwindcss(), sveltekit()],
	server: {
		proxy: { '/api': { target: apiTarget, changeOrigin: false } }
	},
	build: {
		// Lets scripts/check-bundle.mjs follow the login page's static imports.
		manifest: true
	},
	test: {
		include: ['src/**/*.test.ts'],
		environment: 'node'
	}
});
