/**
 * Splits CSV text, fed in chunks of any size, into records of fields, with the 1-based line number
 * each record starts on. Records end at LF, CRLF or a bare CR (the OpenPMU logs use bare CR);
 * a CRLF split across two chunks counts once. Fields are RFC 4180: a field in double quotes may
 * hold the delimiter, line breaks and doubled quotes. Empty lines are skipped (but counted).
 *
 * Lines without a quote take a fast path (`split`); only lines with quotes are scanned by
 * character.
 */
import { DbError } from '../../core/errors.ts';

export type RecordSink = (fields: string[], line: number) => void;

/**
 * Longest record (in characters, quoted line breaks included) accepted. Without a limit an
 * unterminated quote would buffer the rest of the input (a file of any size, a 64 MiB body).
 */
export const MAX_RECORD_CHARS = 1 << 20;

// States of the scan that finds where a record split across chunks ends (the same rules as #quoted).
const START = 0; // at the start of a field
const UNQUOTED = 1; // inside an unquoted field (a quote here is a literal character)
const QUOTED = 2; // inside a quoted field
const QUOTE_IN_QUOTED = 3; // just after a quote inside a quoted field: "" or the closing quote
const END = 4;

export class CsvSplitter {
  #buf = '';
  #line = 1;
  /**
   * An incomplete record waiting for its end: its text so far (as chunks, not yet joined) and the
   * state of the scan for its end. New text is scanned from there, so a record arriving in many
   * chunks costs linear time, not a re-parse per chunk (which made a long quoted field quadratic).
   */
  #pending: { state: number; parts: string[]; chars: number } | null = null;
  readonly #delimiter: string;
  readonly #sink: RecordSink;

