import { consistentCut, sessionScope, type CutOptions } from '../runtime/consistentCut.ts';
import type { PointInTime } from '../runtime/pointInTime.ts';
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
  // A point inside one append is answered where every cause is in, as the CLI answers it (`consistentCut`).
  const standing = async (at: PointInTime | undefined, options?: CutOptions) => (await consistentCut(store, at, options)).at;
  switch (pathname) {
    case '/api/range':
      queryParams(params, noQuery);
      return rangeOf(store);
    case '/api/summary': {
      const { at, session } = queryParams(params, summaryQuery);
      return summaryAt(store, await standing(at), session);
    }
    case '/api/sessions':
      return sessionsAt(store, await standing(queryParams(params, pointQuery).at));
    case '/api/workers':
      // The work board from its newest checkpoint and the tail: what `chronicle workers --json` prints.
      queryParams(params, noQuery);
      return workerListing((await workBoardOf(store)) ?? emptyWorkBoard(), Date.now());
    case '/api/series': {
      const { at, by } = queryParams(params, seriesQuery);
      return seriesAt(store, await standing(at), by);
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
    return sessionDetailAt(store, sessionId, await standing(queryParams(params, pointQuery).at, sessionScope(sessionId)));
  }
  throw new ApiError(404, `no API route ${pathname}`);
}
