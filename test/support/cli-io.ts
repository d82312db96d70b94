/** The CLI's input and output for tests: what it prints, collected, and a fixed clock. */
import type { CliIo } from '../../lib/cli/main';

export interface CapturedIo {
  cli: CliIo;
  /** Everything printed on stdout so far. */
  out(): string;
  /** Everything printed on stderr so far. */
  err(): string;
}

/** A CliIo with no environment and the clock at 2026-11-26T12:00:00Z unless overridden. */
export function captureIo(overrides: Partial<CliIo> = {}): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env: {},
    now: () => new Date('2026-11-26T12:00:00Z'),
    ...overrides,
  };
  return { cli, out: () => out.join(''), err: () => err.join('') };
}
