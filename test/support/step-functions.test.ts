// The States Language interpreter the fan-out tests run the generated definition with
// (test/support/step-functions.ts): each rule it applies, and that it fails where Step Functions would.
import { runStateMachine, StatesError, type RunTrace } from './step-functions';

const task = (payload: Record<string, unknown>, rest: Record<string, unknown> = {}) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: '${Fn}', ...payload },
  ...rest,
});

describe('the States Language interpreter', () => {
  it('applies Parameters, ResultSelector and ResultPath, and substitutes the definition', async () => {
    const calls: unknown[] = [];
    const out = await runStateMachine(
      { StartAt: 'A', States: { A: task({ 'Payload.$': '$.in' }, { ResultSelector: { 'v.$': '$.Payload' }, ResultPath: '$.a', End: true }) } },
      { in: { x: 1 } },
      { substitutions: { Fn: 'arn:fn' }, invoke: async (arn, p) => (calls.push([arn, p]), { got: p }) },
    );
    expect(calls).toEqual([['arn:fn', { x: 1 }]]);
    expect(out).toEqual({ in: { x: 1 }, a: { v: { got: { x: 1 } } } });
  });

  it('retries only the errors a retrier names, then catches with the error in ResultPath', async () => {
    const trace: RunTrace = { tasks: [], maps: [] };
    let n = 0;
    const out = await runStateMachine(
      {
        StartAt: 'A',
        States: {
          A: task({ Payload: {} }, { Retry: [{ ErrorEquals: ['Lambda.ServiceException'], MaxAttempts: 2 }], Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'B' }], Next: 'B' }),
          B: { Type: 'Pass', End: true },
        },
      },
      {},
      {
        invoke: async () => {
          n++;
          throw n <= 2 ? new StatesError('Lambda.ServiceException', 'x') : Object.assign(new Error('boom'), { name: 'AwsCallError' });
        },
      },
      trace,
    );
    expect(trace.tasks.map((t) => t.outcome)).toEqual(['Lambda.ServiceException', 'Lambda.ServiceException', 'AwsCallError']);
    expect(out).toEqual({ error: { Error: 'AwsCallError', Cause: JSON.stringify({ errorType: 'AwsCallError', errorMessage: 'boom', trace: [] }) } });
  });

  it('fails the execution with an uncaught error, and a Map whose failures pass its tolerance', async () => {
    const boom = async () => {
      throw new Error('boom');
    };
    await expect(runStateMachine({ StartAt: 'A', States: { A: task({ Payload: {} }, { End: true }) } }, {}, { invoke: boom })).rejects.toMatchObject({ error: 'Error' });
    const map = (tolerated: number) => ({
      StartAt: 'M',
      States: {
        M: {
          Type: 'Map',
          ToleratedFailurePercentage: tolerated,
          ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' }, StartAt: 'T', States: { T: task({ 'Payload.$': '$' }, { End: true }) } },
          End: true,
        },
      },
    });
    const half = async (_: string, p: unknown) => {
      if (p === 1) throw new Error('one');
      return p;
    };
    await expect(runStateMachine(map(40), [1, 2], { invoke: half })).rejects.toMatchObject({ error: 'States.ExceedToleratedFailureThreshold' });
    await expect(runStateMachine(map(50), [1, 2], { invoke: half })).resolves.toEqual([{ Error: 'Error', Cause: expect.stringContaining('one') }, { ExecutedVersion: '$LATEST', Payload: 2, StatusCode: 200 }]);
  });

  it('runs at most MaxConcurrency items at once, and chooses by StringEquals', async () => {
    const trace: RunTrace = { tasks: [], maps: [] };
    const out = await runStateMachine(
      {
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            ItemsPath: '$.items',
            ItemSelector: { 'v.$': '$$.Map.Item.Value', 'k.$': '$.kind' },
            MaxConcurrency: 2,
            ItemProcessor: {
              StartAt: 'C',
              States: {
                C: { Type: 'Choice', Choices: [{ Variable: '$.k', StringEquals: 'b', Next: 'B' }], Default: 'A' },
                A: { Type: 'Pass', Result: 'a', End: true },
                B: task({ 'Payload.$': '$.v' }, { ResultSelector: { 'p.$': '$.Payload' }, End: true }),
              },
            },
            End: true,
          },
        },
      },
      { kind: 'b', items: [1, 2, 3, 4, 5] },
      { invoke: async (_, p) => new Promise((resolve) => setImmediate(() => resolve(p))) },
      trace,
    );
    expect(out).toEqual([1, 2, 3, 4, 5].map((p) => ({ p })));
    expect(trace.maps[0]).toMatchObject({ items: 5, peakConcurrency: 2, mode: 'INLINE' });
  });

  it('holds every state input and output to 256 KiB', async () => {
    await expect(
      runStateMachine({ StartAt: 'A', States: { A: task({ Payload: {} }, { End: true }) } }, {}, { invoke: async () => 'x'.repeat(300 * 1024) }),
    ).rejects.toMatchObject({ error: 'States.DataLimitExceeded' });
  });
});
