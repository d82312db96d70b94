/**
 * The event-driven responder's Lambda entry point: failed IPv4 allocations (CloudTrail, Auto
 * Scaling), the stack's alarms and the remediation tick. What each event becomes (validation, the
 * event claim, debounce, the targeted cycle) is lib/events/route.ts.
 */
import type { Context } from 'aws-lambda';
import { respond, type RespondSummary } from '../lib/events/route';
import { defaultRuntime, startInvocation, type Runtime } from '../lib/runtime';

export type { RespondSummary };

/** Builds the handler around its dependencies. */
export function makeHandler(rt: Runtime) {
  return async (event: unknown, context?: Context): Promise<RespondSummary> => {
    startInvocation(rt, context);
    return respond(rt, event, context);
  };
}

export const handler = makeHandler(defaultRuntime());
