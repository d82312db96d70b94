/**
 * A small interpreter of the Amazon States Language (https://states-language.net/spec.html) for the
 * states the stack's state machines use, so that a test runs a generated definition over the real
 * handlers: Task (`arn:aws:states:::lambda:invoke`), Map (ItemsPath, ItemSelector, ItemProcessor
 * INLINE or DISTRIBUTED, MaxConcurrency, ToleratedFailurePercentage), Pass, Choice (StringEquals);
 * InputPath, Parameters, ResultSelector, ResultPath, OutputPath, Retry and Catch. Payloads cross it
 * as JSON (a handler gets what Lambda would give it) and are held to Step Functions' 256 KiB.
 * Not modelled: waits between retries, timeouts, intrinsic functions, Wait, Parallel, other Choice rules.
 */

/** An error of a state, as Step Functions names it (Error, Cause). */
export class StatesError extends Error {
  constructor(
    readonly error: string,
    readonly causeText: string,
  ) {
    super(`${error}: ${causeText}`);
    this.name = 'StatesError';
  }
}

/** Invokes a function by the ARN the definition names: the handler's answer, or a throw (the function's error). */
export type Invoke = (functionArn: string, payload: unknown) => Promise<unknown>;

export interface RunOptions {
  invoke: Invoke;
  /** DefinitionSubstitutions: `${Name}` in any string of the definition becomes the value. */
  substitutions?: Record<string, string>;
}

/** What a run records, for assertions: every Task invocation by state name, and every Map's item count. */
export interface RunTrace {
  tasks: { state: string; payload: unknown; attempt: number; outcome: 'ok' | string }[];
  maps: { state: string; items: number; maxConcurrency: number; mode: string; peakConcurrency: number }[];
}

/** Step Functions' payload limit per state input and output (Step Functions quotas: 256 KiB). */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;

type Json = unknown;
type State = Record<string, unknown>;
type Machine = { StartAt: string; States: Record<string, State> };
type Context = { Map?: { Item: { Index: number; Value: Json } } };

const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

function substitute(v: Json, subs: Record<string, string>): Json {
  if (typeof v === 'string') return v.replace(/\$\{([A-Za-z0-9_]+)\}/g, (m, name: string) => subs[name] ?? m);
  if (Array.isArray(v)) return v.map((x) => substitute(x, subs));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, subs)]));
  return v;
}

/** A reference path: `$`, `$.a.b`, `$$.Map.Item.Value.x` (the subset the definitions use). */
function read(path: string, input: Json, context: Context): Json {
  const [root, rest] = path.startsWith('$$') ? [context as Json, path.slice(2)] : [input, path.slice(1)];
  if (!/^(\.[A-Za-z0-9_-]+)*$/.test(rest)) throw new StatesError('States.Runtime', `unsupported path ${path}`);
  let v: Json = root;
  for (const key of rest.split('.').slice(1)) {
    if (v === null || typeof v !== 'object' || !(key in (v as object))) {
      throw new StatesError('States.Runtime', `the JSONPath ${path} could not be found in the input ${JSON.stringify(input).slice(0, 200)}`);
    }
    v = (v as Record<string, Json>)[key];
  }
  return v;
}

/** A payload template: keys ending `.$` take the value of their path (spec, "Payload Template"). */
function template(t: Json, input: Json, context: Context): Json {
  if (Array.isArray(t)) return t.map((x) => template(x, input, context));
  if (!t || typeof t !== 'object') return t;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(t)) {
    if (k.endsWith('.$')) {
      if (typeof v !== 'string' || !v.startsWith('$')) throw new StatesError('States.Runtime', `unsupported ${k}: ${JSON.stringify(v)} (no intrinsic functions here)`);
      out[k.slice(0, -2)] = clone(read(v, input, context));
    } else out[k] = template(v, input, context);
  }
  return out;
}

/** ResultPath: null keeps the input, `$` is the result, `$.a.b` puts it there in a copy of the input. */
function place(input: Json, result: Json, resultPath: unknown): Json {
  if (resultPath === null) return input;
  if (resultPath === undefined || resultPath === '$') return result;
  if (typeof resultPath !== 'string' || !/^\$(\.[A-Za-z0-9_-]+)+$/.test(resultPath)) throw new StatesError('States.Runtime', `unsupported ResultPath ${String(resultPath)}`);
  const out = clone(input) as Record<string, Json>;
  const keys = resultPath.split('.').slice(1);
  let at = out;
  for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, Json>;
  at[keys[keys.length - 1] as string] = result;
  return out;
}

