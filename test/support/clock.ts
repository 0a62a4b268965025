import type { Clock } from '../../src/ports';

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  private t: number;
  constructor(start = '2026-11-22T10:00:00.000Z') {
    this.t = Date.parse(start);
  }
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
