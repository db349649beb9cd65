// A pure SPA: FastAPI serves build/index.html for every route; data comes from /api at run time.
export const ssr = false;
export const prerender = false;
