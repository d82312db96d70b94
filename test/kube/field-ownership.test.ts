/**
 * The server-side apply ownership shared by the test API server and the in-memory KubeApi
 * (test/support/field-ownership.ts): each rule the executors' tests lean on, broken on purpose here.
 */
import { applyOwned, conflictStatus, managedFields, owned, type Obj } from '../support/field-ownership';

const envOf = (o: Obj): unknown => ((o['spec'] as { template: { spec: { containers: { env: unknown }[] } } }).template.spec.containers[0]?.env);
const awsNode = (env: { name: string; value: string }[]): Obj => ({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'aws-node' }, spec: { template: { spec: { containers: [{ name: 'aws-node', env }] } } } });
const envApply = (env: { name: string; value: string }[]): Obj => ({ spec: { template: { spec: { containers: [{ name: 'aws-node', env }] } } } });
const WARM = '.spec.template.spec.containers[name="aws-node"].env[name="WARM_IP_TARGET"].value';
const managers = (o: ReturnType<typeof owned>): string[] => managedFields(o, 'v1').map((e) => `${String(e['manager'])}:${String(e['operation'])}`);

describe('server-side apply field ownership (test support)', () => {
  it('a different value another manager owns is a conflict naming it, nothing changed; the same value is shared, no conflict', () => {
    const s = owned(awsNode([{ name: 'WARM_IP_TARGET', value: '5' }]), 'helm');
    expect(applyOwned(s, 'eks-ip-responder', envApply([{ name: 'WARM_IP_TARGET', value: '1' }]))).toEqual([{ field: WARM, owner: 'helm' }]);
    expect(envOf(s.object)).toEqual([{ name: 'WARM_IP_TARGET', value: '5' }]);
    expect(applyOwned(s, 'eks-ip-responder', envApply([{ name: 'WARM_IP_TARGET', value: '5' }]))).toEqual([]);
    expect(s.owners.get(WARM)?.managers).toEqual(new Set(['helm', 'eks-ip-responder']));
    expect(managers(s)).toEqual(['helm:Update', 'eks-ip-responder:Apply']);
  });

  it('forced, a changed field becomes the applier\'s alone', () => {
    const s = owned(awsNode([{ name: 'WARM_IP_TARGET', value: '5' }]), 'helm');
    expect(applyOwned(s, 'eks-ip-responder', envApply([{ name: 'WARM_IP_TARGET', value: '1' }]), true)).toEqual([{ field: WARM, owner: 'helm' }]);
    expect(s.owners.get(WARM)?.managers).toEqual(new Set(['eks-ip-responder']));
    expect(envOf(s.object)).toEqual([{ name: 'WARM_IP_TARGET', value: '1' }]);
  });

  it('env is a map list keyed by name: another entry is kept; an entry its Apply manager leaves out is removed whole', () => {
    const s = owned(awsNode([{ name: 'AWS_VPC_K8S_CNI_LOGLEVEL', value: 'DEBUG' }]), 'helm');
    applyOwned(s, 'eks-ip-responder', envApply([{ name: 'WARM_IP_TARGET', value: '1' }, { name: 'MINIMUM_IP_TARGET', value: '10' }]));
    expect(envOf(s.object)).toEqual([
      { name: 'AWS_VPC_K8S_CNI_LOGLEVEL', value: 'DEBUG' },
      { name: 'WARM_IP_TARGET', value: '1' },
      { name: 'MINIMUM_IP_TARGET', value: '10' },
    ]);
    applyOwned(s, 'eks-ip-responder', envApply([{ name: 'WARM_IP_TARGET', value: '1' }]));
    expect(envOf(s.object)).toEqual([
      { name: 'AWS_VPC_K8S_CNI_LOGLEVEL', value: 'DEBUG' },
      { name: 'WARM_IP_TARGET', value: '1' },
    ]);
  });

  it('fields are released only from an Apply entry: left out by a manager that wrote them by Update, they stay; co-owned, they stay', () => {
    const byUpdate = owned({ spec: { a: '1', b: '2' } }, 'eks-ip-responder', 'Update');
    applyOwned(byUpdate, 'eks-ip-responder', { spec: { a: '1' } });
    expect(byUpdate.object['spec']).toEqual({ a: '1', b: '2' });

    const byApply = owned({ spec: { a: '1', b: '2' } }, 'eks-ip-responder', 'Apply');
    applyOwned(byApply, 'eks-ip-responder', { spec: { a: '1' } });
    expect(byApply.object['spec']).toEqual({ a: '1' });

    const shared = owned({ spec: { a: '1', b: '2' } }, 'eks-ip-responder', 'Apply');
    applyOwned(shared, 'helm', { spec: { b: '2' } });
    applyOwned(shared, 'eks-ip-responder', { spec: { a: '1' } });
    expect(shared.object['spec']).toEqual({ a: '1', b: '2' });
    expect(shared.owners.get('.spec.b')?.managers).toEqual(new Set(['helm']));
  });

  it('Karpenter\'s lists are atomic: one conflict for the whole requirements list, and terms replaced whole', () => {
    const pool = owned({ spec: { template: { spec: { requirements: [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] }] } } } }, 'argocd-controller');
    const wider = [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand', 'spot'] }];
    expect(applyOwned(pool, 'eks-ip-responder', { spec: { template: { spec: { requirements: wider } } } })).toEqual([{ field: '.spec.template.spec.requirements', owner: 'argocd-controller' }]);

    const nodeClass = owned({ spec: { subnetSelectorTerms: [{ tags: { 'karpenter.sh/discovery': 'prod' } }] } }, 'eks-ip-responder', 'Apply');
    applyOwned(nodeClass, 'eks-ip-responder', { spec: { subnetSelectorTerms: [{ id: 'subnet-0b' }] } });
    expect(nodeClass.object['spec']).toEqual({ subnetSelectorTerms: [{ id: 'subnet-0b' }] });
  });

  it('the 409 is worded as the API server words it: one cause per field', () => {
    expect(conflictStatus([{ field: WARM, owner: 'helm' }], 'apps/v1')).toEqual({
      message: `Apply failed with 1 conflict: conflict with "helm" using apps/v1: ${WARM}`,
      causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "helm" using apps/v1', field: WARM }],
    });
    expect(conflictStatus([{ field: '.spec.a', owner: 'helm' }, { field: '.spec.b', owner: 'argocd' }], 'v1').message).toBe(
      'Apply failed with 2 conflicts: conflicts with "argocd" using v1:\n- .spec.b\nconflicts with "helm" using v1:\n- .spec.a',
    );
  });
});
