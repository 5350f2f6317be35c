/**
 * The impaired link of a trial, whichever backend applies the profile:
 * one of our relays, or `tc netem` on the trunk's own veth pair when the
 * runner is in network namespaces on a kernel that has netem.
 */
import type { Direction, Profile } from './profile-types.ts';
import type { LinkState } from './schedule.ts';
import { applyProfile } from './tc.ts';
import type { TrialNetwork, TrunkPath } from './trial-network.ts';

/** What a trial needs of its impaired link. */
export interface TrialLink {
  /** `relay` or `tc netem`. */
  readonly kind: string;
  /** State of each direction, and ms since the impairment started. */
  stats(): { state: Record<Direction, LinkState>; elapsedMs: number };
  /** Removes the impairment. Idempotent. */
  stop(): Promise<void>;
}

/** Applies one direction of a profile to an interface (tc's signature). */
export type ApplyTc = typeof applyProfile;

/**
 * Whether a trial in `network` impairs its trunk with `tc netem`: when
 * the network has a trunk path (made only where the kernel has netem)
 * and the profile needs nothing tc cannot do (rebinding).
 */
export function usesTc(
  network: TrialNetwork | undefined,
  profile: Profile,
): network is TrialNetwork & { trunk: TrunkPath } {
  if (network?.trunk === undefined) return false;
  return !profile.schedule.some((s) => s.kind === 'rebind');
}

/**
 * Puts `profile` on the trunk path with tc: `up` on the site's end,
 * `down` on the router's; schedules count from now.
 * @throws what `apply` throws; nothing is left applied then.
 */
export async function tcLink(
  network: TrialNetwork & { trunk: TrunkPath },
  profile: Profile,
  apply: ApplyTc = applyProfile,
): Promise<TrialLink> {
  const startedAtMs = performance.now();
  const { trunk } = network;
  const up = await apply(trunk.siteIface, profile, {
    netns: network.siteNetns,
    direction: 'up',
  });
  let down: Awaited<ReturnType<ApplyTc>>;
  try {
    down = await apply(trunk.routerIface, profile, {
      netns: network.routerNetns,
      direction: 'down',
    });
  } catch (err) {
    await up.stop();
    throw err;
  }
  return {
    kind: 'tc netem',
    stats: () => ({
      state: { up: up.state(), down: down.state() },
      elapsedMs: performance.now() - startedAtMs,
    }),
    stop: async () => {
      await up.stop();
      await down.stop();
    },
  };
}
