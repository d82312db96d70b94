import type { ClusterInventory } from '../../lib/inventory/types';
import type { KubeIpFailure } from '../../lib/inventory/kube-types';
import { IP_FAILURE_WINDOW_MINUTES } from '../../lib/measure/kube-pods';
import { AZ_A, AZ_B, World, ofKind, run } from './world';
import { ipFailure, kubeNode, kubeView } from '../support/kube-view';

/** Node `busy` in a scarce subnet (10 free), node `full` at its IP limit, node `roomy` in a roomy subnet. */
function cluster() {
  const w = new World().addSubnet('subnet-a', '10.2.0.0/24', AZ_A).addSubnet('subnet-b', '10.2.16.0/20', AZ_B);
  const busy = w.node({ cluster: 'c', nodegroup: 'api', type: 'm5.large', subnetId: 'subnet-a', enis: [10, 10] });
  const full = w.node({ cluster: 'c', nodegroup: 'api', type: 'm5.large', subnetId: 'subnet-b', enis: [10, 10, 10] });
  const roomy = w.node({ cluster: 'c', nodegroup: 'batch', type: 'm5.large', subnetId: 'subnet-b', enis: [5] });
  w.fillTo('subnet-a', 10);
  const inv = w.inventory({ name: 'c', subnets: [['subnet-a', ['node', 'cluster']], ['subnet-b', ['node', 'cluster']]] });
  const names = { busy: kubeNode(busy), full: kubeNode(full), roomy: kubeNode(roomy) };
  return { inv, names };
}

function findings(inv: ClusterInventory, nodes: ReturnType<typeof cluster>['names'], failures: KubeIpFailure[] | null) {
  return ofKind(run({ ...inv, kube: kubeView({ nodes: Object.values(nodes), pods: {}, ipFailures: failures }) }).findings, 'pods-failing-ip');
}

describe('pods-failing-ip', () => {
  it('pods failing on a node of a scarce subnet: critical, tied to the subnet-exhaustion finding', () => {
    const { inv, names } = cluster();
    const [f, ...rest] = findings(inv, names, [ipFailure(names.busy.name, ['shop/web-1', 'shop/web-2'], 3)]);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({
      id: 'c/pods-failing-ip/api',
      severity: 'critical',
      subject: { type: 'nodegroup', id: 'api' },
      title: `Nodegroup api: 2 pods failing IP assignment on 1 node (last ${IP_FAILURE_WINDOW_MINUTES} min): subnet subnet-a scarce`,
      evidence: { podsFailing: 2, nodes: 1, events: 6, 'cause:subnet subnet-a': 2, relatedSubnets: 'subnet-a' },
    });
    expect(f?.fixes[0]).toBe('Free or add addresses for subnet subnet-a (10 free): the fixes of the subnet-exhaustion finding c/subnet-exhaustion/subnet-a.');
    // The subnet-exhaustion finding it points at exists.
    expect(run({ ...inv }).findings.some((x) => x.id === 'c/subnet-exhaustion/subnet-a')).toBe(true);
  });

  it('by cause within a nodegroup: a node at its IP limit and ipamd unreachable, distinct pods counted once', () => {
    const { inv, names } = cluster();
    const [f] = findings(inv, names, [
      ipFailure(names.full.name, ['a/p1', 'a/p2'], 1),
      ipFailure(names.full.name, ['a/p2'], 1, 'ipamd-unreachable'),
    ]);
    expect(f?.evidence).toMatchObject({ podsFailing: 2, 'cause:ip-limit': 2, 'cause:ipamd': 1 });
    expect(f?.fixes.join('\n')).toContain('eni-limit and max-pods-mismatch');
    expect(f?.fixes.join('\n')).toContain(`kubectl -n kube-system get pods -l k8s-app=aws-node -o wide --field-selector spec.nodeName=${names.full.name}`);
  });

  it('a node with room in a roomy subnet: the warm pool was empty (ipamd still allocating)', () => {
    const { inv, names } = cluster();
    const [f] = findings(inv, names, [ipFailure(names.roomy.name, ['b/job-1'], 1)]);
    expect(f?.id).toBe('c/pods-failing-ip/batch');
    expect(f?.title).toMatch(/: warm pool empty$/);
  });

  it('one finding per nodegroup; a Node matched to no EC2 instance gets its own', () => {
    const { inv, names } = cluster();
    const out = findings(inv, names, [ipFailure(names.busy.name, ['a/x'], 1), ipFailure(names.roomy.name, ['b/y'], 1), ipFailure('ip-10-9-9-9.ec2.internal', ['c/z'], 1)]);
    expect(out.map((f) => f.id).sort()).toEqual(['c/pods-failing-ip/(node not matched)', 'c/pods-failing-ip/api', 'c/pods-failing-ip/batch']);
  });

  it(`only failures of the last ${IP_FAILURE_WINDOW_MINUTES} minutes: older ones are history, not a finding`, () => {
    const { inv, names } = cluster();
    expect(findings(inv, names, [ipFailure(names.busy.name, ['a/x'], IP_FAILURE_WINDOW_MINUTES + 1)])).toEqual([]);
  });

  it('events not read: no finding (unknown is not "none failing", and not a failure either)', () => {
    const { inv, names } = cluster();
    expect(findings(inv, names, null)).toEqual([]);
  });
});
