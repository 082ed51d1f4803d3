import { describe, expect, it } from 'vitest';
import { parseStoreUri, StoreUriError } from '../../src/store/openEventStore.ts';

describe('store URIs', () => {
  it('accepts the three documented forms', () => {
    expect(parseStoreUri('memory:')).toEqual({ kind: 'memory' });
    expect(parseStoreUri('sqlite:.chronicle/chronicle.db', '/work')).toEqual({ kind: 'sqlite', path: '/work/.chronicle/chronicle.db', synchronous: 'normal' });
    expect(parseStoreUri('sqlite:/var/data/c.db?synchronous=full')).toEqual({ kind: 'sqlite', path: '/var/data/c.db', synchronous: 'full' });
    expect(parseStoreUri('sqlite:/d/c.db?readAhead=0')).toEqual({ kind: 'sqlite', path: '/d/c.db', synchronous: 'normal', readAheadMinEvents: 0 });
    expect(parseStoreUri('sqlite:/d/c.db?readAhead=off&maxBytes=4096')).toEqual({ kind: 'sqlite', path: '/d/c.db', synchronous: 'normal', maxBytes: 4096, readAheadMinEvents: Infinity });
    expect(parseStoreUri('kurrentdb://localhost:2113?tls=false')).toEqual({ kind: 'kurrentdb', connectionString: 'kurrentdb://localhost:2113?tls=false' });
  });

  it('refuses anything else with the list of accepted forms', () => {
    for (const bad of ['postgres://x', 'sqlite:', 'sqlite:a.db?synchronous=off', 'sqlite:a.db?readAhead=-1', 'kurrentdb://', '']) {
      const error = (() => { try { parseStoreUri(bad); } catch (e) { return e as Error; } })();
      expect(error, bad).toBeInstanceOf(StoreUriError);
      expect(error!.message).toContain('Accepted forms');
      expect(error!.message).toContain('kurrentdb://host:port');
    }
    expect(() => parseStoreUri('sqlite:a.db?synchronous=off')).toThrow(/synchronous/);
    expect(() => parseStoreUri('sqlite:a.db?readAhead=lots')).toThrow(/readAhead: a whole number of events, or off/);
  });
});
