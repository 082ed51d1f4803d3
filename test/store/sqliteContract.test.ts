import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { eventStoreContract } from './contract.ts';

eventStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-contract-'));
  return { store: new SqliteEventStore(join(dir, 'events.db'), { pollMs: 20 }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

// Every read of many streams through the read-ahead thread, however small, so the contract covers that path too.
eventStoreContract('sqlite, many streams read ahead on a thread', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-contract-'));
  return { store: new SqliteEventStore(join(dir, 'events.db'), { pollMs: 20, readAheadMinEvents: 0 }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});
