/**
 * Error classes. Each ends in `Error`, sets `name` and keeps `cause`, so logs and tests can
 * tell them apart and nothing of the original AWS error is lost.
 */

/** At most this many problems are spelled out in an error message; the rest are counted. */
const PROBLEMS_IN_MESSAGE = 5;

/** "field: problem; …; problem (and N more)": the first problems of a list, each after its field when it has one. */
export function problemList(problems: readonly { field?: string | undefined; problem: string }[]): string {
  const shown = problems.slice(0, PROBLEMS_IN_MESSAGE).map((p) => (p.field ? `${p.field}: ${p.problem}` : p.problem));
  const more = problems.length > PROBLEMS_IN_MESSAGE ? ` (and ${problems.length - PROBLEMS_IN_MESSAGE} more)` : '';
  return `${shown.join('; ')}${more}`;
}

/** `['Subnets', 3, 'AvailableIpAddressCount']` → `Subnets[3].AvailableIpAddressCount`; `['Details', 'Subnet ID']` → `Details["Subnet ID"]`. */
export function formatFieldPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (typeof s === 'string' && /^[A-Za-z_$][\w$-]*$/.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(String(s))}]`;
  }
  return out;
}

/** How {@link zodProblems} writes a zod error's issues; the defaults are the snapshots' and the events'. */
export interface ZodProblemStyle {
  /** Put before every issue's path: where the parsed value sits in what holds it. */
  prefix?: readonly PropertyKey[];
  /** How a path is written; {@link formatFieldPath} by default. */
  pathText?: (path: readonly PropertyKey[]) => string;
  /** Keep zod's "Invalid input: " lead; by default it is dropped, the field already saying where. */
  keepLead?: boolean;
  /** Given, each unrecognized key is a problem of its own at its path, with this text. */
  unknownKey?: (key: string) => string;
}

/** One issue of a zod error: where (`path`, and as `field` text) and what is wrong. */
export interface ZodProblem {
  path: PropertyKey[];
  field: string;
  problem: string;
}

/** The shape of a zod error this module reads (a structural type, so that this leaf imports no zod). */
interface ZodErrorLike {
  issues: readonly { path: readonly PropertyKey[]; message: string; code?: string; keys?: readonly string[] }[];
}

/**
 * A zod error's issues as field and problem: the one formatter every "path: problem" message
 * (configuration, policy, snapshot files, events, ledger records) is made with.
 */
export function zodProblems(error: ZodErrorLike, style: ZodProblemStyle = {}): ZodProblem[] {
  const { prefix = [], pathText = formatFieldPath, keepLead = false, unknownKey } = style;
  const problem = (path: PropertyKey[], text: string): ZodProblem => ({
    path,
    field: pathText(path),
    // zod's wording is "Invalid input: expected number, received string"; the field already
    // says where, so keep the part that says what.
    problem: keepLead ? text : text.replace(/^Invalid input: /, ''),
  });
  return error.issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (unknownKey !== undefined && issue.code === 'unrecognized_keys') {
      return (issue.keys ?? []).map((key) => problem([...path, key], unknownKey(key)));
    }
    return [problem(path, issue.message)];
  });
}

/** Problems as `field: problem` lines. */
export function problemLines(problems: readonly { field: string; problem: string }[]): string[] {
  return problems.map((p) => `${p.field}: ${p.problem}`);
}

/**
 * A failure named by a code: a service's error code, a socket's (ECONNREFUSED…) or TIMEOUT. The
 * base of the SDK-less clients' errors (lib/http-exchange.ts and the two clients over it), which
 * differ only by their name.
 */
export class CodedError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A configuration value is missing or wrong. The message names every problem at once. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * An AWS call failed. The message names the operation and what it was about
 * ("ec2:DescribeNetworkInterfaces for 3 subnets of cluster prod: AccessDenied: ...").
 */
export class AwsCallError extends Error {
  constructor(
    readonly operation: string,
    readonly code: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AwsCallError';
  }
}

/** The AWS error name of an SDK error (`AccessDeniedException`, `UnauthorizedOperation`, ...), if any. */
export function awsErrorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object') {
    const e = err as { name?: unknown; Code?: unknown; code?: unknown };
    if (typeof e.Code === 'string') return e.Code;
    if (typeof e.code === 'string') return e.code;
    if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
  }
  return undefined;
}

/**
 * `text` on one line: every run of whitespace with a line break in it (or any other) becomes one
 * space. For messages made from errors, whose text is not ours: an SDK error that could not parse
 * an HTML answer ends in a second "Deserialization error" line, a JSON parser's message quotes the
 * file with its line breaks; a problem, a note or a failed-read record is one line.
 */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The message of anything thrown, never `[object Object]`. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

/**
 * The AwsCallError of a failed call: "<operation> <subject>: <Code>: <message>". An error that
 * is already an AwsCallError is returned as it is (its message names the call already).
 */
export function awsCallError(operation: string, subject: string, err: unknown): AwsCallError {
  if (err instanceof AwsCallError) return err;
  const code = awsErrorCode(err);
  return new AwsCallError(operation, code, `${operation} ${subject}: ${code ? `${code}: ` : ''}${messageOf(err)}`, { cause: err });
}

/** Runs one AWS read or write; any failure comes back as an AwsCallError naming the call and its subject. */
export async function withAwsCall<T>(operation: string, subject: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw awsCallError(operation, subject, err);
  }
}

/**
 * AWS error codes that say "try again later", whatever the service: throttling and the
 * services' own transient failures (the SDK's retry strategy treats the same as transient:
 * @smithy/service-error-classification THROTTLING_ERROR_CODES and TRANSIENT_ERROR_CODES).
 */
const RETRYABLE_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
  'TransactionInProgressException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'InternalServerException',
  'ServerException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
]);

/**
 * Whether an error (an AwsCallError or the SDK's own) is transient: throttling, a 5xx or 429
 * answer, a timeout or a dropped connection. Such a failure says nothing about the change itself:
 * the caller should look again later rather than record the change as failed.
 */
export function isRetryableError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    const code = awsErrorCode(e);
    if (code && RETRYABLE_CODES.has(code)) return true;
    const meta = (e as { $metadata?: { httpStatusCode?: number } }).$metadata;
    const status = meta?.httpStatusCode;
    if (typeof status === 'number' && (status >= 500 || status === 429)) return true;
    if ((e as { $retryable?: unknown }).$retryable) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
