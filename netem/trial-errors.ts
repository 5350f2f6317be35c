/**
 * Errors of the trial runner (`npm run netem`), apart from the relay's
 * own in errors.ts because only the runner raises them.
 */
import { WavemqError } from '../src/common/errors.ts';

/**
 * A trial could not get to the point of publishing: a router did not
 * start, or the site's uplink did not come up in time.
 */
export class TrialSetupError extends WavemqError<{
  step: string;
  timeoutMs?: number;
}> {
  readonly code = 'NETEM_TRIAL_SETUP';
}
