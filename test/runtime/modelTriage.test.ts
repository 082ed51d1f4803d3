import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { ledgerViolations } from '../../projections/tokenLedger/ledgerInvariants.ts';
import type { EventData } from '../../src/events/catalogue.ts';
import { createScriptedModel } from '../../src/models/scriptedModel.ts';
import type { LanguageModel } from '../../src/models/languageModel.ts';
import { foldActor, machineEventOf, persistedState } from '../../src/runtime/actorFold.ts';
import { actorKindOf } from '../../src/runtime/actorKinds.ts';
import { modelResolver } from '../../src/runtime/modelResolver.ts';
import { collect } from '../../src/store/eventStore.ts';
import { sessionScenario } from '../support/sessionScenario.ts';

const QUESTION = { text: 'Which maize variety suits the short rains?', region: 'KE', purpose: 'sustainable_agriculture' };

/** The agents' models as usual; `triage` answers with whatever `reply` gives it (a JSON decision, or not). */
function withTriage(reply: () => string) {
  return (clock: Parameters<typeof modelResolver>[0]) => {
    const agents = modelResolver(clock);
    const triage = createScriptedModel({ spec: 'triage', latencyMs: 30, wait: (ms, signal) => clock.wait(ms, signal), replies: () => ({ text: reply(), usage: { inputTokens: 180, outputTokens: 40 } }) });
    return (spec: string): LanguageModel => (spec === 'triage' ? triage : agents(spec));
  };
}

async function triaged(reply: () => string, declare = false, purpose = QUESTION.purpose) {
  const s = sessionScenario({ seed: `model-triage-${reply()}`, triageModel: 'triage', models: withTriage(reply) });
  if (declare) await s.declare('e1', 'KE', 'drought');
  await s.start('s1', { model: 'scripted:latency=20,seed=5' });
  const outcome = await s.ask('s1', { ...QUESTION, purpose });
  const session = await collect(s.store.readStream('session-s1'));
  const decided = session.find((e) => e.type === 'triage.decided')!.data as EventData<'triage.decided'>;
  return { s, outcome, session, decided };
}

describe('triage delegated to a model', () => {
  it('a model\'s JSON decision is recorded as the turn\'s triage, its call reserved and settled on the session\'s own account', async () => {
    const { s, outcome, session, decided } = await triaged(() => '{"mode": "council", "roles": ["agronomist", "economist"], "confidence": 0.82, "rationale": "Seed choice depends on soils and prices."}');
    expect(decided.decidedBy).toMatchObject({ by: 'model', model: 'triage' });
    expect(decided.decision).toMatchObject({ mode: 'council', roles: ['agronomist', 'economist'], confidence: 0.82 });
    expect(decided.decision.rationale).toMatch(/^Decided by the triage model triage: Seed choice depends on soils and prices\. \(The rules read complexity [\d.]+ and chose express\.\)$/);
    // The rules' signals are recorded beside the model's decision.
    expect(decided.decision.signals.length).toBe(7);
    expect(outcome).toMatchObject({ mode: 'council', status: 'answered' });
    // The call is a recorded request on the session's stream, and its outcome is what the decision cites.
    const requested = session.find((e) => e.type === 'model.requested')!.data as EventData<'model.requested'>;
    expect(requested.prompt).toContain(`Request: ${QUESTION.text}`);
    expect(decided.decidedBy!.requestId).toBe(requested.requestId);
    const { events, state } = await s.ledger('s1');
    const forTriage = events.filter((e) => (e.data as { requestId?: string }).requestId === requested.requestId).map((e) => e.type);
    expect(forTriage).toEqual(['tokens.reserved', 'tokens.settled']);
    expect(state.usage.byAgent['session-s1']).toMatchObject({ calls: 1, inputTokens: 180, outputTokens: 40 });
    expect(ledgerViolations(state)).toEqual([]);
    // Replay folds the session without calling anything, to the live state.
    const live = s.steps.filter((step) => step.streamId === 'session-s1').map((step) => step.state);
    const folded: unknown[] = [];
    foldActor(actorKindOf('session-s1'), session, (_e, snapshot) => folded.push(persistedState(actorKindOf('session-s1'), snapshot)));
    expect(folded).toEqual(live);
    const bare = createActor(actorKindOf('session-s1').machine).start();
    for (const e of session) bare.send(machineEventOf(e));
    expect(bare.getSnapshot().value).toEqual('ready');
  });

  it('a reply that is not the JSON asked for falls back to the rules, and says why', async () => {
    const { decided, outcome } = await triaged(() => 'I think a council would be best here.');
    expect(decided.decidedBy).toMatchObject({ by: 'rules', model: 'triage' });
    expect(decided.decidedBy!.fallback).toMatch(/^the triage model triage did not answer with the JSON asked for/);
    expect(decided.decision.mode).toBe('express');
    expect(outcome.status).toBe('answered');
  });

  it('a model cannot declare an emergency that is not declared; where one is, its roles stand', async () => {
    const invented = await triaged(() => '{"mode": "emergency", "roles": ["firefighter"], "confidence": 0.9, "rationale": "Sounds urgent."}');
    expect(invented.decided.decidedBy!.fallback).toMatch(/chose emergency, but no emergency is declared/);
    expect(invented.decided.decision.mode).toBe('express');
    const declared = await triaged(() => '{"mode": "emergency", "roles": ["firefighter"], "confidence": 0.9, "rationale": "The drought is on."}', true, 'climate_adaptation');
    expect(declared.decided.decision).toMatchObject({ mode: 'emergency', roles: ['agronomist', 'water_engineer', 'food_security'] });
    expect(declared.decided.decision.emergency).toMatchObject({ emergencyId: 'e1', kind: 'drought' });
  });
});
