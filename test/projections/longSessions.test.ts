import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import type { SessionProjection } from '../../projections/sessionProjection.ts';
import { ledgerProjection } from '../../projections/tokenLedger/ledgerProjection.ts';
import { RECENT_RECONCILIATIONS, type Reconciliation } from '../../projections/tokenLedger/reconciliation.ts';
import { syntheticSession } from './syntheticSession.ts';

/**
 * Long sessions: a projection's state is what a checkpoint stores and a point-in-time query parses, so its size
 * must not grow with the session's turns or calls; and what it no longer holds must still be derivable, whole,
 * from the log.
 */
const SHORT = 50;
const LONG = 2_000;
const shortSession = syntheticSession(SHORT);
const longSession = syntheticSession(LONG);

function fold<S>(projection: SessionProjection<S>, events: readonly RecordedEvent[], from: S = projection.initial): S {
  let state = from;
  for (const event of events) state = projection.evolve(state, event);
  return state;
}

const size = (state: unknown) => JSON.stringify(state).length;

/** Bounded: the long session's state is about the short one's, whatever the 40× more turns. */
function expectBounded(short: unknown, long: unknown): void {
  expect(size(long)).toBeLessThanOrEqual(1.2 * size(short) + 512);
}

/** A checkpoint's round trip at random cuts: parse(stringify(fold(head))) folded on with the tail is the whole fold. */
function expectHalvesEqualWhole<S>(projection: SessionProjection<S>, events: readonly RecordedEvent[]): void {
  const whole = fold(projection, events);
  fc.assert(fc.property(fc.nat({ max: events.length }), (cut) => {
    const checkpoint = JSON.parse(JSON.stringify(fold(projection, events.slice(0, cut)))) as S;
    expect(fold(projection, events.slice(cut), checkpoint)).toEqual(whole);
  }), { numRuns: 25 });
}

describe('token ledger over a long session', () => {
  const short = fold(ledgerProjection, shortSession);
  const long = fold(ledgerProjection, longSession);

  it('keeps a state of bounded size: open turns only, reconciliations as an aggregate and the newest few', () => {
    expectBounded(short, long);
    expect(long.turns).toEqual({});
    expect(long.reconciliations).toHaveLength(RECENT_RECONCILIATIONS);
  });

  it('aggregates every reconciliation in the log, and keeps the newest whole', () => {
    const recorded = longSession.filter((e) => e.type === 'budget.reconciled').map((e) => e.data as Reconciliation);
    expect(recorded).toHaveLength(LONG);
    const abs = recorded.map((r) => Math.abs(r.errorPct));
    expect(long.reconciled).toEqual({
      count: LONG,
      estimated: recorded.reduce((n, r) => n + r.estimated, 0),
      actual: recorded.reduce((n, r) => n + r.actual, 0),
      sumErrorPct: recorded.reduce((n, r) => n + r.errorPct, 0),
      sumAbsErrorPct: abs.reduce((n, a) => n + a, 0),
      meanErrorPct: recorded.reduce((n, r) => n + r.errorPct, 0) / LONG,
      meanAbsErrorPct: abs.reduce((n, a) => n + a, 0) / LONG,
      maxAbsErrorPct: Math.max(...abs),
    });
    expect(long.reconciliations).toEqual(recorded.slice(-RECENT_RECONCILIATIONS));
    // Usage is still counted call by call, failed attempts released, not used.
    expect(long.usage.total.calls).toBe(LONG);
  });

  it('holds an open turn until it is reconciled, with what its answered calls reserved and used', () => {
    const reconciled = longSession.findLastIndex((e) => e.type === 'budget.reconciled');
    const beforeLast = fold(ledgerProjection, longSession.slice(0, reconciled));
    const last = longSession[reconciled]!.data as Reconciliation;
    expect(beforeLast.turns).toEqual({ [String(last.turn)]: { estimated: last.estimated, actual: last.actual } });
  });

  it('folds to the same state in two halves through a JSON round trip (a checkpoint) as all at once', () => {
    expectHalvesEqualWhole(ledgerProjection, syntheticSession(60));
    const cut = Math.floor(longSession.length / 2);
    const checkpoint = JSON.parse(JSON.stringify(fold(ledgerProjection, longSession.slice(0, cut))));
    expect(fold(ledgerProjection, longSession.slice(cut), checkpoint)).toEqual(long);
  });
});
