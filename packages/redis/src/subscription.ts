import { withDeadline } from './deadline.js';
import type { MessageHandler } from './store.js';

/** What node-redis subscribes on: a client's subscriber connection, or a cluster (which picks a node itself). */
export interface PubSubTarget {
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  unsubscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
}

/**
 * SUBSCRIBE within a deadline, for both node-redis drivers. Once the deadline has passed the caller was told it
 * failed: a SUBSCRIBE confirmed later delivers nothing and is undone. Resolves with a function that ends it.
 */
export async function subscribeWithin(
  timeoutMs: number,
  target: () => Promise<PubSubTarget>,
  channel: string,
  handler: MessageHandler,
  onError: (error: Error) => void,
): Promise<() => Promise<void>> {
  let live = true;
  const listener = (message: string, from: string): void => {
    if (live) handler(message, from);
  };
  let sub: PubSubTarget | undefined;
  let subscribing: Promise<unknown> | undefined;
  try {
    await withDeadline(timeoutMs, 'SUBSCRIBE', async () => {
      const ready = await target();
      if (!live) return;
      sub = ready;
      subscribing = ready.subscribe(channel, listener);
      await subscribing;
    });
  } catch (error) {
    live = false;
    subscribing?.then(() => sub?.unsubscribe(channel, listener)).catch(onError);
    throw error;
  }
  return async () => {
    live = false;
    const active = sub;
    if (!active) return;
    await withDeadline(timeoutMs, 'UNSUBSCRIBE', () => active.unsubscribe(channel, listener)).catch(onError);
  };
}
