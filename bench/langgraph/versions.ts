import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';

/** What the comparison ran on: written next to its figures, since they mean nothing without it. */
export interface BenchEnvironment {
  date: string;
  machine: string;
  node: string;
  /** SQLite in node:sqlite (Chronicle) and in better-sqlite3 (LangGraph's SqliteSaver). */
  sqliteChronicle: string;
  sqliteLangGraph: string;
  chronicle: string;
  langgraph: string;
  checkpointSqlite: string;
}

export function benchEnvironment(): BenchEnvironment {
  const cpuList = cpus();
  const memory = new DatabaseSync(':memory:');
  const sqliteChronicle = (memory.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  memory.close();
  const saver = SqliteSaver.fromConnString(':memory:');
  const sqliteLangGraph = (saver.db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  saver.db.close();
  return {
    date: new Date().toISOString().slice(0, 10),
    machine: `${cpuList.length} × ${cpuList[0]?.model ?? 'unknown cpu'}`,
    node: process.version,
    sqliteChronicle,
    sqliteLangGraph,
    chronicle: versionOf('../../package.json'),
    langgraph: versionOf('../../node_modules/@langchain/langgraph/package.json'),
    checkpointSqlite: versionOf('../../node_modules/@langchain/langgraph-checkpoint-sqlite/package.json'),
  };
}

function versionOf(packageJson: string): string {
  return (JSON.parse(readFileSync(new URL(packageJson, import.meta.url), 'utf8')) as { version: string }).version;
}
