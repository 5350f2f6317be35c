/**
 * The Verifier: checks that a proof grants a request, and remembers the
 * answer. Successes are cached until the proof's earliest expiry (and, when
 * revocation is checked, no longer than `revocationRecheckMs`); failures
 * only for `negativeTtlMs`, so a transient problem never locks anyone out
 * for long. The cache is a bounded LRU keyed by proof hash, subject,
 * namespace, permission and resource; overflow evicts the least recently
 * used entry.
 */
import {
  LruMap,
  systemClock,
  WavemqError,
  type Clock,
  type EntityHash,
} from '../common/index.ts';
import {
  InvalidArgumentError,
  ProofError,
  ProofRevokedError,
  RevocationUnavailableError,
} from './errors.ts';
import { hashOf } from './hash.ts';
import type { WaveMetrics } from './metrics.ts';
import { validatePattern } from './pattern.ts';
import { isPermission } from './policy.ts';
import { Proof } from './proof.ts';
import {
  checkProofRules,
  requestObjects,
  type AccessRequest,
} from './proof-rules.ts';

/** Answers whether a revocation commitment has been revoked. */
export interface RevocationChecker {
  /** true or false, or undefined when storage cannot be reached. */
  isRevoked(commitment: Uint8Array): Promise<boolean | undefined>;
}

/** Options of {@link Verifier}. */
export interface VerifierOptions {
  /** Source of "now"; default the system clock. */
  clock?: Clock;
  /** Most cached answers; default 10,000. */
  maxEntries?: number;
  /** How long a failure is remembered, ms; default 10 s. */
  negativeTtlMs?: number;
  /** Revocation lookups; default none (nothing is ever revoked). */
  revocation?: RevocationChecker;
  /**
   * When revocation storage cannot be reached: true treats objects as not
   * revoked (a site with no Internet keeps working); false (default)
   * fails with RevocationUnavailableError.
   */
  defaultToUnrevoked?: boolean;
  /**
   * Longest time a success is trusted before revocation is asked again,
   * ms; default 5 min. Only applies when `revocation` is set.
   */
  revocationRecheckMs?: number;
  /** Where to count; default not counted. */
  metrics?: WaveMetrics;
}

/** What a granted request gets. */
export interface VerifyResult {
  /** When the grant ends (the proof's earliest expiry), ms since epoch. */
  expiresAtMs: number;
  /**
   * Until when this answer is trusted, ms since epoch: the proof's expiry,
   * or sooner when revocation is checked. A call after it checks again.
   */
  recheckAtMs: number;
  proofHash: EntityHash;
}

/** Counters of a Verifier since it was made. */
export interface VerifierStats {
  /** Calls answered from the cache (granted or denied). */
  hits: number;
  /** Calls that checked the proof. */
  misses: number;
  /** Calls that were denied (from the cache or not). */
  failures: number;
  /** Answers held now. */
  entries: number;
}

type Entry =
  | { ok: true; result: Omit<VerifyResult, 'recheckAtMs'>; untilMs: number }
  | { ok: false; error: Error; untilMs: number };

/** Default bound of the answer cache, entries. */
export const DEFAULT_VERIFIER_ENTRIES = 10_000;
/** Default time a failure is cached, ms. */
export const DEFAULT_NEGATIVE_TTL_MS = 10_000;
/** Default time before revocation is asked again, ms. */
export const DEFAULT_REVOCATION_RECHECK_MS = 5 * 60_000;

/** Checks proofs against requests, with a bounded cache of answers. */
export class Verifier {
  private readonly clock: Clock;
  private cache: LruMap<string, Entry>;
  private readonly negativeTtlMs: number;
  private readonly recheckMs: number;
  private readonly counts = { hits: 0, misses: 0, failures: 0 };

