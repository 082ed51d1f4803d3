import {
  KurrentDBClient, PARK, PersistentSubscriptionExistsError, PINNED, START, persistentSubscriptionToStreamSettingsFromDefaults,
  type PersistentSubscriptionToStream, type ResolvedEvent,
} from '@kurrent/kurrentdb-client';
import type { SessionAssignments } from './sessionWorker.ts';

/** KurrentDB's category stream of every `session-<id>` stream (the `$by_category` projection splits at the first `-`). */
export const SESSION_CATEGORY_STREAM = '$ce-session';

/**
 * Sessions assigned to this worker by a KurrentDB persistent subscription group on `$ce-session` with the Pinned
 * strategy, so the server keeps each session on one consumer while it stays connected, and moves it when it goes.
 * A delivery is acknowledged once the worker holds the session durably (its lease is recorded), and parked with the
 * recorded reason when the session is poison, landing in the group's parked-message stream for an operator.
 */
export class PinnedAssignments implements SessionAssignments {
  private readonly client: KurrentDBClient;
  private readonly group: string;
  private readonly log: (line: string) => void;
  private subscription: PersistentSubscriptionToStream | undefined;
  private readonly assigned = new Set<string>();
  /** Deliveries not yet acknowledged, per session. */
  private readonly unacked = new Map<string, ResolvedEvent[]>();

  constructor(connectionString: string, group: string, log: (line: string) => void) {
    this.client = KurrentDBClient.connectionString(connectionString);
    this.group = group;
    this.log = log;
  }

  /** Creates the group if it does not exist yet (pinned, from the start of the category, links resolved). */
  async ensureGroup(): Promise<void> {
    try {
      await this.client.createPersistentSubscriptionToStream(SESSION_CATEGORY_STREAM, this.group, persistentSubscriptionToStreamSettingsFromDefaults({
        startFrom: START, resolveLinkTos: true, consumerStrategyName: PINNED,
      }));
    } catch (error) {
      if (!(error instanceof PersistentSubscriptionExistsError)) throw error;
    }
  }

  start(onAssigned: (sessionId: string) => void): void {
    const subscription = this.client.subscribeToPersistentSubscriptionToStream(SESSION_CATEGORY_STREAM, this.group);
    this.subscription = subscription;
    void (async () => {
      try {
        for await (const resolved of subscription) {
          const streamId = resolved.event?.streamId ?? resolved.link?.streamId;
          if (!streamId?.startsWith('session-')) {
            await subscription.ack(resolved);
            continue;
          }
          const sessionId = streamId.slice('session-'.length);
          this.assigned.add(sessionId);
          this.unacked.set(sessionId, [...(this.unacked.get(sessionId) ?? []), resolved]);
          onAssigned(sessionId);
        }
      } catch (error) {
        this.log(`persistent subscription ${SESSION_CATEGORY_STREAM}::${this.group} dropped: ${(error as Error).message}`);
      }
    })();
  }

  has(sessionId: string): boolean {
    return this.assigned.has(sessionId);
  }

  async taken(sessionId: string): Promise<void> {
    const deliveries = this.unacked.get(sessionId);
    this.unacked.delete(sessionId);
    if (deliveries && deliveries.length > 0) await this.subscription?.ack(...deliveries);
  }

  async parked(sessionId: string, reason: string): Promise<void> {
    const deliveries = this.unacked.get(sessionId);
    this.unacked.delete(sessionId);
    this.assigned.delete(sessionId);
    if (deliveries && deliveries.length > 0) await this.subscription?.nack(PARK, reason, ...deliveries);
  }

  async stop(): Promise<void> {
    await this.subscription?.unsubscribe();
    await this.client.dispose();
  }
}
