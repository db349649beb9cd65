/** Brand colours for canvas drawing (Chart.js cannot read Tailwind classes). Same values as app.css; text uses the light primary tints. */
export const palette = {
	primary300: '#4d89b6',
	primary400: '#1a67a1',
	primary500: '#003b73',
	accent500: '#00ff9f',
	accent600: '#00cc7f',
	accent700: '#00995f',
	surfaceBorder: '#2f3640',
	surfaceHighlight: '#252b33',
	success: '#10b981',
	warning: '#f59e0b',
	error: '#ef4444',
	info: '#3b82f6',
	secondary: '#6c757d',
	text: '#e6eef5',
	textMuted: '#b3cde0'
} as const;
