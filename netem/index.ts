/**
 * netem/: link impairment for tests and trials of wavemq over cellular
 * and satellite uplinks. A userspace UDP relay applies a profile's delay,
 * jitter, loss, duplication, reordering, rate and schedule; the `tc
 * netem` backend applies the same profile with the kernel where it has
 * netem; helpers build network namespaces for real address changes.
 */
export * from './errors.ts';
export {
  loadProfile,
  parseProfile,
  profileNames,
  readOverrides,
  PROFILE_DIR,
  MAX_DELAY_MS,
} from './profile.ts';
export type * from './profile-types.ts';
export {
  ImpairmentRelay,
  type HostPort,
  type RelayOptions,
  type RelayStats,
} from './relay.ts';
export type { FlowInfo } from './flows.ts';
export { IP_UDP_OVERHEAD_BYTES, type DirectionCounters } from './shaper.ts';
export {
  nextRebindMs,
  nextStateChangeMs,
  scheduledState,
  type LinkState,
} from './schedule.ts';
export {
  ManualScheduler,
  TimerScheduler,
  preciseClock,
  type Scheduler,
} from './scheduler.ts';
export { seededRandom, randomSeed, type Random } from './random.ts';
export {
  applyProfile,
  clearProfile,
  netemArgs,
  netemSupported,
  qdiscCommand,
  type ApplyOptions,
  type SupportOptions,
  type TcProfile,
  type TcTarget,
} from './tc.ts';
export type { QdiscAction } from './tc-args.ts';
export {
  changeAddress,
  createTopology,
  execInNamespace,
  spawnInNamespace,
  type NamespaceEnd,
  type Topology,
  type TopologyOptions,
} from './netns.ts';
export {
  isRoot,
  runCommand,
  type CommandOutput,
  type CommandRunner,
} from './command.ts';