  constructor(private readonly o: VerifierOptions = {}) {
    this.clock = o.clock ?? systemClock;
    const maxEntries = o.maxEntries ?? DEFAULT_VERIFIER_ENTRIES;
    this.negativeTtlMs = o.negativeTtlMs ?? DEFAULT_NEGATIVE_TTL_MS;
    this.recheckMs = o.revocation
      ? (o.revocationRecheckMs ?? DEFAULT_REVOCATION_RECHECK_MS)
      : Infinity;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new InvalidArgumentError('maxEntries must be at least 1', {
        argument: 'maxEntries',
        reason: String(maxEntries),
      });
    }
    this.cache = new LruMap(maxEntries);
  }

  /** Counters and the number of cached answers. */
  get stats(): VerifierStats {
    return { ...this.counts, entries: this.cache.size };
  }

  /**
   * Resolves when `proof` grants `req`, with the time the grant expires.
   * @throws InvalidPatternError when `req.resource` is not a pattern.
   * @throws a ProofError leaf naming the first broken rule:
   *   MalformedProofError, ProofSignatureError, ProofNamespaceError,
   *   ProofChainError, ProofSubjectError, ProofExpiredError,
   *   ProofNotYetValidError, ProofIndirectionError, PermissionDeniedError,
   *   ProofRevokedError, RevocationUnavailableError.
   */
  async verify(
    proof: Proof | Uint8Array,
    req: AccessRequest,
  ): Promise<VerifyResult> {
    validatePattern(req.resource);
    if (!isPermission(req.permission)) {
      throw new InvalidArgumentError(
        `unknown permission ${String(req.permission)}`,
        {
          argument: 'permission',
          reason: String(req.permission),
        },
      );
    }
    const proofHash = proof instanceof Proof ? proof.hash : hashOf(proof);
    const key = [
      proofHash,
      req.subject,
      req.namespace,
      req.permission,
      req.resource,
    ].join('\n');
    const nowMs = this.clock.now();
    const cached = this.cache.get(key);
    if (cached && nowMs < cached.untilMs) {
      this.count('hit');
      if (cached.ok) {
        return this.granted({ ...cached.result, recheckAtMs: cached.untilMs });
      }
      throw this.denied(cached.error);
    }
    this.count('miss');
    try {
      const result = await this.check(proof, proofHash, req, nowMs);
      const untilMs = Math.min(result.expiresAtMs, nowMs + this.recheckMs);
      this.remember(key, { ok: true, result, untilMs });
      return this.granted({ ...result, recheckAtMs: untilMs });
    } catch (err) {
      if (err instanceof ProofError) {
        const untilMs = nowMs + this.negativeTtlMs;
        this.remember(key, { ok: false, error: err, untilMs });
      }
      throw this.denied(err);
    }
  }

  /** Forgets every cached answer. */
  clear(): void {
    this.o.metrics?.proofCacheEntries.dec(this.cache.size);
    this.cache = new LruMap(this.cache.maxEntries);
  }

  private async check(
    proof: Proof | Uint8Array,
    proofHash: EntityHash,
    req: AccessRequest,
    nowMs: number,
  ): Promise<Omit<VerifyResult, 'recheckAtMs'>> {
    const p = proof instanceof Proof ? proof : Proof.decode(proof);
    checkProofRules(p, req, nowMs);
    await this.checkRevocation(p, req);
    const entityEnd = req.subjectEntity?.notAfterMs ?? Infinity;
    return { expiresAtMs: Math.min(p.expiresAtMs, entityEnd), proofHash };
  }

  private async checkRevocation(p: Proof, req: AccessRequest): Promise<void> {
    const checker = this.o.revocation;
    if (!checker) return;
    const objects = requestObjects(p, req);
    const answers = await Promise.all(
      objects.map((o) => checker.isRevoked(o.revocationCommitment)),
    );
    objects.forEach((o, i) => {
      const where = { index: o.index, kind: o.kind, hash: o.hash };
      const what = `${o.kind} ${o.hash} on proof link ${o.index}`;
      if (answers[i] === true) {
        throw new ProofRevokedError(`${what} has been revoked`, where);
      }
      if (answers[i] === undefined && !this.o.defaultToUnrevoked) {
        throw new RevocationUnavailableError(
          `revocation of ${what} cannot be checked: storage unreachable ` +
            'and defaultToUnrevoked is off',
          where,
        );
      }
    });
  }

  private remember(key: string, entry: Entry): void {
    const before = this.cache.size;
    this.cache.set(key, entry);
    this.o.metrics?.proofCacheEntries.inc(this.cache.size - before);
  }

  private count(what: 'hit' | 'miss'): void {
    if (what === 'hit') {
      this.counts.hits++;
      this.o.metrics?.proofCacheHits.inc();
    } else {
      this.counts.misses++;
      this.o.metrics?.proofCacheMisses.inc();
    }
  }

  private granted(result: VerifyResult): VerifyResult {
    this.o.metrics?.proofVerifications.inc({ result: 'granted' });
    return result;
  }

  private denied(err: unknown): unknown {
    this.counts.failures++;
    const code = err instanceof WavemqError ? err.code : 'UNEXPECTED';
    this.o.metrics?.proofVerifications.inc({ result: 'denied' });
    this.o.metrics?.proofFailures.inc({ code });
    return err;
  }
}
