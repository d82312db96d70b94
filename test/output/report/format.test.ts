import { colourReport, colourWanted, REPORT_WIDTH, wrapLine, wrapLines } from '../../../lib/output/report/format';

describe('wrapLine', () => {
  it('leaves a line that fits as it is', () => {
    const line = `    ${'x'.repeat(REPORT_WIDTH - 4)}`;
    expect(wrapLine(line)).toEqual([line]);
  });

  it('wraps at spaces with a hanging indent of two more columns', () => {
    expect(wrapLine('  - one two three four', 12)).toEqual(['  - one two', '    three', '    four']);
  });

  it('never cuts a word longer than the width: it overflows on a line of its own', () => {
    const id = 'subnetIds=subnet-0cb3f597078dde6c4,subnet-0af8d12343c6ef362';
    expect(wrapLine(`  run: ${id} now`, 30)).toEqual(['  run:', `    ${id}`, '    now']);
  });

  it('wraps every line of a block, keeping blank lines', () => {
    expect(wrapLines(['a b c', '', 'd'], 3)).toEqual(['a b', '  c', '', 'd']);
  });
});

describe('colourWanted', () => {
  it.each([
    [true, {}, true],
    [false, {}, false],
    [undefined, {}, false],
    [true, { NO_COLOR: '1' }, false],
    [true, { NO_COLOR: 'anything' }, false],
    // no-color.org: NO_COLOR set to the empty string does not turn colour off.
    [true, { NO_COLOR: '' }, true],
    [true, { TERM: 'dumb' }, false],
    [false, { FORCE_COLOR: '1' }, false],
  ])('on a TTY %s with %j: %s', (isTTY, env, wanted) => {
    expect(colourWanted(isTTY, env)).toBe(wanted);
  });
});

describe('colourReport', () => {
  it('colours the severity label that starts a line, and every INCOMPLETE', () => {
    const text = 'Cluster a  INCOMPLETE\n    CRITICAL: Subnet s\n    WARNING: Nodegroup n\n      no CRITICAL here\n';
    expect(colourReport(text)).toBe(
      'Cluster a  \u001b[1;35mINCOMPLETE\u001b[0m\n' +
        '    \u001b[1;31mCRITICAL\u001b[0m: Subnet s\n' +
        '    \u001b[33mWARNING\u001b[0m: Nodegroup n\n' +
        '      no CRITICAL here\n',
    );
  });
});
