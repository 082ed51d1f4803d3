import type { EventStore } from '../store/eventStore.ts';
import { ApiError } from './apiError.ts';
import { noQuery, pointQuery, queryParams, seriesQuery, summaryQuery } from './apiParams.ts';
import { rangeOf } from './rangeQuery.ts';
import { sessionDetailAt } from './sessionDetailQuery.ts';
import { sessionsAt } from './sessionsQuery.ts';
import { seriesAt } from './seriesQuery.ts';
import { summaryAt } from './summaryQuery.ts';
import { emptyWorkBoard } from '../../projections/workBoard/workBoard.ts';
import { workBoardOf } from '../worker/workBoardReader.ts';
import { workerListing } from '../worker/workerListing.ts';

/** The read-only JSON API by path: each answer is a value the server writes as JSON (bigints as decimal strings). */
export async function answerApi(store: EventStore, pathname: string, params: URLSearchParams): Promise<unknown> {
  switch (pathname) {
    case '/api/range':
      queryParams(params, noQuery);
      return rangeOf(store);
    case '/api/summary': {
      const { at, session } = queryParams(params, summaryQuery);
      return summaryAt(store, at, session);
    }
    case '/api/sessions':
      return sessionsAt(store, queryParams(params, pointQuery).at);
    case '/api/workers':
      // The work board from its newest checkpoint and the tail: what `chronicle workers --json` prints.
      queryParams(params, noQuery);
      return workerListing((await workBoardOf(store)) ?? emptyWorkBoard(), Date.now());
    case '/api/series': {
      const { at, by } = queryParams(params, seriesQuery);
      return seriesAt(store, at, by);
    }
  }
  const session = /^\/api\/sessions\/([^/]+)$/.exec(pathname);
  if (session) {
    let sessionId: string;
    try {
      sessionId = decodeURIComponent(session[1]!);
    } catch {
      throw new ApiError(400, 'session: not a valid percent-encoded id');
    }
    return sessionDetailAt(store, sessionId, queryParams(params, pointQuery).at);
  }
  throw new ApiError(404, `no API route ${pathname}`);
}
