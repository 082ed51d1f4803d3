// The worked example of docs/harness.md, as a user would write it (there it imports from 'chronicle/harness').
import { describe, expect, it } from 'vitest';
import { createHarness } from '../../src/harness/index.ts';

describe('flood advice', () => {
  it('answers on the fallback while the primary provider is down, and replays to the same state', async () => {
    const harness = createHarness({
      seed: 'flood-advice',
      latencyMs: 200,
      script: {
        express: {
          0: 'Raise the embankments first.',
          1: [{ fail: 'server' }, { fail: 'server' }, 'Mangroves in front of them.'],
        },
      },
      session: { model: 'openai:gpt-4o-mini', fallbackModel: 'anthropic:claude-sonnet-4', breakerThreshold: 2 },
    });
    await harness.startSession('s1');

    const first = await harness.ask('s1', { text: 'What protects Khulna from monsoon floods?', region: 'BD' });
    expect(first).toMatchObject({ status: 'answered', text: 'Raise the embankments first.' });
    const second = await harness.ask('s1', { text: 'And after that?', region: 'BD' });
    expect(second.text).toBe('Mangroves in front of them.');

    // Two failures open the breaker; the third attempt goes to the fallback.
    await harness.expectEvents([
      { type: 'model.failed', data: { kind: 'server' } },
      { type: 'model.failed', data: { kind: 'server' } },
      { type: 'timer.started', data: { key: 'breakerCooldown' } },
      { type: 'model.requested', data: { model: 'anthropic:claude-sonnet-4', attempt: 3 } },
      'model.responded',
    ], { stream: 'agent-s1.express.0' });

    // The session as of turn 0's reconciliation, folded from the log now, holds that turn's one call.
    const [firstTurn] = await harness.events({ session: 's1', type: 'budget.reconciled' });
    const then = await harness.projectionAt('s1', firstTurn);
    expect(then.ledger.usage.total.calls).toBe(1);
    expect(then.climate.totals.all.calls).toBe(1);

    // Every actor refolded from the store equals what ran live, event by event.
    await harness.replayMatchesLive();
    await harness.close();
  });
});
