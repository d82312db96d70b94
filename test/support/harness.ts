/**
 * The lifecycle most handler and act tests share: one in-process DynamoDB (dynalite) for the
 * file, and the emulated account of each test restored after it, with jest's spies.
 */
import { startDynalite, type RunningDynalite } from '../../tools/dynalite';
import type { EmulatedAccount } from '../../tools/mock-aws';

export interface TestHarness {
  /** The file's dynalite (started before the first test). */
  readonly db: RunningDynalite;
  /** The account the current test emulates: restored (its SDK mocks removed) after the test. */
  track(aws: EmulatedAccount): void;
  /** Restores the tracked account now (a test that emulates a second account in turn). */
  restore(): void;
}

/** Registers the hooks in the calling test file and answers the harness they fill. */
export function useTestHarness(): TestHarness {
  let db: RunningDynalite | undefined;
  let current: EmulatedAccount | undefined;
  const restore = () => {
    current?.restore();
    current = undefined;
  };
  beforeAll(async () => {
    db = await startDynalite();
  });
  afterAll(async () => {
    await db?.stop();
  });
  afterEach(() => {
    restore();
    jest.restoreAllMocks();
  });
  return {
    get db() {
      if (!db) throw new Error('the harness database is started in beforeAll: use it inside a test or hook');
      return db;
    },
    track(aws) {
      current = aws;
    },
    restore,
  };
}
