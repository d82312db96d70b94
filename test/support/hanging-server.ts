/**
 * An endpoint that accepts every connection and never answers: what a wedged proxy or a
 * black-holed VPC endpoint looks like to a client. Without timeouts, a call to it waits forever.
 */
import { createServer } from 'node:http';
import { listenLocal, type LocalServer } from '../../tools/local-server';

export interface HangingServer extends LocalServer {
  /** Requests received (none is ever answered). */
  readonly requests: number;
}

/** Starts one on a free port of 127.0.0.1. */
export async function startHangingServer(): Promise<HangingServer> {
  let requests = 0;
  const server = createServer(() => {
    requests++;
  });
  const local = await listenLocal(server);
  return {
    ...local,
    get requests() {
      return requests;
    },
  };
}

/**
 * Runs `fn` with AWS_ENDPOINT_URL (which the SDK reads from process.env) pointing at `endpoint`,
 * then puts the test setup's value back.
 */
export async function withEndpoint<T>(endpoint: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env.AWS_ENDPOINT_URL;
  process.env.AWS_ENDPOINT_URL = endpoint;
  try {
    return await fn();
  } finally {
    process.env.AWS_ENDPOINT_URL = before;
  }
}
