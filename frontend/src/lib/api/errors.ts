/**
 * The API's error envelope `{success:false, error, detail, fields}` as a typed exception.
 * `detail` is already Spanish and written for people, so toasts show it as is; when a
 * response is not an envelope (a proxy's HTML 502, a dropped connection) a Spanish
 * sentence for the status takes its place.
 */

export interface FieldError {
	field: string;
	message: string;
}

export interface ErrorEnvelope {
	success: false;
	error: string;
	detail: string;
	fields?: FieldError[] | null;
}

/** Codes the UI reacts to; the backend may send others (`TENANT_NOT_FOUND`, …). */
export type KnownErrorCode =
	| 'NETWORK_ERROR'
	| 'UNAUTHORIZED'
	| 'INVALID_CREDENTIALS'
	| 'SESSION_EXPIRED'
	| 'FORBIDDEN'
	| 'NOT_FOUND'
	| 'CONFLICT'
	| 'VALIDATION_ERROR'
	| 'RATE_LIMITED'
	| 'INTERNAL_ERROR'
	| 'SERVICE_UNAVAILABLE'
	| 'UNEXPECTED_RESPONSE';

export const STATUS_MESSAGES: Record<number, { code: KnownErrorCode; detail: string }> = {
	0: {
		code: 'NETWORK_ERROR',
		detail: 'No se pudo conectar con el servidor. Compruebe la conexión e inténtelo de nuevo.'
	},
	400: { code: 'UNEXPECTED_RESPONSE', detail: 'La solicitud no es válida.' },
	401: { code: 'UNAUTHORIZED', detail: 'Su sesión no es válida. Inicie sesión de nuevo.' },
	403: { code: 'FORBIDDEN', detail: 'No tiene permiso para realizar esta acción.' },
	404: { code: 'NOT_FOUND', detail: 'El recurso solicitado no existe.' },
	409: { code: 'CONFLICT', detail: 'La operación entra en conflicto con el estado actual.' },
	422: { code: 'VALIDATION_ERROR', detail: 'Revise los datos del formulario.' },
	429: {
		code: 'RATE_LIMITED',
		detail: 'Demasiados intentos. Espere un momento antes de volver a intentarlo.'
	},
	500: { code: 'INTERNAL_ERROR', detail: 'Error interno del servidor. Inténtelo de nuevo más tarde.' },
	502: { code: 'SERVICE_UNAVAILABLE', detail: 'El servidor no está disponible en este momento.' },
	503: { code: 'SERVICE_UNAVAILABLE', detail: 'El servicio no está disponible en este momento.' },
	504: { code: 'SERVICE_UNAVAILABLE', detail: 'El servidor tardó demasiado en responder.' }
};

function fallbackFor(status: number): { code: KnownErrorCode | string; detail: string } {
	const known = STATUS_MESSAGES[status];
	if (known) return known;
	if (status >= 500) return STATUS_MESSAGES[500]!;
	return { code: 'UNEXPECTED_RESPONSE', detail: `Respuesta inesperada del servidor (${status}).` };
}

export class ApiError extends Error {
	override readonly name = 'ApiError';
	readonly status: number;
	readonly code: string;
	readonly detail: string;
	readonly fields: FieldError[];
	readonly requestId: string | null;
	/** Seconds the server asked us to wait (429), when it said. */
	readonly retryAfter: number | null;

	constructor(init: {
		status: number;
		code: string;
		detail: string;
		fields?: FieldError[] | null;
		requestId?: string | null;
		retryAfter?: number | null;
	}) {
		super(init.detail);
		this.status = init.status;
		this.code = init.code;
		this.detail = init.detail;
		this.fields = init.fields ?? [];
		this.requestId = init.requestId ?? null;
		this.retryAfter = init.retryAfter ?? null;
	}

	/** The message of a field (`subdomain`), for inline form errors on 422. */
	fieldMessage(field: string): string | undefined {
		return this.fields.find((f) => f.field === field || f.field.endsWith(`.${field}`))?.message;
	}

	get isNetwork(): boolean {
		return this.status === 0;
	}
}

export function isErrorEnvelope(body: unknown): body is ErrorEnvelope {
	if (typeof body !== 'object' || body === null) return false;
	const candidate = body as Record<string, unknown>;
	return (
		candidate.success === false &&
		typeof candidate.error === 'string' &&
		typeof candidate.detail === 'string'
	);
}

function parseRetryAfter(headers: Headers | undefined): number | null {
	const raw = headers?.get('Retry-After');
	if (!raw) return null;
	const seconds = Number(raw);
	return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds) : null;
}

/** Turns a failed response (status + parsed body + headers) into an ApiError. */
export function toApiError(status: number, body: unknown, headers?: Headers): ApiError {
	const requestId = headers?.get('X-Request-ID') ?? null;
	const retryAfter = parseRetryAfter(headers);
	if (isErrorEnvelope(body)) {
		const fields = Array.isArray(body.fields)
			? body.fields.filter(
					(f): f is FieldError =>
						typeof f === 'object' && f !== null && typeof f.field === 'string' && typeof f.message === 'string'
				)
			: [];
		return new ApiError({
			status,
			code: body.error,
			detail: body.detail.trim() || fallbackFor(status).detail,
			fields,
			requestId,
			retryAfter
		});
	}
	const fallback = fallbackFor(status);
	let detail = fallback.detail;
	if (status === 429 && retryAfter) {
		detail = `Demasiados intentos. Espere ${retryAfter} s antes de volver a intentarlo.`;
	}
	return new ApiError({ status, code: fallback.code, detail, requestId, retryAfter });
}

/** A fetch that never reached the server (offline, DNS, CORS, aborted). */
export function networkError(cause?: unknown): ApiError {
	const error = toApiError(0, null);
	if (cause !== undefined) (error as { cause?: unknown }).cause = cause;
	return error;
}

/** Any thrown value as a Spanish sentence for a toast. */
export function errorMessage(error: unknown): string {
	if (error instanceof ApiError) return error.detail;
	if (error instanceof DOMException && error.name === 'AbortError') return 'La operación se canceló.';
	return 'Se produjo un error inesperado. Inténtelo de nuevo.';
}

/** Reads a Response's body as JSON when it is JSON, else null (HTML error pages). */
export async function readJson(response: Response): Promise<unknown> {
	const type = response.headers.get('Content-Type') ?? '';
	if (!type.includes('json')) return null;
	try {
		return await response.json();
	} catch {
		return null;
	}
}
