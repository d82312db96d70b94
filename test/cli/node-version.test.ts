import { isSdkNodeVersionWarning, nodeVersionNote, quietSdkNodeVersionWarning, type WarningEmitter } from '../../lib/cli/node-version';

/** An emitter that records what reaches it. */
function recorder(): WarningEmitter & { seen: unknown[][] } {
  const seen: unknown[][] = [];
  return { seen, emitWarning: ((...args: unknown[]) => void seen.push(args)) as WarningEmitter['emitWarning'] };
}

describe("the AWS SDK's Node.js version warning", () => {
  it('is recognised in the words and form the installed SDK emits it (@aws-sdk/core/client)', () => {
    // The SDK's own switch would silence it (jest gives each test file its own process.env).
    delete process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'];
    const emitted: unknown[][] = [];
    const spy = jest.spyOn(process, 'emitWarning').mockImplementation((...args: unknown[]) => void emitted.push(args));
    try {
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { emitWarningIfUnsupportedVersion } = require('@aws-sdk/core/client') as { emitWarningIfUnsupportedVersion: (version: string) => void };
        emitWarningIfUnsupportedVersion('v20.19.0');
        emitWarningIfUnsupportedVersion('v20.19.0');
      });
    } finally {
      spy.mockRestore();
    }
    expect(emitted).toHaveLength(1);
    const [warning, type] = emitted[0] as [string, unknown];
    expect(warning.split('\n')).toHaveLength(8);
    expect(isSdkNodeVersionWarning(warning, type)).toBe(true);
  });

  it.each<[string, string | Error, unknown, boolean]>([
    ['the message', 'NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)\nversions published after', undefined, true],
    ['the type', 'The AWS SDK for JavaScript (v3) will require node >=22', 'NodeVersionSupportWarning', true],
    ['the type, in options', 'The AWS SDK for JavaScript (v3) will require node >=22', { type: 'NodeVersionSupportWarning' }, true],
    ['an Error by name', Object.assign(new Error('will require node >=22'), { name: 'NodeVersionSupportWarning' }), undefined, true],
    ['another warning', 'Closing file descriptor 5 on garbage collection', undefined, false],
    ['a deprecation', 'Buffer() is deprecated', 'DeprecationWarning', false],
    ['a message that only mentions it', 'see NodeVersionSupportWarning: above', undefined, false],
  ])('by %s', (_how, warning, type, expected) => {
    expect(isSdkNodeVersionWarning(warning, type)).toBe(expected);
  });

  it.each<[string, string | undefined]>([
    ['v20.19.0', 'note: Node.js 20 — the AWS SDK recommends Node.js 22+ (support ends January 2027)\n'],
    ['v21.7.3', 'note: Node.js 21 — the AWS SDK recommends Node.js 22+ (support ends January 2027)\n'],
    ['v22.0.0', undefined],
    ['v24.1.0', undefined],
    ['not a version', undefined],
  ])('on %s, is said in one line: %p', (version, note) => {
    expect(nodeVersionNote(version)).toBe(note);
  });

  it('is dropped by the filter, which says so once and passes every other warning on unchanged', () => {
    const target = recorder();
    const original = target.emitWarning;
    let firsts = 0;
    const restore = quietSdkNodeVersionWarning(target, () => firsts++);
    target.emitWarning('NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)\n...');
    target.emitWarning('NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)\n...');
    target.emitWarning('something else', { type: 'ExperimentalWarning', code: 'X1' });
    target.emitWarning(new Error('an error warning'));
    expect(firsts).toBe(1);
    expect(target.seen).toEqual([['something else', { type: 'ExperimentalWarning', code: 'X1' }], [new Error('an error warning')]]);
    restore();
    expect(target.emitWarning).toBe(original);
  });
});
