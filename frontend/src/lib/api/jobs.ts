/**
 * A provisioning job's live progress: GET /api/jobs/{id}/events as SSE. Events (data is
 * JSON): `snapshot` (the whole job, first), `step` (one step), `progress`
 * ({progress, status}), `log` (one line, with `id:`), `done` (the finished job).
 * Reconnects with Last-Event-ID if the stream drops before `done`, so a proxy timeout does
 * not freeze the progress bar.
 */
import { readEventStream, type SseMessage } from './sse';
import { ApiError, networkError, toApiError } from './errors';
import type { Job, JobLogLine, JobStep } from './types';
import { api, unwrap } from './client';

/**
 * `progress` event, as the stream route writes it. The event payloads are not in the
 * OpenAPI document (text/event-stream); snapshot/step/log/done reuse its JobOut, StepOut
 * and LogOut, this one is `{progress, status}` of the job.
 */
export interface JobProgress {
	progress: number;
	status: Job['status'];
}

/** `done` event: the finished job (only status and error are read). */
export interface JobDone {
	status: string;
	error?: string | null;
}

export interface JobEventHandlers {
	snapshot?: (job: Job) => void;
	step?: (step: JobStep) => void;
	progress?: (progress: JobProgress) => void;
	log?: (line: JobLogLine) => void;
	done?: (done: JobDone) => void;
	/** Connection state for the UI ("en directo" / "reconectando…"). */
	connection?: (state: 'open' | 'reconnecting' | 'closed') => void;
}

/** Dispatches one SSE message to the handlers; unknown events and bad JSON are ignored. */
export function dispatchJobEvent(message: SseMessage, handlers: JobEventHandlers): boolean {
	let payload: unknown;
	try {
		payload = JSON.parse(message.data);
	} catch {
		return false;
	}
	if (typeof payload !== 'object' || payload === null) return false;
	switch (message.event) {
		case 'snapshot':
			handlers.snapshot?.(payload as Job);
			return false;
		case 'step':
			handlers.step?.(payload as JobStep);
			return false;
		case 'progress':
			handlers.progress?.(payload as JobProgress);
			return false;
		case 'log':
			handlers.log?.(payload as JobLogLine);
			return false;
		case 'done':
			handlers.done?.(payload as JobDone);
			return true;
		default:
			return false;
	}
}

export function getJob(id: number | string, signal?: AbortSignal, portal = false) {
	const params = { path: { job_id: Number(id) } };
	// Customers read their own jobs under /api/portal (operators' /api/jobs refuses them).
	return portal ? unwrap(api.GET('/api/portal/jobs/{job_id}', { params, signal })) : unwrap(api.GET('/api/jobs/{job_id}', { params, signal }));
}

const MAX_RECONNECTS = 10;

/** Follows a job until `done`, an abort, or a non-retryable error (thrown as ApiError). */
export async function followJob(
	id: number | string,
	handlers: JobEventHandlers,
	signal: AbortSignal,
	portal = false
): Promise<void> {
	const jobId = Number(id);
	/** The stream through the typed client (bearer + refresh); a refusal becomes an ApiError. */
	const open = async (headers: Record<string, string>, openSignal?: AbortSignal): Promise<Response> => {
		const init = { params: { path: { job_id: jobId } }, headers, parseAs: 'stream' as const, signal: openSignal };
		const { response, error } = portal
			? await api.GET('/api/portal/jobs/{job_id}/events', init)
			: await api.GET('/api/jobs/{job_id}/events', init);
		if (!response.ok) throw toApiError(response.status, error ?? null, response.headers);
		return response;
	};
	let lastEventId: string | null = null;
	let finished = false;
	let delay = 1000;
	for (let attempt = 0; !signal.aborted && attempt <= MAX_RECONNECTS; attempt++) {
		try {
			const parser = await readEventStream({
				open,
				signal,
				lastEventId,
				onOpen: () => {
					attempt = 0;
					handlers.connection?.('open');
				},
				onMessage: (message) => {
					if (dispatchJobEvent(message, handlers)) finished = true;
				}
			});
			lastEventId = parser.lastEventId;
			if (parser.retry !== null) delay = parser.retry;
		} catch (cause) {
			if (signal.aborted) break;
			// 4xx (job gone, forbidden) will not heal by retrying; 5xx and network drops may.
			if (cause instanceof ApiError && cause.status > 0 && cause.status < 500) throw cause;
		}
		if (finished || signal.aborted) break;
		handlers.connection?.('reconnecting');
		await new Promise((resolve) => setTimeout(resolve, Math.min(delay * 2 ** Math.min(attempt, 4), 15000)));
	}
	handlers.connection?.('closed');
	if (!finished && !signal.aborted) throw networkError();
}
