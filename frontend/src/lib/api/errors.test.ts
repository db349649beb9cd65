import { describe, expect, it } from 'vitest';
import { ApiError, errorMessage, isErrorEnvelope, networkError, toApiError } from './errors';

describe('toApiError', () => {
	it('keeps the envelope code and Spanish detail', () => {
		const headers = new Headers({ 'X-Request-ID': 'req-1' });
		const error = toApiError(
			404,
			{ success: false, error: 'TENANT_NOT_FOUND', detail: 'El tenant con ID 12 no existe' },
			headers
		);
		expect(error).toBeInstanceOf(ApiError);
		expect(error.status).toBe(404);
		expect(error.code).toBe('TENANT_NOT_FOUND');
		expect(error.detail).toBe('El tenant con ID 12 no existe');
		expect(error.message).toBe('El tenant con ID 12 no existe');
		expect(error.requestId).toBe('req-1');
		expect(error.fields).toEqual([]);
	});

	it('exposes field errors of a 422', () => {
		const error = toApiError(422, {
			success: false,
			error: 'VALIDATION_ERROR',
			detail: 'Datos no válidos',
			fields: [
				{ field: 'body.subdomain', message: 'Solo minúsculas, números y guiones' },
				{ field: 'email', message: 'Correo no válido' },
				{ nonsense: true }
			]
		});
		expect(error.fields).toHaveLength(2);
		expect(error.fieldMessage('subdomain')).toBe('Solo minúsculas, números y guiones');
		expect(error.fieldMessage('email')).toBe('Correo no válido');
		expect(error.fieldMessage('plan')).toBeUndefined();
	});

	it('maps invalid credentials and rate limiting', () => {
		const bad = toApiError(401, {
			success: false,
			error: 'INVALID_CREDENTIALS',
			detail: 'Correo electrónico o contraseña incorrectos'
		});
		expect(bad.code).toBe('INVALID_CREDENTIALS');
		const limited = toApiError(429, 'Too Many Requests', new Headers({ 'Retry-After': '30' }));
		expect(limited.code).toBe('RATE_LIMITED');
		expect(limited.retryAfter).toBe(30);
		expect(limited.detail).toBe('Demasiados intentos. Espere 30 s antes de volver a intentarlo.');
	});

	it('falls back to a Spanish sentence when the body is not an envelope', () => {
		expect(toApiError(502, '<html>Bad gateway</html>').detail).toBe(
			'El servidor no está disponible en este momento.'
		);
		expect(toApiError(500, null).code).toBe('INTERNAL_ERROR');
		expect(toApiError(507, null).detail).toMatch(/Error interno/);
		expect(toApiError(418, null).detail).toBe('Respuesta inesperada del servidor (418).');
		// An envelope with an empty detail still gets words.
		expect(toApiError(403, { success: false, error: 'FORBIDDEN', detail: ' ' }).detail).toBe(
			'No tiene permiso para realizar esta acción.'
		);
	});

	it('recognises envelopes strictly', () => {
		expect(isErrorEnvelope({ success: false, error: 'X', detail: 'y' })).toBe(true);
		expect(isErrorEnvelope({ success: true, data: {} })).toBe(false);
		expect(isErrorEnvelope({ detail: 'FastAPI default' })).toBe(false);
		expect(isErrorEnvelope(null)).toBe(false);
	});
});

describe('errorMessage', () => {
	it('turns anything into a Spanish sentence', () => {
		expect(errorMessage(networkError(new TypeError('Failed to fetch')))).toMatch(
			/No se pudo conectar con el servidor/
		);
		expect(networkError().isNetwork).toBe(true);
		expect(errorMessage(new DOMException('x', 'AbortError'))).toBe('La operación se canceló.');
		expect(errorMessage(new Error('boom'))).toBe('Se produjo un error inesperado. Inténtelo de nuevo.');
	});
});
