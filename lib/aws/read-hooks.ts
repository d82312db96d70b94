/**
 * How a caller bounds and watches a provider's reads. The live source's cycle view passes its
 * deadline and progress (lib/aws/live-source.ts); a caller that passes nothing gets plain reads
 * whose failures are AwsCallErrors naming the call and its subject.
 */
import { awsCallError } from '../errors';

/** What a provider calls around each request of one read; every member is optional. */
export interface ReadHooks {
  /** Passed to every SDK call, so that a call in flight is aborted when it fires. */
  abortSignal?: AbortSignal;
  /** Before the read's first request (and each retry of it): throws to not start it. */
  beforeRequest?: (about: string) => void;
  /** After each page: how many items it answered and whether another request follows; throws to stop there. */
  onPage?: (page: { items: number; more: boolean; about: string }) => void;
  /** The error to throw for a failed read; by default an AwsCallError naming the operation and `about`. */
  failure?: (about: string, err: unknown) => Error;
}

/** The SDK call options of the hooks: the abort signal, if any. */
export function callOptions(hooks: ReadHooks): [] | [{ abortSignal: AbortSignal }] {
  return hooks.abortSignal ? [{ abortSignal: hooks.abortSignal }] : [];
}

/** Whether a page has a next one: EC2's `NextToken`, EKS's `nextToken`. */
export function hasNextPage(page: unknown): boolean {
  const p = page as { NextToken?: unknown; nextToken?: unknown };
  return Boolean(p.NextToken ?? p.nextToken);
}

/**
 * One read of `operation`: not started when `beforeRequest` throws; any failure thrown as the
 * hooks' `failure`, else as an AwsCallError "<operation> <about>: <Code>: <message>".
 */
export async function hookedRead<T>(operation: string, about: string, hooks: ReadHooks, fn: () => Promise<T>): Promise<T> {
  hooks.beforeRequest?.(about);
  try {
    return await fn();
  } catch (err) {
    throw failureOf(operation, about, hooks, err);
  }
}

/** The error a failed read throws: the hooks' `failure`, else an AwsCallError. */
export function failureOf(operation: string, about: string, hooks: ReadHooks, err: unknown): Error {
  return hooks.failure ? hooks.failure(about, err) : awsCallError(operation, about, err);
}
