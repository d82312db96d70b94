import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../lib/cli/main';
import { captureIo } from '../support/cli-io';

describe('eks-ip-responder rbac', () => {
  it('prints the manifest stack/kubernetes-rbac.yaml holds, for kubectl apply -f -', async () => {
    const t = captureIo();
    expect(await main(['rbac'], t.cli)).toBe(0);
    expect(t.out()).toBe(readFileSync(join(__dirname, '..', '..', 'stack', 'kubernetes-rbac.yaml'), 'utf8'));
    expect(t.out()).toContain('kind: ClusterRoleBinding');
  });

  it('takes no argument: anything else is a usage error with its help', async () => {
    const t = captureIo();
    expect(await main(['rbac', 'extra'], t.cli)).toBe(2);
    expect(t.err()).toContain('Usage: eks-ip-responder rbac');
  });
});