  constructor(delimiter: string, sink: RecordSink) {
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
      throw new RangeError(
        `the delimiter must be one character other than a quote or line break, got ${JSON.stringify(delimiter)}`,
      );
    }
    this.#delimiter = delimiter;
    this.#sink = sink;
  }

  /** Feed more text. Complete records are passed to the sink; a trailing partial one is kept. */
  push(text: string): void {
    if (this.#pending !== null) {
      // Only the new text is scanned, and the parts are joined once the record is complete.
      this.#pending.parts.push(text);
      this.#pending.chars += text.length;
      if (!this.#scan(text)) {
        this.#checkLength();
        return;
      }
      this.#buf = this.#pending.parts.join('');
      this.#pending = null;
    } else this.#buf = this.#buf.length === 0 ? text : this.#buf + text;
    this.#drain(false);
  }

  /** The input has ended: the last record needs no terminator. */
  end(): void {
    if (this.#pending !== null) {
      this.#buf = this.#pending.parts.join('');
      this.#pending = null;
    }
    this.#drain(true);
    this.#buf = '';
  }

  #drain(final: boolean): void {
    this.#parse(final);
    if (final || this.#buf.length === 0) return;
    // An incomplete record is left: wait for its end without re-parsing it on every chunk.
    const rest = this.#buf;
    this.#pending = { state: START, parts: [rest], chars: rest.length };
    if (this.#scan(rest)) {
      this.#pending = null; // complete but held back (a CR that may start a CRLF): parse with the next chunk
      return;
    }
    this.#buf = '';
    this.#checkLength();
  }

  /** Run the end-of-record scan of the pending record over `text`; true once the record has ended. */
  #scan(text: string): boolean {
    const p = this.#pending!;
    const d = this.#delimiter;
    let state = p.state;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      const term = c === '\n' || c === '\r';
      switch (state) {
        case START:
          state = c === '"' ? QUOTED : c === d ? START : term ? END : UNQUOTED;
          break;
        case UNQUOTED:
          state = c === d ? START : term ? END : UNQUOTED;
          break;
        case QUOTED:
          if (c === '"') state = QUOTE_IN_QUOTED;
          break;
        case QUOTE_IN_QUOTED:
          state = c === '"' ? QUOTED : c === d ? START : term ? END : UNQUOTED;
          break;
      }
      if (state === END) return true;
    }
    p.state = state;
    return false;
  }

  #checkLength(): void {
    if (this.#pending!.chars > MAX_RECORD_CHARS) {
      throw new DbError(
        438,
        `line ${this.#line}: a record longer than ${MAX_RECORD_CHARS} characters (an unterminated quote?)`,
      );
    }
  }

  #parse(final: boolean): void {
    const buf = this.#buf;
    const n = buf.length;
    let pos = 0;
    let lf = buf.indexOf('\n');
    let cr = buf.indexOf('\r');
    let quote = buf.indexOf('"');
    if (cr === -1 && quote === -1) {
      // Plain LF text (the usual case): one native split into lines.
      const lines = buf.split('\n');
      const last = final ? lines.length : lines.length - 1;
      for (let k = 0; k < last; k++) {
        const line = lines[k]!;
        if (line.length > 0) this.#sink(line.split(this.#delimiter), this.#line);
        this.#line++;
      }
      if (final) this.#line--; // the last line had no terminator
      this.#buf = final ? '' : lines[last]!;
      return;
    }
    while (pos < n) {
      if (lf !== -1 && lf < pos) lf = buf.indexOf('\n', pos);
      if (cr !== -1 && cr < pos) cr = buf.indexOf('\r', pos);
      const term = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      if (term === -1 && !final) break;
      const stop = term === -1 ? n : term;
      if (quote !== -1 && quote < pos) quote = buf.indexOf('"', pos);
      if (quote !== -1 && quote < stop) {
        const r = this.#quoted(buf, pos, final);
        if (r === null) break; // the quoted record continues in the next chunk
        pos = r;
        continue;
      }
      if (term !== -1 && buf.charCodeAt(term) === 13 && term === n - 1 && !final) break; // CR, maybe CRLF
      if (stop > pos) this.#sink(buf.slice(pos, stop).split(this.#delimiter), this.#line);
      pos = term === -1 ? n : this.#skipTerminator(buf, term);
    }
    this.#buf = buf.slice(pos);
  }

  /** Past the terminator at `i` (CRLF counts as one), counting the line. */
  #skipTerminator(buf: string, i: number): number {
    this.#line++;
    return buf.charCodeAt(i) === 13 && buf.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
  }

  /** Scan one record containing quotes from `pos`; returns the position after it, or null if incomplete. */
  #quoted(buf: string, pos: number, final: boolean): number | null {
    const fields: string[] = [];
    const startLine = this.#line;
    let lines = 0;
    let field = '';
    let i = pos;
    const n = buf.length;
    const d = this.#delimiter;
    for (;;) {
      if (i < n && buf[i] === '"') {
        // A quoted field: up to the closing quote; "" is a literal quote.
        i++;
        for (;;) {
          if (i >= n) {
            if (!final) return null;
            break; // unterminated quote at end of input: take what there is
          }
          const c = buf[i]!;
          if (c === '"') {
            if (buf[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            if (i + 1 >= n && !final) return null; // cannot tell "" from " yet
            i++;
            break;
          }
          if (c === '\n' || (c === '\r' && buf[i + 1] !== '\n')) lines++;
          field += c;
          i++;
        }
      }
      // Unquoted remainder of the field, up to a delimiter or the end of the record.
      let j = i;
      while (j < n && buf[j] !== d && buf[j] !== '\n' && buf[j] !== '\r') j++;
      field += buf.slice(i, j);
      i = j;
      if (i < n && buf[i] === d) {
        fields.push(field);
        field = '';
        i++;
        continue;
      }
      if (i >= n && !final) return null;
      if (i < n && buf[i] === '\r' && i === n - 1 && !final) return null;
      fields.push(field);
      this.#sink(fields, startLine);
      this.#line += lines;
      return i >= n ? n : this.#skipTerminator(buf, i);
    }
  }
}
