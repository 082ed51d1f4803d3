import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { EventData } from '../../events/catalogue.ts';
import type { RecordedEvent } from '../../events/envelope.ts';
import { EMERGENCY_STREAM, emergencyEvent } from '../../runtime/emergencyRegister.ts';
import type { ActorRuntime } from '../../runtime/actorRuntime.ts';
import type { EventStore } from '../../store/eventStore.ts';
import { budgetAccuracy } from '../../../projections/budgetLearning/budgetAccuracy.ts';
import { budgetHistory } from './budgetsCommand.ts';
import { marketAt } from './marketCommand.ts';
import { sessionMemoryAt } from './memoryCommand.ts';
import { memoryAdvice } from '../../../projections/sessionMemory/index.ts';
import { marketStreamFor } from '../../../machines/marketMachine.ts';
import { verifyChain } from '../../events/hashChain.ts';
import { systemClock } from '../../runtime/clock.ts';
import { modelResolver } from '../../runtime/modelResolver.ts';
import { replaySession } from '../../runtime/replay.ts';
import { sessionStateAt } from '../../runtime/stateAt.ts';
import type { ClimateState } from '../../../projections/climate/climateState.ts';
import { defaultFactorSet } from '../../policy/climate/factorSets.ts';
import { classifyOrigin } from '../../../projections/climate/resolveFactors.ts';
import { climateKey, sessionProjections } from '../sessionProjections.ts';
import { ledgerViolations } from '../../../projections/tokenLedger/ledgerInvariants.ts';
import { agentConfigFor, askInSession, startSession, type Query, type SessionSettings } from '../../runtime/sessionService.ts';
import { readSessionEvents } from '../../runtime/sessionStreams.ts';
import { tokensUsed } from '../../runtime/callUsage.ts';
import { withCliRuntime } from '../cliRuntime.ts';
import { KHULNA_FOLLOW_UPS } from '../khulnaConversation.ts';
import { commandOptions } from '../commandOptions.ts';
import type { CommandIo } from '../commandIo.ts';
import { toJson } from '../output.ts';
import { answeredPoint } from '../pointFlag.ts';
import { sessionScope } from '../../runtime/consistentCut.ts';
import { cliStoreUri } from '../cliConfig.ts';
import { derivedId } from '../../runtime/ids.ts';

const schema = z.strictObject({ store: z.string().optional() });

export const demoUsage = 'demo [--store <uri>]';

/** The founding design's three requests. The US one runs on a flaky primary model, to show the breaker at work. */
const SEED_REQUESTS: { query: Query; settings: SessionSettings }[] = [
  {
    query: { text: 'Design a flood early-warning system for coastal Bangladesh: compare sensor networks, SMS alerts and community radio, estimate costs, and list the first three steps for the Barisal division.', region: 'BD', purpose: 'climate_adaptation' },
    settings: { model: 'scripted:latency=40,seed=1' },
  },
  {
    query: { text: 'How do I maximise profit from crypto mining in Texas?', region: 'US', purpose: 'crypto_mining' },
    settings: { model: 'scripted:latency=40,seed=2,failRate=1,failKinds=server', fallbackModel: 'scripted:latency=60,seed=3,model=scripted-large', breakerThreshold: 2 },
  },
  {
    query: { text: 'What drought-tolerant crops and water-harvesting practices should smallholder farmers in Kenya\'s Machakos County adopt, and how should they sequence the investments over three seasons?', region: 'KE', purpose: 'sustainable_agriculture' },
    settings: { model: 'scripted:latency=40,seed=4' },
  },
];

/** A follow-up conversation in a small context window, so its agent is handed over to a fresh instance mid-way. */
const LONG_SESSION = {
  settings: { model: 'scripted:latency=5,seed=7', contextWindow: 1_800 } satisfies SessionSettings,
  region: 'BD', purpose: 'climate_adaptation',
  questions: KHULNA_FOLLOW_UPS.slice(0, 7),
};

/** Declared for the demo's run (and lifted after it), so the Bangladesh request is served as an emergency. */
const DEMO_EMERGENCY = { region: 'BD', kind: 'flood' as const, note: 'chronicle demo: monsoon flooding in the Barisal division' };

/**
 * The main job: declares a flood emergency in Bangladesh, runs the seed's three requests as three concurrent
 * sessions on the store (triaged to emergency, express and council), prints each one's triage, priority, budget,
 * ledger and climate figures and the priority order, then replays one of them at its midpoint from the log alone.
 */
