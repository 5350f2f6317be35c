/**
 * Which queues want a published URI: a trie of subscription patterns per
 * namespace, where `+` matches one segment and `*` zero or more. Matching
 * walks literal, `+` and `*` branches together, so its cost grows with the
 * number of distinct patterns that could match, not with all patterns.
 */
import type { QueueId } from '../common/ids.ts';

interface Node {
  children: Map<string, Node>;
  queues: Set<QueueId>;
}

function newNode(): Node {
  return { children: new Map(), queues: new Set() };
}

/** Subscription patterns by namespace, each pointing at a queue. */
export class SubscriptionIndex {
  private readonly roots = new Map<string, Node>();
  private readonly byQueue = new Map<
    QueueId,
    { ns: string; pattern: string }
  >();

  /** Number of registered subscriptions. */
  get size(): number {
    return this.byQueue.size;
  }

  /** Registers (or moves) `queue` to `pattern` in namespace `ns`. */
  add(ns: string, pattern: string, queue: QueueId): void {
    this.remove(queue);
    let node: Node | undefined = this.roots.get(ns);
    if (!node) {
      node = newNode();
      this.roots.set(ns, node);
    }
    for (const seg of pattern.split('/')) {
      let next: Node | undefined = node.children.get(seg);
      if (!next) {
        next = newNode();
        node.children.set(seg, next);
      }
      node = next;
    }
    node.queues.add(queue);
    this.byQueue.set(queue, { ns, pattern });
  }

  /** Forgets `queue`, pruning trie branches left empty. */
  remove(queue: QueueId): void {
    const entry = this.byQueue.get(queue);
    if (!entry) return;
    this.byQueue.delete(queue);
    const root = this.roots.get(entry.ns);
    if (!root) return;
    prune(root, entry.pattern.split('/'), 0, queue);
    if (root.children.size === 0 && root.queues.size === 0) {
      this.roots.delete(entry.ns);
    }
  }

  /** The pattern registered for `queue`, if any. */
  get(queue: QueueId): { ns: string; pattern: string } | undefined {
    return this.byQueue.get(queue);
  }

  /** Every queue whose pattern matches the concrete `uri` in `ns`. */
  match(ns: string, uri: string): Set<QueueId> {
    const out = new Set<QueueId>();
    const root = this.roots.get(ns);
    if (root) walk(root, uri.split('/'), 0, out);
    return out;
  }
}

function walk(node: Node, segs: string[], i: number, out: Set<QueueId>): void {
  if (i === segs.length) {
    for (const q of node.queues) out.add(q);
  } else {
    const lit = node.children.get(segs[i] as string);
    if (lit) walk(lit, segs, i + 1, out);
    const plus = node.children.get('+');
    if (plus) walk(plus, segs, i + 1, out);
  }
  const star = node.children.get('*');
  if (star) {
    // `*` absorbs zero or more segments: try every remaining suffix.
    for (let j = i; j <= segs.length; j++) walk(star, segs, j, out);
  }
}

function prune(node: Node, segs: string[], i: number, queue: QueueId): boolean {
  if (i === segs.length) {
    node.queues.delete(queue);
  } else {
    const seg = segs[i] as string;
    const child = node.children.get(seg);
    if (child && prune(child, segs, i + 1, queue)) node.children.delete(seg);
  }
  return node.children.size === 0 && node.queues.size === 0;
}
