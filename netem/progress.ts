/**
 * The live progress line of a trial on stderr: on a terminal one line
 * redrawn in place with a bar; otherwise a plain line every few seconds,
 * so logs of a run stay short.
 */
import type { TrialProgress } from './trial-phases.ts';

/** Bar width, characters. */
const BAR_WIDTH = 24;
/** Without a terminal, a line at most this often, ms. */
const PLAIN_INTERVAL_MS = 5000;

/** The figures of `p` as text, without the bar. */
export function progressText(p: TrialProgress): string {
  const secs = (ms: number) => (ms / 1000).toFixed(1);
  const clock =
    p.phase === 'publishing'
      ? `${secs(Math.min(p.elapsedMs, p.totalMs))}/${secs(p.totalMs)} s`
      : `drain +${secs(p.elapsedMs - p.totalMs)} s`;
  return (
    `${clock}  published ${p.published}  delivered ${p.delivered}  ` +
    `backlog ${p.backlog ?? '-'}  link ${p.link}  relay ${p.relay}`
  );
}

/** A bar of BAR_WIDTH for the fraction `done` (0 to 1). */
export function progressBar(done: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, done)) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
}

/** Writes progress to a stream (stderr by default). */
export class ProgressPrinter {
  private lastPlainMs = -Infinity;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly tty: boolean = process.stderr.isTTY,
  ) {}

  /** Shows `p`: redraws the line on a terminal, else maybe prints it. */
  update(p: TrialProgress): void {
    const text = progressText(p);
    if (this.tty) {
      const bar = progressBar(p.elapsedMs / p.totalMs);
      this.out.write(`\r\x1b[K${bar} ${text}`);
      this.drawn = true;
      return;
    }
    const now = performance.now();
    if (now - this.lastPlainMs < PLAIN_INTERVAL_MS) return;
    this.lastPlainMs = now;
    this.out.write(`${text}\n`);
  }

  /** Ends the redrawn line, so what follows starts on a fresh one. */
  finish(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