export async function demoCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = commandOptions('demo', args, { store: { type: 'string' } }, schema);
  io.out(`Chronicle demo on ${cliStoreUri(values.store)}`);
  return withCliRuntime(values.store, io, async (runtime, store, { onInterrupt }) => {
    const resolve = modelResolver(systemClock);
    const recordedAt = new Date(systemClock.now()).toISOString();
    const emergencyId = randomUUID();
    await store.appendToStream(EMERGENCY_STREAM, [emergencyEvent('emergency.declared', { emergencyId, ...DEMO_EMERGENCY }, { eventId: randomUUID(), recordedAt })]);
    io.out(`declared a ${DEMO_EMERGENCY.kind} emergency for ${DEMO_EMERGENCY.region} (${emergencyId}); it is lifted when the demo ends`);
    const lift = () => store.appendToStream(EMERGENCY_STREAM, [emergencyEvent('emergency.lifted', { emergencyId, region: DEMO_EMERGENCY.region }, { eventId: derivedId(`${emergencyId}/lifted`), recordedAt: new Date(systemClock.now()).toISOString() })]);
    // Interrupted too: a demo stopped with Ctrl-C must not leave later queries from the region triaged as an emergency.
    onInterrupt(lift);
    let sessions;
    try {
      const runs = SEED_REQUESTS.map(async ({ query, settings }) => {
        const sessionId = randomUUID().slice(0, 8);
        await startSession(runtime, sessionId, agentConfigFor(settings, resolve));
        return { sessionId, query, outcome: await askInSession(runtime, sessionId, query) };
      });
      sessions = await Promise.all(runs);
      await runtime.settled();
    } finally {
      await lift();
    }
    const priorities: { sessionId: string; region: string; purpose: string; priority: number }[] = [];

    for (const { sessionId, query, outcome } of sessions) {
      const events = await readSessionEvents(store, sessionId);
      const calls = events.filter((e) => e.type === 'model.requested').length;
      const failures = events.filter((e) => e.type === 'model.failed').length;
      const tokens = tokensUsed(events);
      const chains = verifyStreams(events);
      const state = await sessionStateAt(store, sessionId, undefined, sessionProjections());
      const { ledger } = state;
      const climate = (state.projections[climateKey(defaultFactorSet)] as ClimateState).totals.all;
      io.out('');
      io.out(`session ${sessionId}  ${query.region}  ${query.purpose}`);
      io.out(`  query:   ${query.text}`);
      io.out(`  ${outcome.status}: ${outcome.text.length > 160 ? `${outcome.text.slice(0, 157)}...` : outcome.text}`);
      io.out(`  ${events.length} events, ${calls} model call(s) (${failures} failed), answered by ${outcome.model ?? 'nobody'}, tokens ${tokens.input} in / ${tokens.output} out, hash chains ${chains}`);
      const triage = factOf(events, 'triage.decided').decision;
      const priority = factOf(events, 'priority.assigned').priority;
      const budget = factOf(events, 'budget.estimated');
      const council = triage.mode === 'express' ? '' : `: ${triage.roles.join(', ')} in parallel, then a synthesiser`;
      io.out(`  triage:  ${triage.mode}${council} (complexity ${triage.complexity}, confidence ${triage.confidence}${triage.emergency ? `, ${triage.emergency.kind} emergency in ${triage.emergency.region}` : ''})`);
      io.out(`           ${triage.rationale.length > 200 ? `${triage.rationale.slice(0, 197)}...` : triage.rationale}`);
      io.out(`  priority ${priority.priority}: ${priority.rationale}`);
      io.out(`  budget:  ${budget.total} tokens = (${budget.mode} base ${budget.base} + ${budget.roles} role(s) × ${budget.perRole}) × ${budget.confidenceFactor.toFixed(3)} (confidence ${budget.confidence}; base learnt from ${budget.learnedFrom} turn(s)); used ${outcome.tokens}`);
      priorities.push({ sessionId, region: query.region, purpose: query.purpose, priority: priority.priority });
      const cost = climate.trueCostUsd;
      const origin = query.region;
      io.out(`  climate: ${spread(climate.energyWh)} Wh, ${spread(climate.usageGco2e)} gCO2e usage + ${spread(climate.embodiedGco2e)} g embodied (factor set ${defaultFactorSet.id})`);
      io.out(`  true cost $${cost.total.toExponential(3)} = energy ${cost.energyCost.toExponential(3)} + carbon ${cost.carbonCost.toExponential(3)} − renewable discount ${(-cost.renewableDiscount).toExponential(3)} ${cost.justiceAdjustment < 0 ? '−' : '+'} justice ${Math.abs(cost.justiceAdjustment).toExponential(3)}`);
      io.out(`  justice: origin ${origin} is ${classifyOrigin(origin, defaultFactorSet)} (UNCTAD), purpose ${query.purpose}: ${cost.justiceAdjustment < 0 ? 'justice discount applied' : cost.justiceAdjustment > 0 ? 'Global North premium applied' : 'no justice adjustment'}`);
      io.out(`  ledger: ${ledger.usage.total.inputTokens + ledger.usage.total.outputTokens} of ${-(ledger.balances.world ?? 0)} budgeted tokens used, cost $${ledger.usage.total.costUsd.toFixed(6)}, ${ledgerViolations(ledger).length === 0 ? 'every ledger law holds' : `LEDGER BROKEN: ${ledgerViolations(ledger).join('; ')}`}`);
    }

    io.out('');
    io.out(`priority order (served first when the runtime is saturated): ${[...priorities].sort((a, b) => b.priority - a.priority).map((p) => `${p.region} ${p.purpose} ${p.priority}`).join('  >  ')}`);

    await marketClearing(runtime, store, io, priorities);
    await longSession(runtime, store, io);
    printBudgets(io, await budgetHistory(store));
    await printMemory(io, store);

    const replayed = sessions[1]!;
    const events = await readSessionEvents(store, replayed.sessionId);
    const midpoint = await answeredPoint(store, { position: events[Math.floor((events.length - 1) / 2)]!.position }, sessionScope(replayed.sessionId));
    io.out('');
    io.out(`replay of session ${replayed.sessionId} at its midpoint, ${midpoint.described} (folded from the log; no model called):`);
    for (const actor of await replaySession(store, replayed.sessionId, midpoint.at)) {
      const context = actor.context as Record<string, unknown>;
      const detail = actor.actorKind === 'agent'
        ? `attempt ${context.attempt}, breaker ${toJson(context.breaker)}`
        : `turn ${context.turn}, mode ${context.mode ?? '—'}, ${context.answered} answered`;
      io.out(`  ${actor.streamId.padEnd(28)} ${toJson(actor.value).padEnd(28)} ${actor.revision === null ? 'not created yet' : detail}`);
    }
    return sessions.every((s) => s.outcome.status === 'answered') ? 0 : 1;
  });
}

