/**
 * The executors' side of write-ahead (lib/act/act.ts): every AWS write is announced before it is
 * made, and made with the token the act loop answers.
 */
import type { ExecuteDeps, WriteIntent } from './types';

/**
 * Records a write before it is made, through the act loop's `intend` when there is one, and
 * answers the token to send with it; without a loop (a unit test of an executor), `fallback`.
 */
export async function intendWrite(deps: ExecuteDeps, intent: Omit<WriteIntent, 'at' | 'token'>, fallback: string): Promise<string> {
  return deps.intend ? deps.intend(intent) : fallback;
}
