/**
 * Storage providers: where objects, and above all revocation secrets, are
 * published. `http_v1` speaks JSON over HTTP(S) to a storage server (such
 * as `wavemq storage serve`):
 *
 *   GET  {url}/info        200 {service: "wavemq-storage", version: 1,
 *                              hash: "blake2b-256"}
 *   POST {url}/obj         {object: b64} -> 201 {hash} (200 if present)
 *   GET  {url}/obj/{hash}  200 {object: b64} or 404 {error}
 *
 * Binary is base64url without padding (standard base64 accepted). An
 * object is revoked when storage holds an object whose hash is the
 * BLAKE2b-256 multihash prefix followed by its revocation commitment,
 * that is, when its revocation secret has been stored.
 */
import {
  errorMessage,
  LruMap,
  WavemqError,
  type EntityHash,
  type Logger,
} from '../common/index.ts';
import {
  InvalidArgumentError,
  StorageBadAnswerError,
  StorageUnavailableError,
} from './errors.ts';
import {
  BLAKE2B_256_PREFIX,
  fromBase64,
  hashOf,
  parseHash,
  revocationCommitment,
  toBase64Url,
} from './hash.ts';
import {
  badAnswer,
  exchange,
  refused,
  type JsonAnswer,
  type StorageWhere,
} from './storage-http.ts';
import {
  resolveOptions,
  type HttpStorageOptions,
  type StorageSettings,
} from './storage-options.ts';
import type { RevocationChecker } from './verifier.ts';

/** A place objects are stored, that also answers revocation lookups. */
export interface StorageProvider extends RevocationChecker {
  /** The provider's name, as in `[WaveConfig.storage.NAME]`. */
  readonly name: string;
  /** Base URL, without a trailing slash. */
  readonly url: string;
  /** Stores `bytes`; resolves with their hash once stored. */
  put(bytes: Uint8Array, o?: { signal?: AbortSignal }): Promise<EntityHash>;
  /** The object named `hash`, or undefined when storage does not hold it. */
  get(
    hash: EntityHash,
    o?: { signal?: AbortSignal },
  ): Promise<Uint8Array | undefined>;
}

/** Length of a revocation commitment (a BLAKE2b-256 digest), bytes. */
const COMMITMENT_BYTES = 32;

/**
 * The hash under which storage holds the secret of `commitment`: the
 * BLAKE2b-256 multihash prefix followed by the commitment.
 */
export function commitmentHash(commitment: Uint8Array): EntityHash {
  const mh = new Uint8Array(BLAKE2B_256_PREFIX.length + commitment.length);
  mh.set(BLAKE2B_256_PREFIX, 0);
  mh.set(commitment, BLAKE2B_256_PREFIX.length);
  return toBase64Url(mh) as EntityHash;
}

/**
 * Revokes the object whose revocation secret is `secret` (32 bytes) by
 * storing it; resolves with the stored object's hash.
 * @throws InvalidArgumentError for a secret that is not 32 bytes; the
 *   provider's storage errors.
 */
export async function revoke(
  provider: StorageProvider,
  secret: Uint8Array,
): Promise<EntityHash> {
  if (secret.length !== COMMITMENT_BYTES) {
    throw new InvalidArgumentError(
      `a revocation secret is ${COMMITMENT_BYTES} bytes, not ${secret.length}`,
      { argument: 'secret', reason: `${secret.length} bytes` },
    );
  }
  return provider.put(secret);
}

type Answer = boolean | undefined;

/**
 * An `http_v1` storage provider. `put` and `get` always ask the server;
 * `isRevoked` is cached, coalesced and backs off (see
 * {@link HttpStorageOptions}).
 */
