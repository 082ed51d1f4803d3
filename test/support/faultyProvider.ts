import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real OpenAI-compatible chat completions endpoint on 127.0.0.1 that misbehaves on cue: each request takes the
 * next scripted fault, and once the script is used up it answers well. The AI SDK connects to it over TCP like to
 * any provider, so every fault goes through the same fetch, parsing and abort paths a real outage would.
 */
export type Fault =
  | { type: 'answer' }
  /** Reads the request and never answers: only the client giving up ends it. */
  | { type: 'hang' }
  /**
   * An error status with an OpenAI-style error body and any extra headers (`retry-after`, `retry-after-ms`);
   * `echoKey` puts the caller's bearer token in the message, as some providers do.
   */
  | { type: 'status'; status: number; headers?: Record<string, string>; echoKey?: boolean }
  /** 200 with a body cut off mid-JSON. */
  | { type: 'invalid-json' }
  /** 200 with valid JSON that is not a chat completion. */
  | { type: 'wrong-shape' }
  /** 200 with a well-formed completion that has no choices. */
  | { type: 'empty-choices' }
  /** 200 with a good completion whose finish reason is "length": the answer stopped at the output limit. */
  | { type: 'cut-at-limit' }
  /** A reasoning model that spent its whole output limit reasoning: no text, finish reason length, 512 tokens billed. */
  | { type: 'reasoning-only' }
  /** 200 headers at once, then a good completion one byte every `byteEveryMs`: a stream slower than anyone waits for. */
  | { type: 'dribble'; byteEveryMs: number }
  /** 200 headers and half the body, then the connection is dropped. */
  | { type: 'cut-off' }
  /** The connection is reset (TCP RST) as soon as the request arrives, before any response. */
  | { type: 'reset' };

export interface ProviderRequest {
  fault: Fault;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** The client closed the connection before the full answer was sent: it aborted or timed out. */
  clientGaveUp: boolean;
}

export interface FaultyProvider {
  /** The base URL to put in an `openai-compatible:<baseURL>#<model>` spec. */
  baseURL: string;
  requests: ProviderRequest[];
  /** The next requests meet these faults, in order; after them the provider answers well again. */
  script(...faults: Fault[]): void;
  /** Requests that are still being answered (or hung): none once every client gave up or was served. */
  openRequests(): number;
  close(): Promise<void>;
}

export const PROVIDER_TEXT = 'Raise the clinic generators above the 1-in-100-year flood line.';

function completion(model: string, choices: unknown[], usage = { prompt_tokens: 40, completion_tokens: 12, total_tokens: 52 }): string {
  return JSON.stringify({ id: 'chatcmpl-fault', object: 'chat.completion', created: 1_764_000_000, model, choices, usage });
}

function goodCompletion(model: string): string {
  return completion(model, [{ index: 0, message: { role: 'assistant', content: PROVIDER_TEXT }, finish_reason: 'stop' }]);
}

const STATUS_TEXT: Record<number, string> = {
  401: 'Incorrect API key provided', 429: 'Rate limit reached for requests', 500: 'The server had an error while processing your request',
  502: 'Bad gateway', 503: 'The engine is currently overloaded, please try again later',
};

function sendJson(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Writes `body` one byte at a time; stops as soon as the client is gone. */
function dribble(res: ServerResponse, body: string, byteEveryMs: number): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.flushHeaders();
  let sent = 0;
  const timer = setInterval(() => {
    if (sent >= body.length) {
      clearInterval(timer);
      res.end();
      return;
    }
    res.write(body[sent++]);
  }, byteEveryMs);
  res.on('close', () => clearInterval(timer));
}

function misbehave(fault: Fault, req: IncomingMessage, res: ServerResponse, model: string): void {
  switch (fault.type) {
    case 'answer':
      return sendJson(res, 200, goodCompletion(model));
    case 'hang':
      return;
    case 'status': {
      const bearer = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
      const message = `${STATUS_TEXT[fault.status] ?? 'Error'}${fault.echoKey ? `: ${bearer}` : ''}.`;
      return sendJson(res, fault.status, JSON.stringify({ error: { message, type: 'server_error' } }), fault.headers);
    }
    case 'invalid-json':
      return sendJson(res, 200, goodCompletion(model).slice(0, 60));
    case 'wrong-shape':
      return sendJson(res, 200, JSON.stringify({ result: PROVIDER_TEXT, status: 'ok' }));
    case 'empty-choices':
      return sendJson(res, 200, completion(model, []));
    case 'reasoning-only':
      return sendJson(res, 200, completion(model, [{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'length' }], { prompt_tokens: 40, completion_tokens: 512, total_tokens: 552 }));
    case 'cut-at-limit':
      return sendJson(res, 200, completion(model, [{ index: 0, message: { role: 'assistant', content: PROVIDER_TEXT }, finish_reason: 'length' }]));
    case 'dribble':
      return dribble(res, goodCompletion(model), fault.byteEveryMs);
    case 'cut-off': {
      const body = goodCompletion(model);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.write(body.slice(0, Math.floor(body.length / 2)), () => res.destroy());
      return;
    }
    case 'reset':
      return void req.socket.resetAndDestroy();
  }
}

export async function startFaultyProvider(): Promise<FaultyProvider> {
  const requests: ProviderRequest[] = [];
  const scripted: Fault[] = [];
  let open = 0;
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => { raw += chunk; });
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as Record<string, unknown>;
      const fault = req.url?.endsWith('/chat/completions') ? scripted.shift() ?? { type: 'answer' } : { type: 'status', status: 404 } as const;
      const request: ProviderRequest = { fault, headers: req.headers, body, clientGaveUp: false };
      requests.push(request);
      open++;
      res.on('close', () => {
        open--;
        // A reset or cut-off is the server's doing; only an early close on a request we meant to finish is the client's.
        if (!res.writableFinished && fault.type !== 'reset' && fault.type !== 'cut-off') request.clientGaveUp = true;
      });
      misbehave(fault, req, res, String(body.model));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (...faults) => { scripted.push(...faults); },
    openRequests: () => open,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
