import { describe, expect, it } from 'vitest';
import { readEventStream, SseParser, type SseMessage } from './sse';
import { dispatchJobEvent, type JobDone, type JobProgress } from './jobs';
import type { JobLogLine, JobStep } from './types';

function parseAll(chunks: string[]): SseMessage[] {
	const parser = new SseParser();
	return chunks.flatMap((chunk) => parser.push(chunk));
}

describe('SseParser', () => {
	it('parses named events with JSON data', () => {
		const events = parseAll([
			'event: step\ndata: {"name":"place","status":"running"}\n\n',
			'event: progress\ndata: {"percent":20}\n\n'
		]);
		expect(events).toEqual([
			{ event: 'step', data: '{"name":"place","status":"running"}', id: null },
			{ event: 'progress', data: '{"percent":20}', id: null }
		]);
	});

	it('reassembles events split anywhere across chunks, including CRLF pairs', () => {
		const text = 'id: 7\r\nevent: log\r\ndata: {"message":"hola"}\r\n\r\n';
		for (let cut = 1; cut < text.length; cut++) {
			const events = parseAll([text.slice(0, cut), text.slice(cut)]);
			expect(events, `cut at ${cut}`).toEqual([{ event: 'log', data: '{"message":"hola"}', id: '7' }]);
		}
	});

	it('joins multi-line data, ignores comments and unknown fields, defaults to "message"', () => {
		const events = parseAll([': keep-alive\n', 'data: a\ndata: b\nfoo: bar\n\n', 'data\n\n']);
		expect(events).toEqual([
			{ event: 'message', data: 'a\nb', id: null },
			{ event: 'message', data: '', id: null }
		]);
	});

	it('keeps the last id and the retry delay', () => {
		const parser = new SseParser();
		parser.push('retry: 3000\nid: 41\ndata: x\n\nretry: soon\n');
		expect(parser.lastEventId).toBe('41');
		expect(parser.retry).toBe(3000);
	});

	it('drops blank-line-only blocks and unterminated trailing events', () => {
		const parser = new SseParser();
		expect(parser.push('\n\n\nevent: step\n\n')).toEqual([]);
		expect(parser.push('data: incomplete')).toEqual([]);
		parser.end();
		expect(parser.push('\n')).toEqual([]);
	});

	it('accepts CR-only line endings and a space-free colon', () => {
		expect(parseAll(['event:done\rdata:{"status":"succeeded"}\r\r'])).toEqual([
			{ event: 'done', data: '{"status":"succeeded"}', id: null }
		]);
	});
});

describe('readEventStream', () => {
	it('reads a fetch body chunk by chunk and sends Last-Event-ID', async () => {
		const encoder = new TextEncoder();
		const chunks = ['event: progress\nda', 'ta: {"percent":50}\n\nid: 3\nevent: done\ndata: {}\n\n'];
		let sentHeader: string | null = null;
		const got: SseMessage[] = [];
		const parser = await readEventStream({
			lastEventId: '2',
			open: async (headers) => {
				sentHeader = headers['Last-Event-ID'] ?? null;
				const body = new ReadableStream<Uint8Array>({
					start(controller) {
						for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
						controller.close();
					}
				});
				return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
			},
			onMessage: (m) => got.push(m)
		});
		expect(sentHeader).toBe('2');
		expect(got.map((m) => m.event)).toEqual(['progress', 'done']);
		expect(parser.lastEventId).toBe('3');
	});

	it('rejects with the Response when the server refuses', async () => {
		const failure = await readEventStream({
			open: async () => new Response('nope', { status: 404 }),
			onMessage: () => {}
		}).catch((e: unknown) => e);
		expect(failure).toBeInstanceOf(Response);
	});
});

describe('dispatchJobEvent', () => {
	it('routes step, progress, log and done to their handlers', () => {
		const steps: JobStep[] = [];
		const progress: JobProgress[] = [];
		const logs: JobLogLine[] = [];
		const done: JobDone[] = [];
		const handlers = {
			step: (s: JobStep) => steps.push(s),
			progress: (p: JobProgress) => progress.push(p),
			log: (l: JobLogLine) => logs.push(l),
			done: (d: JobDone) => done.push(d)
		};
		expect(dispatchJobEvent({ event: 'step', data: '{"name":"place","status":"succeeded"}', id: null }, handlers)).toBe(false);
		dispatchJobEvent({ event: 'progress', data: '{"progress":40,"status":"running"}', id: null }, handlers);
		dispatchJobEvent({ event: 'log', data: '{"message":"Base de datos creada","level":"info"}', id: '9' }, handlers);
		const snapshots: unknown[] = [];
		dispatchJobEvent({ event: 'snapshot', data: '{"id":1,"status":"running","steps":[]}', id: null }, { snapshot: (j) => snapshots.push(j) });
		expect(snapshots).toEqual([{ id: 1, status: 'running', steps: [] }]);
		dispatchJobEvent({ event: 'unknown', data: '{}', id: null }, handlers);
		dispatchJobEvent({ event: 'step', data: 'not json', id: null }, handlers);
		expect(dispatchJobEvent({ event: 'done', data: '{"status":"succeeded"}', id: null }, handlers)).toBe(true);
		expect(steps).toEqual([{ name: 'place', status: 'succeeded' }]);
		expect(progress).toEqual([{ progress: 40, status: 'running' }]);
		expect(logs[0]!.message).toBe('Base de datos creada');
		expect(done).toEqual([{ status: 'succeeded' }]);
	});
});
