/** Prometheus metrics of wave/: proof verification and signatures. */
import { Counter, Gauge, type Registry } from 'prom-client';

/** The counters and gauges wave/ updates. */
export interface WaveMetrics {
  /** Proof verify calls by result (`granted`, `denied`). */
  proofVerifications: Counter<'result'>;
  /** Proof verify calls answered from the cache (either result). */
  proofCacheHits: Counter;
  /** Proof verify calls that had to check the proof. */
  proofCacheMisses: Counter;
  /** Denied proof verify calls by error code. */
  proofFailures: Counter<'code'>;
  /** Entries in proof verification caches. */
  proofCacheEntries: Gauge;
  /** Ed25519 verifications of message batch roots, by result. */
  signatureVerifications: Counter<'result'>;
  /** Message signatures accepted on an already verified batch root. */
  signatureRootCacheHits: Counter;
}

/** Creates and registers wave/'s metrics in `registry`. */
export function createWaveMetrics(registry: Registry): WaveMetrics {
  const registers = [registry];
  return {
    proofVerifications: new Counter({
      name: 'wavemq_wave_proof_verifications_total',
      help: 'Proof verify calls by result (granted, denied)',
      labelNames: ['result'],
      registers,
    }),
    proofCacheHits: new Counter({
      name: 'wavemq_wave_proof_cache_hits_total',
      help: 'Proof verify calls answered from the verification cache',
      registers,
    }),
    proofCacheMisses: new Counter({
      name: 'wavemq_wave_proof_cache_misses_total',
      help: 'Proof verify calls that checked the proof',
      registers,
    }),
    proofFailures: new Counter({
      name: 'wavemq_wave_proof_failures_total',
      help: 'Denied proof verify calls by error code',
      labelNames: ['code'],
      registers,
    }),
    proofCacheEntries: new Gauge({
      name: 'wavemq_wave_proof_cache_entries',
      help: 'Entries in the proof verification caches',
      registers,
    }),
    signatureVerifications: new Counter({
      name: 'wavemq_wave_signature_verifications_total',
      help: 'Ed25519 verifications of message batch roots by result',
      labelNames: ['result'],
      registers,
    }),
    signatureRootCacheHits: new Counter({
      name: 'wavemq_wave_signature_root_cache_hits_total',
      help: 'Message signatures accepted on an already verified root',
      registers,
    }),
  };
}
