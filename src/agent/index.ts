export { Agent, AGENT_IDLE_MS, AGENT_KEEPALIVE_MS } from './agent.ts';
export type { AgentOptions, SubscribeOptions } from './agent.ts';
export { Subscription, ACK_INTERVAL_MS } from './subscription.ts';
export { payloadText } from './message.ts';
export type { ReceivedMessage } from './message.ts';
export * from './errors.ts';