function limit(what: string, v: Json): void {
  const bytes = Buffer.byteLength(JSON.stringify(v) ?? '');
  if (bytes > PAYLOAD_LIMIT_BYTES) throw new StatesError('States.DataLimitExceeded', `${what} is ${bytes} bytes, above ${PAYLOAD_LIMIT_BYTES}`);
}

const matches = (names: unknown, error: string): boolean =>
  Array.isArray(names) && names.some((n) => n === error || n === 'States.ALL' || (n === 'States.TaskFailed' && error !== 'States.Timeout'));

/** A function's throw as Step Functions reports a Lambda function error: Error = errorType, Cause = Lambda's JSON. */
function functionError(err: unknown): StatesError {
  if (err instanceof StatesError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  return new StatesError(e.name, JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: [] }));
}

/** Runs a state machine's definition over `input`; resolves to its output or throws a StatesError (the execution failed). */
export async function runStateMachine(definition: Json, input: Json, options: RunOptions, trace: RunTrace = { tasks: [], maps: [] }): Promise<Json> {
  const machine = substitute(definition, options.substitutions ?? {}) as Machine;
  return runMachine(machine, clone(input), {}, options, trace);
}

async function runMachine(machine: Machine, input: Json, context: Context, options: RunOptions, trace: RunTrace): Promise<Json> {
  let name: string | undefined = machine.StartAt;
  let data = input;
  while (name !== undefined) {
    const state: State | undefined = machine.States[name];
    if (!state) throw new StatesError('States.Runtime', `no state ${name}`);
    limit(`the input of ${name}`, data);
    const { output, next } = await runState(name, state, data, context, options, trace);
    limit(`the output of ${name}`, output);
    data = output;
    name = state['End'] === true ? undefined : (next ?? (state['Next'] as string | undefined));
    if (name === undefined && state['End'] !== true && !next) throw new StatesError('States.Runtime', `state ${String(name)} has neither Next nor End`);
  }
  return data;
}

async function runState(name: string, state: State, raw: Json, context: Context, options: RunOptions, trace: RunTrace): Promise<{ output: Json; next?: string }> {
  const input = state['InputPath'] === undefined ? raw : state['InputPath'] === null ? {} : read(state['InputPath'] as string, raw, context);
  const finish = (result: Json): Json => {
    const selected = state['ResultSelector'] !== undefined ? template(state['ResultSelector'], result, context) : result;
    const placed = place(raw, selected, state['ResultPath']);
    return state['OutputPath'] === undefined ? placed : read(state['OutputPath'] as string, placed, context);
  };
  switch (state['Type']) {
    case 'Pass': {
      const result = state['Parameters'] !== undefined ? template(state['Parameters'], input, context) : state['Result'] !== undefined ? clone(state['Result']) : input;
      return { output: place(raw, result, state['ResultPath']) };
    }
    case 'Choice': {
      // The rules the definitions use: Variable with StringEquals; then Default.
      for (const rule of (state['Choices'] as { Variable: string; StringEquals?: string; Next: string }[]) ?? []) {
        if (rule.StringEquals === undefined) throw new StatesError('States.Runtime', `state ${name}: only StringEquals rules are interpreted here`);
        if (read(rule.Variable, input, context) === rule.StringEquals) return { output: raw, next: rule.Next };
      }
      if (typeof state['Default'] !== 'string') throw new StatesError('States.NoChoiceMatched', `state ${name}: no rule matched`);
      return { output: raw, next: state['Default'] };
    }
    case 'Task':
    case 'Map': {
      const retriers = (state['Retry'] as { ErrorEquals: string[]; MaxAttempts?: number }[] | undefined) ?? [];
      const used = retriers.map(() => 0);
      for (let attempt = 1; ; attempt++) {
        try {
          const result = state['Type'] === 'Task' ? await runTask(name, state, input, context, options, trace, attempt) : await runMap(name, state, input, context, options, trace);
          return { output: finish(result) };
        } catch (err) {
          const e = functionError(err);
          const r = retriers.findIndex((x) => matches(x.ErrorEquals, e.error));
          if (r >= 0 && (used[r] ?? 0) < (retriers[r]?.MaxAttempts ?? 3)) {
            used[r] = (used[r] ?? 0) + 1;
            continue;
          }
          const catcher = ((state['Catch'] as { ErrorEquals: string[]; Next: string; ResultPath?: string | null }[] | undefined) ?? []).find((c) => matches(c.ErrorEquals, e.error));
          if (!catcher) throw e;
          return { output: place(raw, { Error: e.error, Cause: e.causeText }, catcher.ResultPath === undefined ? '$' : catcher.ResultPath), next: catcher.Next };
        }
      }
    }
    default:
      throw new StatesError('States.Runtime', `state ${name}: type ${String(state['Type'])} is not interpreted here`);
  }
}

