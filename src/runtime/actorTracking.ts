/**
 * What the runtime must remember about an actor's effects, folded from its stream: timers started and not yet
 * fired or cancelled, model requests without an outcome, messages it sent. Rehydration re-arms, re-issues and
 * re-delivers exactly these.
 */
export interface ActorTracking {
  eventIds: GrowOnlySet;
  /** `opened`: the revision of the `timer.started` / `model.requested` (where known), so a checkpoint can say where open effects begin. */
  activeTimers: Map<string, { key: string; dueAt: number; opened?: bigint }>;
  pendingRequests: Map<string, { model: string; prompt: string; attempt: number; cancelled: boolean; opened?: bigint }>;
  sentMessages: GrowOnlyMap<SentMessage>;
}

type SentMessage = { to: string; messageType: string; data: Record<string, unknown>; recordEventId: string };

/** Every event id, and every message sent: they only grow, with the actor's whole history. */
export interface GrowOnlySet {
  has(value: string): boolean;
  add(value: string): unknown;
}

export interface GrowOnlyMap<V> extends Iterable<[string, V]> {
  set(key: string, value: V): unknown;
}

export function emptyTracking(): ActorTracking {
  return { eventIds: new Set(), activeTimers: new Map(), pendingRequests: new Map(), sentMessages: new Map() };
}

/**
 * A copy to stage a group's events on, adopted only if the group's write succeeds. The small maps (what is active
 * or pending now) are copied; the two that grow with the actor's history are not: the copy adds to a layer of its
 * own over them, so staging a fact costs the same in a session's ten-thousandth turn as in its first.
 */
export function copyTracking(tracking: ActorTracking): ActorTracking {
  return {
    eventIds: new LayeredSet(flatSet(tracking.eventIds)),
    activeTimers: new Map(tracking.activeTimers),
    pendingRequests: new Map(tracking.pendingRequests),
    sentMessages: new LayeredMap(flatMap(tracking.sentMessages)),
  };
}

/** A staged copy made the actor's own after its write succeeded: its layers are folded into what they lie over. */
export function settleTracking(tracking: ActorTracking): ActorTracking {
  return {
    ...tracking,
    eventIds: tracking.eventIds instanceof LayeredSet ? tracking.eventIds.settle() : tracking.eventIds,
    sentMessages: tracking.sentMessages instanceof LayeredMap ? tracking.sentMessages.settle() : tracking.sentMessages,
  };
}

function flatSet(set: GrowOnlySet): Set<string> {
  return set instanceof LayeredSet ? set.settle() : set as Set<string>;
}

function flatMap<V>(map: GrowOnlyMap<V>): Map<string, V> {
  return map instanceof LayeredMap ? (map as LayeredMap<V>).settle() : map as Map<string, V>;
}

class LayeredSet implements GrowOnlySet {
  readonly #base: Set<string>;
  readonly #added = new Set<string>();
  constructor(base: Set<string>) {
    this.#base = base;
  }
  has(value: string): boolean {
    return this.#added.has(value) || this.#base.has(value);
  }
  add(value: string): void {
    if (!this.#base.has(value)) this.#added.add(value);
  }
  settle(): Set<string> {
    for (const value of this.#added) this.#base.add(value);
    this.#added.clear();
    return this.#base;
  }
}

class LayeredMap<V> implements GrowOnlyMap<V> {
  readonly #base: Map<string, V>;
  readonly #added = new Map<string, V>();
  constructor(base: Map<string, V>) {
    this.#base = base;
  }
  set(key: string, value: V): void {
    this.#added.set(key, value);
  }
  *[Symbol.iterator](): Iterator<[string, V]> {
    for (const entry of this.#base) if (!this.#added.has(entry[0])) yield entry;
    yield* this.#added;
  }
  settle(): Map<string, V> {
    for (const [key, value] of this.#added) this.#base.set(key, value);
    this.#added.clear();
    return this.#base;
  }
}

/** Applies one event (as written or read, with its revision where known) to the tracking; mutates it. */
export function trackEvent(tracking: ActorTracking, event: { eventId: string; type: string; data: unknown; revision?: bigint }, revision = event.revision): void {
  tracking.eventIds.add(event.eventId);
  const data = event.data as Record<string, unknown>;
  switch (event.type) {
    case 'timer.started':
      tracking.activeTimers.set(data.timerId as string, { key: data.key as string, dueAt: Date.parse(data.dueAt as string), opened: revision });
      break;
    case 'timer.fired':
    case 'timer.cancelled':
      tracking.activeTimers.delete(data.timerId as string);
      break;
    case 'model.requested':
      tracking.pendingRequests.set(data.requestId as string, { model: data.model as string, prompt: data.prompt as string, attempt: data.attempt as number, cancelled: false, opened: revision });
      break;
    case 'model.cancelled': {
      const request = tracking.pendingRequests.get(data.requestId as string);
      if (request) tracking.pendingRequests.set(data.requestId as string, { ...request, cancelled: true });
      break;
    }
    case 'model.responded':
    case 'model.failed':
      tracking.pendingRequests.delete(data.requestId as string);
      break;
    case 'message.sent':
      tracking.sentMessages.set(data.messageId as string, {
        to: data.to as string, messageType: data.messageType as string, data: data.data as Record<string, unknown>, recordEventId: event.eventId,
      });
      break;
  }
}

/**
 * The revision a rehydration must read the stream from to know every effect still open after `revision` (the
 * earliest `timer.started` or `model.requested` not yet closed, else the next revision); undefined when an open
 * effect's revision is not known. Messages are not counted: a message and its delivery are written in one atomic
 * append, so none is ever left undelivered behind a checkpoint on a store that appends atomically.
 */
export function openEffectsFrom(tracking: ActorTracking, revision: bigint): bigint | undefined {
  let from = revision + 1n;
  for (const open of [...tracking.activeTimers.values(), ...tracking.pendingRequests.values()]) {
    if (open.opened === undefined) return undefined;
    if (open.opened < from) from = open.opened;
  }
  return from;
}

export function activeTimerWithKey(tracking: ActorTracking, key: string): string | undefined {
  for (const [timerId, timer] of tracking.activeTimers) if (timer.key === key) return timerId;
  return undefined;
}
