import t from 'tap';
import type { EntityHash } from '../../src/common/ids.ts';
import {
  Entity,
  HttpStorageProvider,
  revoke,
  StorageSet,
  type StorageProvider,
} from '../../src/wave/index.ts';
import { startStorage } from '../helpers/storage.ts';

/** A provider that answers revocation lookups with `answer`. */
function fixed(
  answer: () => Promise<boolean | undefined>,
  name = 'fixed',
): StorageProvider {
  return {
    name,
    url: `http://${name}.invalid/v1`,
    put: () => Promise.resolve('' as EntityHash),
    get: () => Promise.resolve(undefined),
    isRevoked: answer,
  };
}

const yes = fixed(() => Promise.resolve(true), 'yes');
const no = fixed(() => Promise.resolve(false), 'no');
const unknown = fixed(() => Promise.resolve(undefined), 'unknown');
const never = fixed(() => new Promise(() => undefined), 'never');
const throws = fixed(() => Promise.reject(new Error('boom')), 'throws');
const c = new Uint8Array(32);

t.test('storage set: combines the answers of its providers', async (t) => {
  t.equal(await new StorageSet([no, no]).isRevoked(c), false, 'all say no');
  t.equal(await new StorageSet([no, yes]).isRevoked(c), true, 'one says yes');
  t.equal(await new StorageSet([unknown, yes]).isRevoked(c), true);
  t.equal(await new StorageSet([no, unknown]).isRevoked(c), undefined);
  t.equal(
    await new StorageSet([no, throws]).isRevoked(c),
    undefined,
    'a provider that rejects counts as unknown',
  );
  t.equal(
    await new StorageSet([never, yes]).isRevoked(c),
    true,
    'a revocation does not wait for slow providers',
  );
  t.equal(await new StorageSet([]).isRevoked(c), undefined, 'none: unknown');
});

t.test(
  'storage set: over real servers, a revocation on one of them counts, an unreachable one leaves the rest unknown',
  async (t) => {
    const a = await startStorage(t);
    const b = await startStorage(t);
    const pa = new HttpStorageProvider({ name: 'a', url: a.url });
    const pb = new HttpStorageProvider({ name: 'b', url: b.url });
    const set = new StorageSet([pa, pb]);
    const e = Entity.create();
    const commitment = e.publicEntity.revocationCommitment;
    t.equal(await set.isRevoked(commitment), false);
    await revoke(
      new HttpStorageProvider({ name: 'b2', url: b.url }),
      e.revocationSecret,
    );
    const later = new StorageSet([
      new HttpStorageProvider({ name: 'a', url: a.url }),
      new HttpStorageProvider({ name: 'b', url: b.url }),
    ]);
    t.equal(await later.isRevoked(commitment), true);
    await b.stop();
    const other = Entity.create().publicEntity.revocationCommitment;
    t.equal(await later.isRevoked(other), undefined);
    t.equal(
      await later.isRevoked(commitment),
      true,
      'cached: revocation is permanent',
    );
  },
);
