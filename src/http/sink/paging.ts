// Twilio's list paging for the 2010-04-01 API, as the sink answers ListMessage and ListCall: the
// query's PageSize, Page and PageToken read, and the page envelope (`first_page_uri`,
// `next_page_uri`, `previous_page_uri`, `page`, `page_size`, `start`, `end`, `uri`) written as
// Twilio writes it (shapes from Twilio's OpenAPI description). The URIs are relative to the API
// root ("/2010-04-01/Accounts/..."): the `twilio` package resolves them against its own base URL,
// so an app pointed at Warden pages through Warden. Pure: the records are the caller's.
//
// A page token names the record the page continues from, as Twilio's do: `PA<sid>` is the page
// of records older than that one, `PB<sid>` the page just newer. A cursor, unlike an offset, does
// not repeat or skip records when new ones arrive between two pages.

export const DEFAULT_PAGE_SIZE = 50;
/** Twilio's largest page; a larger PageSize is served as 1000 (the `twilio` package asks for `limit`). */
export const MAX_PAGE_SIZE = 1000;

export interface PageCursor {
  /** `after`: records older than `sid` (the next page); `before`: records newer (the previous). */
  direction: 'after' | 'before';
  sid: string;
}

export interface PageRequest {
  pageSize: number;
  page: number;
  cursor: PageCursor | null;
  /** The filters given, by their query name, in the order the list names them. */
  filters: Array<[string, string]>;
}

export type Query = Record<string, string | string[] | undefined>;

export function firstOf(query: Query, name: string): string | undefined {
  const v = query[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Reads PageSize, Page, PageToken and the named filters; a message for a 400 when one is malformed. */
export function parsePageRequest(query: Query, filterNames: readonly string[]): PageRequest | { error: string } {
  const sizeText = firstOf(query, 'PageSize');
  let pageSize = DEFAULT_PAGE_SIZE;
  if (sizeText !== undefined) {
    if (!/^\d{1,9}$/.test(sizeText) || Number(sizeText) < 1) return { error: 'PageSize must be an integer from 1 to 1000' };
    pageSize = Math.min(MAX_PAGE_SIZE, Number(sizeText));
  }
  const pageText = firstOf(query, 'Page');
  if (pageText !== undefined && !/^\d{1,9}$/.test(pageText)) return { error: 'Page must be a non-negative integer' };
  const page = pageText === undefined ? 0 : Number(pageText);
  const token = firstOf(query, 'PageToken');
  let cursor: PageCursor | null = null;
  if (token !== undefined && token !== '') {
    const m = /^P([AB])([A-Z]{2}[0-9a-f]{32})$/.exec(token);
    if (m === null) return { error: 'PageToken is not one this API issued' };
    cursor = { direction: m[1] === 'A' ? 'after' : 'before', sid: m[2] };
  }
  const filters: Array<[string, string]> = [];
  for (const name of filterNames) {
    const v = firstOf(query, name);
    if (v !== undefined && v !== '') filters.push([name, v]);
  }
  return { pageSize, page, cursor, filters };
}

/**
 * The page among `newestFirst` (every matching record, newest first) that `req` asks for, and
 * whether there are records past either end of it. Linear in the records.
 */
export function selectPage<T extends { sid: string }>(
  newestFirst: readonly T[],
  req: PageRequest,
): { items: T[]; hasNext: boolean; hasPrevious: boolean } {
  let from: number;
  let to: number;
  if (req.cursor === null) {
    from = Math.min(newestFirst.length, req.page * req.pageSize);
    to = Math.min(newestFirst.length, from + req.pageSize);
  } else {
    const sid = req.cursor.sid;
    const at = newestFirst.findIndex((r) => r.sid === sid);
    if (req.cursor.direction === 'after') {
      // A record no longer kept (the sink forgets its oldest first) leaves nothing older.
      from = at < 0 ? newestFirst.length : at + 1;
      to = Math.min(newestFirst.length, from + req.pageSize);
    } else {
      to = at < 0 ? 0 : at;
      from = Math.max(0, to - req.pageSize);
    }
  }
  return { items: newestFirst.slice(from, to), hasNext: to < newestFirst.length, hasPrevious: from > 0 };
}

export interface PageEnvelope {
  end: number;
  first_page_uri: string;
  next_page_uri: string | null;
  page: number;
  page_size: number;
  previous_page_uri: string | null;
  start: number;
  uri: string;
}

/** The envelope of a page of `items` listed at `listPath` ("/2010-04-01/Accounts/AC.../Messages.json"). */
export function pageEnvelope(
  listPath: string,
  req: PageRequest,
  items: ReadonlyArray<{ sid: string }>,
  more: { hasNext: boolean; hasPrevious: boolean },
): PageEnvelope {
  const uri = (page: number, token?: string) => {
    const q = new URLSearchParams(req.filters);
    q.set('PageSize', String(req.pageSize));
    q.set('Page', String(page));
    if (token !== undefined) q.set('PageToken', token);
    return `${listPath}?${q.toString()}`;
  };
  const start = req.page * req.pageSize;
  const last = items[items.length - 1];
  const firstItem = items[0];
  return {
    end: items.length > 0 ? start + items.length - 1 : start,
    first_page_uri: uri(0),
    next_page_uri: more.hasNext && last !== undefined ? uri(req.page + 1, `PA${last.sid}`) : null,
    page: req.page,
    page_size: req.pageSize,
    previous_page_uri: more.hasPrevious && firstItem !== undefined ? uri(Math.max(0, req.page - 1), `PB${firstItem.sid}`) : null,
    start,
    uri: uri(req.page, req.cursor === null ? undefined : `P${req.cursor.direction === 'after' ? 'A' : 'B'}${req.cursor.sid}`),
  };
}
