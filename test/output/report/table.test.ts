import { table } from '../../../lib/output/report/table';

describe('table', () => {
  it('pads text left-aligned and numbers right-aligned, to the widest cell', () => {
    const out = table(
      ['SUBNET', 'AZ', 'FREE', 'USED'],
      [
        ['subnet-0a', 'eu-west-1a', 7, '97.2%'],
        ['subnet-0bbbbbb', 'eu-west-1b', 1234, '5.0%'],
      ],
    );
    expect(out.split('\n')).toEqual([
      '  SUBNET          AZ          FREE   USED',
      '  subnet-0a       eu-west-1a     7  97.2%',
      '  subnet-0bbbbbb  eu-west-1b  1234   5.0%',
    ]);
  });

  it('uses the indent it is given and trims trailing spaces', () => {
    const out = table(['NAME', 'KIND'], [['general', ''], ['karpenter:default', 'karpenter']], '    ');
    expect(out.split('\n')).toEqual(['    NAME               KIND', '    general', '    karpenter:default  karpenter']);
  });

  it('a column is numeric only if every cell is', () => {
    const out = table(['A', 'B'], [[1, 'x'], ['n/a', 2]]);
    // Column A mixes 1 and "n/a": left-aligned. Column B mixes "x" and 2: left-aligned.
    expect(out.split('\n')).toEqual(['  A    B', '  1    x', '  n/a  2']);
  });

  it('prints the header alone when there are no rows', () => {
    expect(table(['NODEGROUP', 'NODES'], [])).toBe('  NODEGROUP  NODES');
  });

  it('tolerates a short row', () => {
    expect(table(['A', 'B', 'C'], [['x']]).split('\n')).toEqual(['  A  B  C', '  x']);
  });
});
