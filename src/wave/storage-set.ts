/**
 * Revocation lookups over several storage providers (a router's
 * `[WaveConfig.storage.*]`). A secret published to any of them revokes.
 */
import type { StorageProvider } from './storage.ts';
import type { RevocationChecker } from './verifier.ts';

/**
 * Asks every provider at once. Revoked as soon as any provider says so;
 * not revoked only when every provider answered "not revoked"; otherwise
 * (some provider could not be asked, and none said revoked) unknown. A
 * provider whose lookup rejects counts as unknown. With no providers the
 * answer is always unknown: there is nothing that could say "not
 * revoked".
 */
export class StorageSet implements RevocationChecker {
  constructor(readonly providers: readonly StorageProvider[]) {}

  isRevoked(commitment: Uint8Array): Promise<boolean | undefined> {
    const n = this.providers.length;
    if (n === 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      let left = n;
      let allUnrevoked = true;
      const settle = (answer: boolean | undefined): void => {
        if (answer === true) resolve(true);
        if (answer !== false) allUnrevoked = false;
        left -= 1;
        if (left === 0) resolve(allUnrevoked ? false : undefined);
      };
      for (const p of this.providers) {
        // A rejection (or a synchronous throw) is an unknown answer: the
        // providers' own failures are logged and counted where they are.
        void Promise.resolve()
          .then(() => p.isRevoked(commitment))
          .then(settle, () => settle(undefined));
      }
    });
  }
}
