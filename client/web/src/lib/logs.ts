/**
 * An instance's logs in the browser: a tail from `logs(id:, tail:)`, then live lines from the
 * `logs(id:)` subscription, kept in a bounded buffer (the oldest lines go first) so a tab left
 * open for hours holds at most `capacity` lines.
 */

import { LogLinesDocument, LogsDocument } from "../graphql/generated";

export interface LogLine {
  time: number;
  /** stdout | stderr | log | traceback */
  stream: string;
  text: string;
}

export const LOG_TAIL = LogsDocument;
export const LOG_LINES = LogLinesDocument;

export const LOG_CAPACITY = 5000;

function key(line: LogLine): string {
  return `${line.time}\u0000${line.stream}\u0000${line.text}`;
}

export class LogBuffer {
  lines: LogLine[] = [];
  /** Lines let go to stay within capacity. */
  dropped = 0;
  /** Changes with every change (for re-rendering). */
  version = 0;

  constructor(readonly capacity = LOG_CAPACITY) {}

  /** Append live lines. */
  push(...lines: LogLine[]): void {
    if (lines.length === 0) return;
    this.lines.push(...lines);
    this.trim();
  }

  /**
   * Add lines that may overlap what is held (a tail fetched after live lines began, or again
   * after a reconnect): only lines newer than the newest held, or at its time and not held, go in.
   */
  merge(lines: LogLine[]): void {
    const newest = this.lines[this.lines.length - 1]?.time ?? -Infinity;
    const sameTime = new Set(this.lines.filter((l) => l.time >= newest).map(key));
    const fresh = lines.filter((l) => l.time > newest || (l.time === newest && !sameTime.has(key(l))));
    if (fresh.length === 0) return;
    this.lines.push(...fresh);
    this.lines.sort((a, b) => a.time - b.time); // stable: equal times keep their order
    this.trim();
  }

  /** The latest traceback (a run of traceback lines, or stderr from "Traceback"), if any. */
  traceback(): LogLine[] {
    for (let i = this.lines.length - 1; i >= 0; i -= 1) {
      const line = this.lines[i]!;
      if (line.stream === "traceback" || line.text.startsWith("Traceback (most recent call last)")) {
        let start = i;
        if (line.stream === "traceback") while (start > 0 && this.lines[start - 1]!.stream === "traceback") start -= 1;
        let end = i + 1;
        const stream = this.lines[start]!.stream;
        while (end < this.lines.length && this.lines[end]!.stream === stream) end += 1;
        return this.lines.slice(start, end);
      }
    }
    return [];
  }

  private trim(): void {
    const over = this.lines.length - this.capacity;
    if (over > 0) {
      this.lines.splice(0, over);
      this.dropped += over;
    }
    this.version += 1;
  }
}
