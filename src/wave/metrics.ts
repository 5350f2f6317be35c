/** Prometheus metrics of wave/: proofs, signatures, revocation lookups. */
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
  /**
   * Revocation lookups of storage providers, by provider, answer
   * (`revoked`, `unrevoked`, `unknown`) and where the answer came from
   * (`storage`, `cache`, or `backoff`: the provider failed lately and
   * was not asked).
   */
  revocationLookups: Counter<'provider' | 'result' | 'source'>;
}

function counter<L extends string = never>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[] = [],
): Counter<L> {
  return new Counter({ name, help, labelNames, registers: [registry] });
}

type ProofMetrics = Omit<
  WaveMetrics,
  'signatureVerifications' | 'signatureRootCacheHits' | 'revocationLookups'
>;

function proofMetrics(r: Registry): ProofMetrics {
  return {
    proofVerifications: counter(
      r,
      'wavemq_wave_proof_verifications_total',
      'Proof verify calls by result (granted, denied)',
      ['result'],
    ),
    proofCacheHits: counter(
      r,
      'wavemq_wave_proof_cache_hits_total',
      'Proof verify calls answered from the verification cache',
    ),
    proofCacheMisses: counter(
      r,
      'wavemq_wave_proof_cache_misses_total',
      'Proof verify calls that checked the proof',
    ),
    proofFailures: counter(
      r,
      'wavemq_wave_proof_failures_total',
      'Denied proof verify calls by error code',
      ['code'],
    ),
    proofCacheEntries: new Gauge({
      name: 'wavemq_wave_proof_cache_entries',
      help: 'Entries in the proof verification caches',
      registers: [r],
    }),
  };
}

/** Creates and registers wave/'s metrics in `registry`. */
export function createWaveMetrics(r: Registry): WaveMetrics {
  return {
    ...proofMetrics(r),
    signatureVerifications: counter(
      r,
      'wavemq_wave_signature_verifications_total',
      'Ed25519 verifications of message batch roots by result',
      ['result'],
    ),
    signatureRootCacheHits: counter(
      r,
      'wavemq_wave_signature_root_cache_hits_total',
      'Message signatures accepted on an already verified root',
    ),
    revocationLookups: counter(
      r,
      'wavemq_wave_revocation_lookups_total',
      'Revocation lookups by storage provider, result and source',
      ['provider', 'result', 'source'],
    ),
  };
}
