/**
 * Server-Sent Events read with fetch (EventSource cannot send the Authorization header).
 * `SseParser` follows the WHATWG "event stream interpretation" rules: fields `event`,
 * `data` (several lines joined with "\n"), `id`, `retry`; lines starting with ":" are
 * comments (keep-alives); a blank line dispatches; CRLF, CR and LF all end a line; chunks
 * may split lines, and even a CRLF pair, anywhere.
 */

export interface SseMessage {
	event: string;
	data: string;
	id: string | null;
}

export class SseParser {
	#buffer = '';
	#event = '';
	#data: string[] = [];
	#hasData = false;
	#pendingCR = false;
	/** Last `id:` seen; sent back as Last-Event-ID on reconnection. */
	lastEventId: string | null = null;
	/** Reconnection delay the server asked for (`retry:`), in ms. */
	retry: number | null = null;

	/** Feeds a decoded chunk; returns the events it completed. */
	push(chunk: string): SseMessage[] {
		let text = chunk;
		if (this.#pendingCR && text.startsWith('\n')) text = text.slice(1);
		this.#pendingCR = false;
		this.#buffer += text;
		const out: SseMessage[] = [];
		for (;;) {
			const match = /\r\n|\r|\n/.exec(this.#buffer);
			if (!match) break;
			// A lone trailing CR may be the first half of a CRLF split across chunks.
			if (match[0] === '\r' && match.index === this.#buffer.length - 1) {
				this.#pendingCR = true;
			}
			const line = this.#buffer.slice(0, match.index);
			this.#buffer = this.#buffer.slice(match.index + match[0].length);
			const message = this.#line(line);
			if (message) out.push(message);
		}
		return out;
	}

	/** End of stream: an event without its final blank line is discarded, per the spec. */
	end(): void {
		this.#buffer = '';
		this.#reset();
	}

	#reset(): void {
		this.#event = '';
		this.#data = [];
		this.#hasData = false;
	}

	#line(line: string): SseMessage | null {
		if (line === '') {
			if (!this.#hasData) {
				this.#reset();
				return null;
			}
			const message = {
				event: this.#event || 'message',
				data: this.#data.join('\n'),
				id: this.lastEventId
			};
			this.#reset();
			return message;
		}
		if (line.startsWith(':')) return null;
		const colon = line.indexOf(':');
		const field = colon === -1 ? line : line.slice(0, colon);
		let value = colon === -1 ? '' : line.slice(colon + 1);
		if (value.startsWith(' ')) value = value.slice(1);
		switch (field) {
			case 'event':
				this.#event = value;
				break;
			case 'data':
				this.#data.push(value);
				this.#hasData = true;
				break;
			case 'id':
				if (!value.includes('\0')) this.lastEventId = value;
				break;
			case 'retry':
				if (/^\d+$/.test(value)) this.retry = Number(value);
				break;
			default:
				break; // unknown fields are ignored
		}
		return null;
	}
}

export interface StreamOptions {
	/** Opens the stream with these headers (the app passes a typed-client call). */
	open: (headers: Record<string, string>, signal?: AbortSignal) => Promise<Response>;
	signal?: AbortSignal;
	lastEventId?: string | null;
	onMessage: (message: SseMessage) => void;
	onOpen?: () => void;
}

/**
 * Reads one connection to the end. Resolves with the parser (for its lastEventId/retry)
 * when the server closes the stream; rejects with the fetch's error or a non-2xx Response.
 */
export async function readEventStream(options: StreamOptions): Promise<SseParser> {
	const headers: Record<string, string> = { Accept: 'text/event-stream', 'Cache-Control': 'no-cache' };
	if (options.lastEventId) headers['Last-Event-ID'] = options.lastEventId;
	const response = await options.open(headers, options.signal);
	if (!response.ok || !response.body) throw response;
	options.onOpen?.();
	const parser = new SseParser();
	parser.lastEventId = options.lastEventId ?? null;
	const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
	try {
		for (;;) {
			const { value, done } = await reader.read();
			if (done) break;
			for (const message of parser.push(value)) options.onMessage(message);
		}
	} finally {
		parser.end();
		reader.releaseLock();
	}
	return parser;
}