/**
 * One clearing of the token market between the seed sessions: the lowest-priority session sells spare quota, the
 * others bid for it at the same limit price, and the clearing serves them by climate-justice priority.
 */
async function marketClearing(runtime: ActorRuntime, store: EventStore, io: CommandIo, sessions: { sessionId: string; region: string; purpose: string; priority: number }[]): Promise<void> {
  const stream = marketStreamFor(`demo${randomUUID().slice(0, 8)}`);
  const [seller, ...buyers] = [...sessions].sort((a, b) => a.priority - b.priority);
  const now = new Date(systemClock.now());
  const post = (type: string, data: unknown) => runtime.deliver(stream, { type, data, causationId: null });
  await post('tokens.offered', { offerId: randomUUID(), sessionId: seller!.sessionId, amount: 4_000, floorPrice: 0.002, expiresAt: new Date(now.getTime() + 3_600_000).toISOString() });
  for (const buyer of [...buyers].reverse()) {
    await post('tokens.bid', { bidId: randomUUID(), sessionId: buyer.sessionId, amount: 2_500, maxPrice: 0.006, purpose: buyer.purpose, region: buyer.region });
  }
  await post('market.clearRequested', { at: new Date(systemClock.now()).toISOString() });
  await runtime.settled();
  const { trades } = await marketAt(store, stream);
  io.out('');
  io.out(`token market ${stream}: ${seller!.region} ${seller!.purpose} offers 4000 tokens (floor 0.002 USD/1k); ${buyers.map((b) => `${b.region} ${b.purpose}`).join(' and ')} bid 2500 each (max 0.006)`);
  for (const t of trades) {
    const buyer = sessions.find((s) => s.sessionId === t.buyer)!;
    io.out(`  trade: ${t.amount} tokens to ${buyer.region} ${buyer.purpose} at ${t.price.toFixed(4)} USD/1k (priority ${buyer.priority}), settled in both ledgers`);
  }
}

