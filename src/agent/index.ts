export { Agent, AGENT_IDLE_MS, AGENT_KEEPALIVE_MS } from './agent.ts';
export type { AgentOptions, SubscribeOptions } from './agent.ts';
export type { AgentState } from './link.ts';
export { RECONNECT_ATTEMPT_MS } from './link.ts';
export {
  RECONNECT_INITIAL_DELAY_MS,
  RECONNECT_MAX_DELAY_MS,
  type ReconnectOptions,
} from './options.ts';
export { MAX_WAITING_PUBLISHES } from './publisher.ts';
export { Subscription, ACK_INTERVAL_MS } from './subscription.ts';
export { payloadText } from './message.ts';
export type { ReceivedMessage } from './message.ts';
export * from './errors.ts';