async function runTask(name: string, state: State, input: Json, context: Context, options: RunOptions, trace: RunTrace, attempt: number): Promise<Json> {
  if (state['Resource'] !== 'arn:aws:states:::lambda:invoke') throw new StatesError('States.Runtime', `state ${name}: resource ${String(state['Resource'])} is not interpreted here`);
  const parameters = template(state['Parameters'], input, context) as { FunctionName?: string; Payload?: Json };
  if (typeof parameters.FunctionName !== 'string') throw new StatesError('States.Runtime', `state ${name}: no FunctionName`);
  const payload = clone(parameters.Payload ?? {});
  const entry: RunTrace['tasks'][number] = { state: name, payload, attempt, outcome: 'ok' };
  trace.tasks.push(entry);
  try {
    // The function's answer crosses as JSON, as Lambda's does.
    const answer = clone(await options.invoke(parameters.FunctionName, payload));
    return { ExecutedVersion: '$LATEST', Payload: answer ?? null, StatusCode: 200 };
  } catch (err) {
    const e = functionError(err);
    entry.outcome = e.error;
    throw e;
  }
}

async function runMap(name: string, state: State, input: Json, context: Context, options: RunOptions, trace: RunTrace): Promise<Json> {
  const items = read((state['ItemsPath'] as string | undefined) ?? '$', input, context);
  if (!Array.isArray(items)) throw new StatesError('States.Runtime', `state ${name}: ItemsPath is not an array`);
  const processor = (state['ItemProcessor'] ?? state['Iterator']) as (Machine & { ProcessorConfig?: { Mode?: string; ExecutionType?: string } }) | undefined;
  if (!processor) throw new StatesError('States.Runtime', `state ${name}: no ItemProcessor`);
  const mode = processor.ProcessorConfig?.Mode ?? 'INLINE';
  if (mode === 'DISTRIBUTED' && processor.ProcessorConfig?.ExecutionType !== 'EXPRESS' && processor.ProcessorConfig?.ExecutionType !== 'STANDARD') {
    throw new StatesError('States.Runtime', `state ${name}: a DISTRIBUTED map needs ExecutionType EXPRESS or STANDARD`);
  }
  const max = Number(state['MaxConcurrency'] ?? 0) || items.length || 1;
  const tolerated = Number(state['ToleratedFailurePercentage'] ?? 0);
  const record = { state: name, items: items.length, maxConcurrency: Number(state['MaxConcurrency'] ?? 0), mode, peakConcurrency: 0 };
  trace.maps.push(record);
  const results: Json[] = new Array(items.length);
  let failed = 0;
  let next = 0;
  let running = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      const itemContext: Context = { Map: { Item: { Index: index, Value: clone(items[index]) } } };
      const itemInput = state['ItemSelector'] !== undefined ? template(state['ItemSelector'], input, itemContext) : clone(items[index]);
      running++;
      record.peakConcurrency = Math.max(record.peakConcurrency, running);
      try {
        results[index] = await runMachine(processor, itemInput, itemContext, options, trace);
      } catch (err) {
        failed++;
        const e = functionError(err);
        results[index] = { Error: e.error, Cause: e.causeText };
      } finally {
        running--;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(max, Math.max(1, items.length)) }, worker));
  if (items.length > 0 && (100 * failed) / items.length > tolerated) {
    throw new StatesError('States.ExceedToleratedFailureThreshold', `${failed} of ${items.length} items failed`);
  }
  return results;
}