export class HttpStorageProvider implements StorageProvider {
  readonly name: string;
  readonly url: string;
  private readonly s: StorageSettings;
  private readonly where: StorageWhere;
  private readonly log: Logger;
  private readonly revoked: LruMap<string, true>;
  /** "Not revoked" answers: commitment to the time they end, ms. */
  private readonly unrevoked: LruMap<string, number>;
  private readonly inflight = new Map<
    string,
    Promise<[Answer, 'storage' | 'backoff']>
  >();
  /**
   * How the last exchange went: `unknown` before any, `answering` after a
   * success, `failing` after a failure (logged only on a change). Unless
   * answering, one revocation lookup goes ahead and the others wait for
   * it: a site whose Internet is gone (where even a name lookup may hang
   * until its timeout) then pays for one attempt, not one per object.
   */
  private health: 'unknown' | 'answering' | 'failing' = 'unknown';
  private quietUntilMs = 0;
  private probe: Promise<Answer> | undefined;

  /** @throws InvalidArgumentError naming a bad option. */
  constructor(o: HttpStorageOptions) {
    this.s = resolveOptions(o);
    this.name = o.name;
    this.url = this.s.url;
    this.where = { provider: o.name, url: this.url };
    this.revoked = new LruMap(this.s.maxCacheEntries);
    this.unrevoked = new LruMap(this.s.maxCacheEntries);
    this.log = this.s.logger.child({
      component: 'storage-client',
      provider: o.name,
      url: this.url,
    });
  }

