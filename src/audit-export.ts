/**
 * The audit export (npm run audit:export): one record per audit entry (transition) at or after
 * `since` (and not after `until`), as JSON Lines or CSV, streamed. The requests come from the
 * store's byChange index a page at a time (never a scan, never all at once): only one page of
 * requests and its records are in memory, and every write waits for the sink to drain.
 *
 * Which requests: every request whose latest audit record is at or after `since`; a request with
 * any record in the window has its latest one there too, so a grant created before the window and
 * revoked inside it is found. Records come out request by request (oldest latest change first),
 * each request's in order (seq).
 */
import { AUDIT_RECORD_FIELDS, auditRecords, csvLine, csvRow, jsonLine } from './domain/audit';
import type { ChangeCursor, RequestStore } from './ports';

export type ExportFormat = 'jsonl' | 'csv';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['jsonl', 'csv'];

/** Requests read per store page. */
export const EXPORT_PAGE_SIZE = 100;
/** A progress line on stderr after every this many requests. */
export const EXPORT_PROGRESS_EVERY = 1_000;

export interface ExportOptions {
  sinceIso: string;
  untilIso: string;
  /**
   * Now: the store is read up to this month's bucket. A request whose latest change came after
   * `untilIso` sits in a later bucket and may still have transitions in the window. Default untilIso.
   */
  nowIso?: string;
  format: ExportFormat;
  pageSize?: number;
  progressEvery?: number;
}

export interface ExportSink {
  /** Writes a chunk; resolves when the sink can take more (backpressure). */
  write(chunk: string): Promise<void>;
  /** A progress line (stderr). */
  progress(line: string): void;
  /** Called after each store page with the number of requests that page held (tests watch memory with it). */
  onPage?(requests: number): void;
}

export interface ExportSummary {
  requests: number;
  records: number;
  pages: number;
}

export async function exportAudit(store: Pick<RequestStore, 'changedSince'>, o: ExportOptions, sink: ExportSink): Promise<ExportSummary> {
  const pageSize = o.pageSize ?? EXPORT_PAGE_SIZE;
  const every = o.progressEvery ?? EXPORT_PROGRESS_EVERY;
  const since = Date.parse(o.sinceIso);
  const until = Date.parse(o.untilIso);
  const line = o.format === 'csv' ? csvLine : jsonLine;
  const summary: ExportSummary = { requests: 0, records: 0, pages: 0 };
  if (o.format === 'csv') await sink.write(`${csvRow(AUDIT_RECORD_FIELDS)}\r\n`);
  let after: ChangeCursor | undefined;
  let nextReport = every;
  do {
    const page = await store.changedSince(o.sinceIso, o.nowIso ?? o.untilIso, pageSize, after);
    summary.pages += 1;
    sink.onPage?.(page.requests.length);
    for (const request of page.requests) {
      const records = auditRecords(request, (e) => {
        const at = Date.parse(e.at);
        return at >= since && at <= until;
      });
      if (records.length === 0) continue;
      summary.requests += 1;
      summary.records += records.length;
      await sink.write(records.map((r) => `${line(r)}${o.format === 'csv' ? '\r\n' : '\n'}`).join(''));
      if (summary.requests >= nextReport) {
        sink.progress(`audit:export: ${summary.requests} requests, ${summary.records} records so far…`);
        nextReport += every;
      }
    }
    after = page.next;
  } while (after);
  return summary;
}
