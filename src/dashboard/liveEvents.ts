import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventStore } from '../store/eventStore.ts';
import { lastEventAt } from './logAt.ts';

export const HEARTBEAT_MS = 15_000;

/**
 * `GET /api/live`: Server-Sent Events. `hello` names the last position now, then one `appended` per event the store
 * records after it, whoever wrote it (on SQLite the subscription polls, so other processes' appends arrive too).
 * The subscription starts right after the position `hello` names, so nothing falls between the two.
 */
export async function serveLive(store: EventStore, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const last = (await lastEventAt(store, undefined))?.position;
  const subscription = store.subscribeToAll({ fromPosition: last ?? 'start' });
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  response.write(`event: hello\ndata: ${JSON.stringify({ last: last === undefined ? null : String(last) })}\n\n`);
  // Comments keep proxies and the browser from timing the connection out while nothing happens.
  const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), HEARTBEAT_MS);
  const stop = () => { clearInterval(heartbeat); void subscription.stop(); };
  request.on('close', stop);
  response.on('close', stop);
  try {
    for await (const event of subscription) {
      if (response.writableEnded || response.destroyed) break;
      const data = { position: String(event.position), stream: event.streamId, type: event.type, sessionId: event.metadata.sessionId };
      response.write(`event: appended\ndata: ${JSON.stringify(data)}\n\n`);
    }
  } finally {
    stop();
    if (!response.writableEnded) response.end();
  }
}
