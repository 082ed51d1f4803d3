import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { createInspector, StatelyInspectionEvent } from '@statelyai/inspect';
import { WebSocket, WebSocketServer } from 'ws';

/** An `@statelyai/inspect` adapter: where an inspector's events go. */
export type InspectionAdapter = Parameters<typeof createInspector>[0];

/** `@statelyai/inspect`'s own default (`createInspectorServer`, and `createWebSocketInspector`'s ws://localhost:8080). */
export const DEFAULT_INSPECT_PORT = 8080;
/** The Stately inspector UI the bridge page embeds. */
export const STATELY_INSPECTOR_URL = 'https://stately.ai/inspect';
/**
 * Messages kept for viewers who connect late, oldest dropped first: enough for long sessions, bounded because
 * snapshots carry whole contexts (prompts, answers).
 */
const HISTORY_LIMIT = 20_000;

export class InspectPortError extends Error {
  override readonly name = 'InspectPortError';
}

export interface InspectionServer {
  port: number;
  /** Open this in a browser: the Stately inspector, fed from this server. */
  pageUrl: string;
  /** Where inspection events are sent, one JSON `StatelyInspectionEvent` per message (what `createWebSocketReceiver` reads). */
  socketUrl: string;
  adapter: InspectionAdapter;
  viewers(): number;
  /** Resolves true once a viewer is connected, false if none connects within the time. */
  waitForViewer(timeoutMs: number): Promise<boolean>;
  /** Delivers what is still buffered to every viewer, then closes their connections and the server. */
  close(): Promise<void>;
}

/**
 * A local inspection server, on loopback only since events carry prompts and answers. It plays the part of
 * `@statelyai/inspect/server`'s relay (a bridge page that posts the events into the Stately inspector's iframe, and
 * a WebSocket that streams them as JSON, exactly as `createWebSocketInspector` sends them), but lives in-process so
 * Chronicle knows when a viewer is connected, sends a late viewer everything so far (up to HISTORY_LIMIT messages,
 * not the newest 200), and never opens a browser by itself.
 */
export async function startInspectionServer(port: number): Promise<InspectionServer> {
  const http = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(bridgePage());
  });
  const sockets = new WebSocketServer({ server: http });
  // The WebSocket server re-emits the HTTP server's errors; the listen below is what reports them.
  sockets.on('error', () => {});
  const history: string[] = [];
  const pending = new Set<Promise<void>>();
  const arrivals = new Set<() => void>();
  let closing: Promise<void> | undefined;

  const deliver = (socket: WebSocket, message: string) => {
    const sent = new Promise<void>((resolve) => socket.send(message, () => resolve()));
    pending.add(sent);
    void sent.then(() => pending.delete(sent));
  };
  sockets.on('connection', (socket) => {
    for (const message of history) deliver(socket, message);
    for (const arrived of arrivals) arrived();
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE'
      ? new InspectPortError(`port ${port} is in use; choose another with the port option (0 picks a free one)`)
      : error));
    http.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (http.address() as AddressInfo).port;
  const open = () => [...sockets.clients].filter((socket) => socket.readyState === WebSocket.OPEN);

  return {
    port: bound,
    pageUrl: `http://127.0.0.1:${bound}/`,
    socketUrl: `ws://127.0.0.1:${bound}`,
    adapter: {
      send(event: StatelyInspectionEvent) {
        const message = JSON.stringify(event);
        history.push(message);
        if (history.length > HISTORY_LIMIT) history.shift();
        for (const socket of open()) deliver(socket, message);
      },
    },
    viewers: () => open().length,
    waitForViewer(timeoutMs) {
      if (open().length > 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const arrived = () => finish(true);
        const timer = setTimeout(() => finish(false), timeoutMs);
        function finish(connected: boolean) {
          clearTimeout(timer);
          arrivals.delete(arrived);
          resolve(connected);
        }
        arrivals.add(arrived);
      });
    },
    close() {
      closing ??= closeAll();
      return closing;
    },
  };

  async function closeAll(): Promise<void> {
    await Promise.all(pending);
    await Promise.all([...sockets.clients].map((socket) => new Promise<void>((resolve) => {
      if (socket.readyState === WebSocket.CLOSED) return resolve();
      // A viewer that does not answer the closing handshake must not keep the command alive.
      const timer = setTimeout(() => { socket.terminate(); resolve(); }, 2_000);
      socket.once('close', () => { clearTimeout(timer); resolve(); });
      socket.close(1000, 'inspection finished');
    })));
    await new Promise<void>((resolve) => sockets.close(() => resolve()));
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }
}

/** The page a browser opens: the Stately inspector in an iframe, fed once it says it is ready (as the library's bridge does). */
function bridgePage(): string {
  return `<!DOCTYPE html>
<html>
<head>
  <title>Chronicle: Stately inspector</title>
  <style>html, body { height: 100%; margin: 0; } iframe { width: 100%; height: 100%; border: none; }</style>
</head>
<body>
  <iframe id="inspector" src="${STATELY_INSPECTOR_URL}"></iframe>
  <script>
    const iframe = document.getElementById('inspector');
    const buffer = [];
    let connected = false;
    window.addEventListener('message', (e) => {
      if (e.data && e.data.type === '@statelyai.connected') {
        connected = true;
        for (const event of buffer.splice(0)) iframe.contentWindow.postMessage(event, '*');
      }
    });
    const ws = new WebSocket('ws://' + location.host);
    ws.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (connected) iframe.contentWindow.postMessage(event, '*');
      else buffer.push(event);
    };
  </script>
</body>
</html>`;
}
