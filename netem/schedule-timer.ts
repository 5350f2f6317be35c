/**
 * Drives a profile's schedule on a scheduler: calls back at every change
 * of scheduled link state and at every rebind, for as long as the owner
 * is running. Shared by the UDP and the TCP relay.
 */
import type { ScheduleEntry } from './profile-types.ts';
import { nextRebindMs, nextStateChangeMs } from './schedule.ts';
import type { Scheduler } from './scheduler.ts';

/** What {@link armSchedule} needs. */
export interface ScheduleTimerOptions {
  scheduler: Scheduler;
  schedule: readonly ScheduleEntry[];
  /** Scheduler time at which the schedule's times count from 0. */
  startedAtMs: number;
  /** False once the owner has stopped: nothing more is called. */
  running: () => boolean;
  /** Called at each time a scheduled state may change. */
  onStateChange: () => void;
  /**
   * Called at each rebind; when it returns a promise, the next rebind
   * is armed once it settles.
   */
  onRebind: () => void | Promise<unknown>;
}

/** Arms the first state change and the first rebind; each re-arms. */
export function armSchedule(o: ScheduleTimerOptions): void {
  const elapsed = () => o.scheduler.now() - o.startedAtMs;
  const at = (ms: number, fn: () => void) =>
    o.scheduler.at(o.startedAtMs + ms, () => {
      if (o.running()) fn();
    });
  const armChange = () => {
    const next = nextStateChangeMs(o.schedule, elapsed());
    if (next === undefined) return;
    at(next, () => {
      o.onStateChange();
      armChange();
    });
  };
  const armRebind = () => {
    const next = nextRebindMs(o.schedule, elapsed());
    if (next === undefined) return;
    at(next, () => {
      void Promise.resolve(o.onRebind()).finally(armRebind);
    });
  };
  armChange();
  armRebind();
}
