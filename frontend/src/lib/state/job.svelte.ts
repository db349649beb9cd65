/**
 * The live view of one job: steps, percent, log and outcome, fed by the SSE stream. Kept
 * apart from the page so the merging rules (a step event updates the step with that name,
 * progress never goes backwards within a job) are unit-tested.
 */
import type { JobDone, JobProgress } from '$lib/api/jobs';
import type { Job, JobLogLine, JobStep } from '$lib/api/types';

export const MAX_LOG_LINES = 500;

/** What the view needs of a job: the generated Job, or less (tests, partial events). */
export type JobSnapshot = Pick<Job, 'status'> & Partial<Pick<Job, 'kind' | 'progress' | 'error'>> & { steps?: StepUpdate[] };
/** A log line: at least its message. */
export type LogUpdate = Pick<JobLogLine, 'message'> & Partial<JobLogLine>;
/** A `step` event: at least name and status. */
export type StepUpdate = Pick<JobStep, 'name' | 'status'> & Partial<JobStep>;

export class JobView {
	steps = $state<StepUpdate[]>([]);
	percent = $state(0);
	log = $state<LogUpdate[]>([]);
	done = $state<JobDone | null>(null);
	connection = $state<'connecting' | 'open' | 'reconnecting' | 'closed'>('connecting');
	kind = $state<string | null>(null);

	/** The snapshot from GET /api/jobs/{id}, before or instead of the stream. */
	load(job: JobSnapshot): void {
		this.kind = job.kind ?? this.kind;
		if (job.steps) this.steps = [...job.steps];
		if (typeof job.progress === 'number') this.percent = clampPercent(job.progress);
		else this.percent = estimate(this.steps);
		const finished = ['succeeded', 'failed', 'cancelled'];
		if (finished.includes(job.status)) this.finish({ status: job.status, error: job.error ?? null });
	}

	step(step: StepUpdate): void {
		const index = this.steps.findIndex((s) => s.name === step.name);
		if (index === -1) this.steps = [...this.steps, step];
		else this.steps = this.steps.map((s, i) => (i === index ? { ...s, ...step } : s));
		if (this.steps.length) this.percent = Math.max(this.percent, estimate(this.steps));
	}

	progress(progress: JobProgress): void {
		this.percent = Math.max(this.percent, clampPercent(progress.progress));
	}

	append(line: LogUpdate): void {
		const next = [...this.log, line];
		this.log = next.length > MAX_LOG_LINES ? next.slice(-MAX_LOG_LINES) : next;
	}

	finish(done: JobDone): void {
		this.done = done;
		if (done.status === 'succeeded') this.percent = 100;
	}

	get succeeded(): boolean {
		return this.done?.status === 'succeeded';
	}

	get failed(): boolean {
		return !!this.done && this.done.status !== 'succeeded';
	}
}

function clampPercent(value: number): number {
	return Math.min(100, Math.max(0, Math.round(value)));
}

/** Percent from the step list when the server sends none: finished steps ÷ all steps. */
function estimate(steps: StepUpdate[]): number {
	if (!steps.length) return 0;
	const finished = steps.filter((s) => ['succeeded', 'skipped'].includes(s.status)).length;
	return clampPercent((finished / steps.length) * 100);
}
