import t from 'tap';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { linkUp } from '../helpers/messages.ts';
import { makeTier } from '../helpers/tier.ts';

type Line = Record<string, unknown>;
const serverLinkUp = (l: Line): boolean =>
  l['msg'] === 'link up' && l['side'] === 'server';

/** Paths of files named `name` under `dir`, at any depth. */
async function findFiles(dir: string, name: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name === name)
    .map((e) => join(e.parentPath, e.name));
}

t.test(
  'peer links: after the designated router restarts, the site resumes its ' +
    'TLS session under the ticket key kept in the state directory',
  async (t) => {
    const tier = await makeTier(t, 1);
    const site = tier.sites[0]!;
    const first = await tier.dr.start();
    await site.start();
    const atSite = await site.connect(await tier.agent('a'));
    await linkUp(atSite);
    const up = await first.waitForLog(serverLinkUp);
    t.equal(up['resumed'], false, 'the first link is a full handshake');
    const [keyFile, ...others] = await findFiles(
      tier.dr.dir,
      'peer-tickets.key',
    );
    t.ok(keyFile, 'the designated router wrote its ticket key file');
    t.equal(others.length, 0);
    const info = await stat(keyFile!);
    t.equal(info.size, 48);
    t.equal(info.mode & 0o777, 0o600);

    await tier.dr.kill('SIGTERM');
    await linkUp(atSite, false);
    const second = await tier.dr.start();
    await linkUp(atSite);
    const again = await second.waitForLog(serverLinkUp);
    t.equal(again['resumed'], true, 'the reconnect resumed the session');
    t.same((await stat(keyFile!)).mtimeMs, info.mtimeMs, 'the key was kept');
  },
);