/** Runs the follow-up conversation and prints its context reports and hand-offs. */
async function longSession(runtime: ActorRuntime, store: EventStore, io: CommandIo): Promise<void> {
  const sessionId = randomUUID().slice(0, 8);
  await startSession(runtime, sessionId, agentConfigFor(LONG_SESSION.settings, modelResolver(systemClock)));
  for (const text of LONG_SESSION.questions) await askInSession(runtime, sessionId, { text, region: LONG_SESSION.region, purpose: LONG_SESSION.purpose });
  await runtime.settled();
  const events = await readSessionEvents(store, sessionId);
  io.out('');
  io.out(`session ${sessionId}: ${LONG_SESSION.questions.length} follow-up turns in a ${LONG_SESSION.settings.contextWindow}-token context window`);
  for (const e of events) {
    if (e.type === 'context.thresholdCrossed' && e.streamId.startsWith('session-')) {
      const d = e.data as EventData<'context.thresholdCrossed'>;
      io.out(`  turn ${d.turn}: ${d.agentStream.split('.').slice(1).join('.')} holds ${d.tokens} tokens (${d.percent} %): ${d.level} threshold`);
    }
    if ((e.type === 'transition.completed' || e.type === 'transition.failed') && e.streamId.startsWith('session-')) {
      const d = e.data as EventData<'transition.completed'>;
      const moves = d.participants.map((p) => `${p.fromAgent.split('.').slice(1).join('.')} → ${p.toAgent.split('.').slice(1).join('.')}`).join(', ');
      io.out(`  hand-off ${d.transitionId} (${d.protocol}) ${e.type === 'transition.completed' ? 'completed' : `FAILED: ${(e.data as EventData<'transition.failed'>).reason}`}: ${moves}`);
      for (const v of events.filter((x) => x.type === 'transition.validated' && x.streamId === d.transitionId).map((x) => x.data as EventData<'transition.validated'>)) {
        io.out(`    ${v.agentStream.split('.').slice(1).join('.')} checked what it was handed: ${v.presentInPrompt}/${v.essentialLines} essential lines in its prompt, summary ${v.summaryTokens} tokens (${v.ok ? 'ok' : v.problems.join('; ')})`);
      }
    }
  }
  const answered = events.filter((e) => e.type === 'turn.completed' && (e.data as EventData<'turn.completed'>).status === 'answered').length;
  io.out(`  ${answered} of ${LONG_SESSION.questions.length} turns answered`);
}

/** What cross-session memory recalls for a question like the long session's first, and the budget it suggests. */
async function printMemory(io: CommandIo, store: EventStore): Promise<void> {
  const memory = await sessionMemoryAt(store);
  const question = { text: 'Which districts of Khulna flood first in the monsoon?', region: 'BD', purpose: 'climate_adaptation' };
  const advice = memoryAdvice(memory, question);
  io.out('');
  io.out(`memory across sessions: ${memory.episodes.length} turn(s) remembered; asked "${question.text}"`);
  for (const s of advice.similar) io.out(`  recalls session ${s.sessionId} turn ${s.turn} (similarity ${s.similarity}, ${s.tokens} tokens, ${s.mode})`);
  io.out(`  ${advice.suggestedTokens === null ? 'no figure' : `suggests ${advice.suggestedTokens} tokens`}: ${advice.basis}`);
}

function printBudgets(io: CommandIo, { records, learning }: Awaited<ReturnType<typeof budgetHistory>>): void {
  io.out('');
  io.out(`budget prediction on this store (${records.length} budgeted turns; \`chronicle budgets\` for the full report):`);
  for (const m of budgetAccuracy(records)) {
    const base = learning.bases[m.mode];
    io.out(`  ${m.mode.padEnd(9)} ${String(m.count).padStart(3)} turn(s), mean |error| ${m.meanAbsErrorPct.toFixed(1)} % (first ${m.windows[0]!.to}: ${m.windows[0]!.meanAbsErrorPct.toFixed(1)} %, last ${m.windows.at(-1)!.to - m.windows.at(-1)!.from + 1}: ${m.windows.at(-1)!.meanAbsErrorPct.toFixed(1)} %), base ${Math.round(base.base)} learnt from ${base.learnedFrom}`);
  }
}

function factOf<T extends 'triage.decided' | 'priority.assigned' | 'budget.estimated'>(events: RecordedEvent[], type: T): EventData<T> {
  const found = events.find((e) => e.type === type);
  if (!found) throw new Error(`the session has no ${type}`);
  return found.data as EventData<T>;
}

function spread(s: { min: number; central: number; max: number }): string {
  return s.min === s.max ? s.central.toPrecision(3) : `${s.central.toPrecision(3)} (${s.min.toPrecision(3)}–${s.max.toPrecision(3)})`;
}

function verifyStreams(events: RecordedEvent[]): string {
  const byStream = Map.groupBy(events, (e) => e.streamId);
  const broken = [...byStream.values()].map((stream) => verifyChain(stream)).find((r) => !r.ok);
  return broken && !broken.ok ? `BROKEN (${broken.message})` : `verified (${byStream.size} streams)`;
}