  /**
   * Stores `bytes` and checks the hash the server reports.
   * @throws StorageUnavailableError, StorageBadAnswerError (the server's
   *   hash is not the bytes' hash), StorageRefusedError (e.g. too large).
   */
  async put(
    bytes: Uint8Array,
    o: { signal?: AbortSignal } = {},
  ): Promise<EntityHash> {
    const digest = revocationCommitment(bytes);
    const want = commitmentHash(digest);
    await this.exchange(
      '/obj',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ object: toBase64Url(bytes) }),
      },
      o.signal,
      (a) => {
        if (a.status !== 200 && a.status !== 201) throw this.unexpected(a);
        const got = this.hashField(a.body['hash']);
        if (got !== want) {
          throw badAnswer(this.where, `stored hash ${got}, expected ${want}`);
        }
      },
    );
    // Whatever hashes to prefix + digest revokes that commitment.
    this.revoked.set(toBase64Url(digest), true);
    this.unrevoked.delete(toBase64Url(digest));
    return want;
  }

  /**
   * The object named `hash`, checked against it, or undefined when the
   * server does not hold it.
   * @throws InvalidHashError for a malformed hash; StorageUnavailableError,
   *   StorageBadAnswerError (bytes that do not hash to `hash`: a lying or
   *   broken server), StorageRefusedError.
   */
  async get(
    hash: EntityHash,
    o: { signal?: AbortSignal } = {},
  ): Promise<Uint8Array | undefined> {
    const want = parseHash(hash);
    let found: Uint8Array | undefined;
    await this.exchange(`/obj/${want}`, { method: 'GET' }, o.signal, (a) => {
      if (a.status === 404) return;
      if (a.status !== 200) throw this.unexpected(a);
      const text = a.body['object'];
      const bytes = typeof text === 'string' ? fromBase64(text) : undefined;
      if (!bytes) throw badAnswer(this.where, '"object" is not base64');
      const got = hashOf(bytes);
      if (got !== want) {
        throw badAnswer(this.where, `object ${want} hashes to ${got}`);
      }
      found = bytes;
    });
    return found;
  }

  /**
   * Whether the secret of `commitment` (32 bytes) is stored: true, false,
   * or undefined when the server cannot be asked or answers wrongly. Never
   * rejects for a storage failure.
   * @throws InvalidArgumentError for a commitment that is not 32 bytes.
   */
  async isRevoked(commitment: Uint8Array): Promise<Answer> {
    if (commitment.length !== COMMITMENT_BYTES) {
      throw new InvalidArgumentError(
        `a revocation commitment is ${COMMITMENT_BYTES} bytes, ` +
          `not ${commitment.length}`,
        { argument: 'commitment', reason: `${commitment.length} bytes` },
      );
    }
    const key = toBase64Url(commitment);
    const cached = this.cached(key);
    if (cached !== undefined) return this.count(cached, 'cache');
    if (this.s.clock.now() < this.quietUntilMs) {
      return this.count(undefined, 'backoff');
    }
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.lookupWhenDue(key, commitment).finally(() =>
        this.inflight.delete(key),
      );
      this.inflight.set(key, pending);
    }
    const [answer, source] = await pending;
    return this.count(answer, source);
  }

  /**
   * Looks up at once while the server answers. Otherwise one lookup goes
   * first and the others wait for it: they follow if it got an answer,
   * and answer "unknown" without a request if it failed.
   */
  private async lookupWhenDue(
    key: string,
    commitment: Uint8Array,
  ): Promise<[Answer, 'storage' | 'backoff']> {
    if (!this.answering()) {
      if (!this.probe) {
        const first = this.lookup(key, commitment);
        this.probe = first.finally(() => (this.probe = undefined));
        return [await first, 'storage'];
      }
      await this.probe;
      const cached = this.cached(key);
      if (cached !== undefined) return [cached, 'storage'];
      if (!this.answering()) return [undefined, 'backoff'];
    }
    return [await this.lookup(key, commitment), 'storage'];
  }

  private cached(key: string): Answer {
    if (this.revoked.get(key)) return true;
    const untilMs = this.unrevoked.get(key);
    if (untilMs === undefined) return undefined;
    if (this.s.clock.now() < untilMs) return false;
    this.unrevoked.delete(key);
    return undefined;
  }

  private async lookup(key: string, commitment: Uint8Array): Promise<Answer> {
    try {
      if (await this.get(commitmentHash(commitment))) {
        this.revoked.set(key, true);
        return true;
      }
      this.unrevoked.set(key, this.s.clock.now() + this.s.unrevokedTtlMs);
      return false;
    } catch (err) {
      // Any failure, a refusal included (a server that does not speak
      // this protocol), leaves the answer unknown for a while.
      this.failed(err);
      return undefined;
    }
  }

  /**
   * One exchange, then `check` on its answer. Success ends a failure
   * period; an unreachable server or a wrong answer starts one.
   */
  private async exchange(
    path: string,
    init: RequestInit,
    signal: AbortSignal | undefined,
    check: (a: JsonAnswer) => void,
  ): Promise<void> {
    try {
      const a = await exchange(this.url + path, init, {
        where: this.where,
        fetch: this.s.fetch,
        timeoutMs: this.s.timeoutMs,
        signal,
      });
      check(a);
      this.recovered();
    } catch (err) {
      if (
        err instanceof StorageUnavailableError ||
        err instanceof StorageBadAnswerError
      ) {
        this.failed(err);
      }
      throw err;
    }
  }

  /** Whether the last exchange succeeded. */
  private answering(): boolean {
    return this.health === 'answering';
  }

  private failed(err: unknown): void {
    this.quietUntilMs = this.s.clock.now() + this.s.retryAfterMs;
    const code = err instanceof WavemqError ? err.code : 'UNEXPECTED';
    const fields = {
      code,
      err: errorMessage(err),
      retryAfterMs: this.s.retryAfterMs,
    };
    if (this.health === 'failing') {
      this.log.debug(fields, 'storage provider still failing');
      return;
    }
    this.health = 'failing';
    this.log.warn(
      fields,
      'storage provider failed; revocation lookups unknown meanwhile',
    );
  }

  private recovered(): void {
    this.quietUntilMs = 0;
    const was = this.health;
    this.health = 'answering';
    if (was === 'failing') this.log.info('storage provider answers again');
  }

  private hashField(value: unknown): EntityHash {
    if (typeof value !== 'string') {
      throw badAnswer(this.where, 'answer has no "hash" string');
    }
    try {
      return parseHash(value);
    } catch {
      throw badAnswer(this.where, `"hash" is not a hash`);
    }
  }

  private unexpected(a: JsonAnswer): Error {
    if (a.status >= 400 && a.status < 500) return refused(this.where, a);
    return badAnswer(this.where, `unexpected HTTP ${a.status}`);
  }

  private count(answer: Answer, source: string): Answer {
    const result =
      answer === undefined ? 'unknown' : answer ? 'revoked' : 'unrevoked';
    this.s.metrics?.revocationLookups.inc({
      provider: this.name,
      result,
      source,
    });
    return answer;
  }
}
