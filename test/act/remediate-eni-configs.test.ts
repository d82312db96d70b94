/**
 * Custom networking end to end on the demo account's payments-prod: the live source over the
 * emulated account, measure, diagnose, remediate (the allow-listed subnets read in one
 * DescribeSubnets, the plan, the gates, the act loop with a real local DynamoDB), the ENIConfigs
 * applied to the in-memory Kubernetes API and the env through the emulated UpdateAddon; the next
 * cycle follows it to its end.
 */
import type { Subnet } from '@aws-sdk/client-ec2';
import { createActionLedger } from '../../lib/aws/action-ledger';
import { createLedgerDocumentClient } from '../../lib/aws/ledger';
import { LiveSource } from '../../lib/aws/live-source';
import { EXECUTORS } from '../../lib/act/executors';
import { actionRecordSk } from '../../lib/act/ledger';
import { eniConfigRef } from '../../lib/act/execute-eni-configs';
import { remediate } from '../../lib/act/remediate';
import { diagnose } from '../../lib/diagnose/diagnose';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import { collectInventory } from '../../lib/inventory/collect';
import type { Inventory } from '../../lib/inventory/types';
import { measure } from '../../lib/measure/measure';
import { CUSTOM_NETWORKING_ENV } from '../../lib/plan/eni-configs';
import { parsePolicy } from '../../lib/policy/yaml';
import { createLedgerTable, dynaliteClient } from '../../tools/dynalite';
import { emulateAccount } from '../../tools/mock-aws';
import { FakeKubeApi } from '../support/fake-kube-api';
import { useTestHarness } from '../support/harness';
import { accountFromSnapshot, DEMO_SNAPSHOT } from '../support/snapshot-account';

const harness = useTestHarness();
const CLUSTER = 'payments-prod';
const T0 = new Date('2026-11-26T12:00:00Z');
const VPC = 'vpc-05cb6340ff1bbcd88';
/** The demo's 100.64.0.0/19 in eu-west-1a, and two more of the secondary CIDR added for 1b and 1c. */
const POD_SUBNETS = ['subnet-0c55317ef17156075', 'subnet-0b64000000000000b', 'subnet-0c64000000000000c'];

const POLICY = `version: 1
default:
  mode: dry-run
  actions:
    warmTargets: { allowed: false, cooldownMinutes: 60, warmIpTarget: { min: 1, max: 16 }, minimumIpTarget: { min: 0, max: 64 } }
    prefixDelegation: { allowed: false, cooldownMinutes: 1440, warmPrefixTarget: { min: 0, max: 2 }, maxPods: { min: 1, max: 250 }, overlapMarginIps: 16 }
    cniSubnets: { allowed: false, cooldownMinutes: 60, spareSubnets: [], maxSubnetsPerAction: 3 }
    instanceTypes: { allowed: false, cooldownMinutes: 1440, allowedTypes: [], maxInstanceTypes: 3, overlapMarginIps: 16, maxCapacityIncreasePercent: 25 }
clusters:
  ${CLUSTER}:
    mode: apply
    actions:
      eniConfigs: { allowed: true, cooldownMinutes: 1440, subnets: [${POD_SUBNETS.join(', ')}] }
`;

const extra = (id: string, cidr: string, az: string, free: number): Subnet => ({ SubnetId: id, VpcId: VPC, CidrBlock: cidr, AvailabilityZone: az, AvailableIpAddressCount: free, State: 'available', OwnerId: '111122223333', Tags: [] });

it('plans custom networking for payments-prod, applies the ENIConfigs and the add-on env, and follows it to its end', async () => {
  const account = accountFromSnapshot(DEMO_SNAPSHOT);
  account.subnets.push(extra('subnet-0b64000000000000b', '100.64.32.0/19', 'eu-west-1b', 8100), extra('subnet-0c64000000000000c', '100.64.64.0/19', 'eu-west-1c', 8000));
  const cluster = account.clusters.find((c) => c.name === CLUSTER);
  if (cluster) cluster.tags = { ...(cluster.tags ?? {}), 'eks-ip-responder/remediation': 'apply' };
  const aws = emulateAccount(account);
  harness.track(aws);
  const raw = dynaliteClient(harness.db.endpoint);
  await createLedgerTable(raw, 'eni-e2e');
  const actions = createActionLedger(createLedgerDocumentClient(raw), 'eni-e2e');
  const kube = new FakeKubeApi();
  const source = new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1');
  const policy = parsePolicy(POLICY, 'policy.yml');

  const cycle = async (now: Date) => {
    const collected = await collectInventory(source, { clusterNames: [CLUSTER], concurrency: 2, now });
    // The Kubernetes view the reader (lib/kube) gives: access ok, no ENIConfig yet, the CRD installed.
    const inventory: Inventory = { ...collected, clusters: collected.clusters.map((c) => ({ ...c, kube: { readAt: now.toISOString(), access: { ok: true }, eniConfigs: [], unread: [] } })) };
    const usage = measure(inventory);
    const findings = diagnose(usage, inventory, DEFAULT_THRESHOLDS);
    const before = aws.calls['DescribeSubnets'] ?? 0;
    const out = await remediate(
      {
        policy,
        baseThresholds: DEFAULT_THRESHOLDS,
        source,
        actions,
        act: { actions, executors: EXECUTORS, exec: { eks: aws.eks, ec2: aws.ec2, now: () => now, sleep: async () => {}, followForMs: 0, kube: kube.connector() }, owner: `cycle-${now.toISOString()}` },
      },
      usage,
      inventory,
      findings,
      now,
    );
    return { r: out.find((x) => x.cluster === CLUSTER), subnetReads: (aws.calls['DescribeSubnets'] ?? 0) - before };
  };

  const first = await cycle(T0);
  // The allow-listed subnets: one DescribeSubnets for all three.
  expect(first.subnetReads).toBe(1);
  const planned = first.r?.planned.find((a) => a.kind === 'eni-configs');
  expect(planned).toMatchObject({ state: 'apply', subject: VPC, blockedBy: [] });
  expect(planned?.change).toMatchObject({
    type: 'eni-configs',
    eniConfigs: [
      { name: 'eu-west-1a', subnet: POD_SUBNETS[0], securityGroups: ['sg-0d52fd3628ff34739'] },
      { name: 'eu-west-1b', subnet: POD_SUBNETS[1], securityGroups: ['sg-0d52fd3628ff34739'] },
      { name: 'eu-west-1c', subnet: POD_SUBNETS[2], securityGroups: ['sg-0d52fd3628ff34739'] },
    ],
    env: { set: CUSTOM_NETWORKING_ENV },
  });
  expect(planned?.predicted.text).toMatch(/m5\.large 29 → 20/);
  expect(first.r?.results.map((x) => x.outcome.status)).toEqual([expect.stringMatching(/^(in-progress|succeeded)$/)]);
  expect(kube.changes).toEqual(['eniconfigs/eu-west-1a', 'eniconfigs/eu-west-1b', 'eniconfigs/eu-west-1c']);
  expect(kube.object(eniConfigRef('eu-west-1b'))?.['spec']).toEqual({ subnet: POD_SUBNETS[1], securityGroups: ['sg-0d52fd3628ff34739'] });
  expect((JSON.parse(account.addons[CLUSTER]?.configurationValues ?? '{}') as { env: Record<string, string> }).env).toMatchObject(CUSTOM_NETWORKING_ENV);
  expect(aws.changes.map((c) => c.op)).toEqual(['UpdateAddon']);

  // The next cycle follows the change in flight (or, done, finds the lock gone and plans nothing new: the cooldown).
  const second = await cycle(new Date(T0.getTime() + 20 * 60_000));
  const history = await actions.getActionHistory(CLUSTER);
  expect(history.lock).toBeUndefined();
  const startedAt = history.lastStartedByKind['eni-configs'] ?? '';
  expect(startedAt).toBe(T0.toISOString());
  const record = await actions.getActionRecord(CLUSTER, actionRecordSk({ startedAt, actionId: planned?.id ?? '' }));
  expect(record?.status).toBe('succeeded');
  expect(record?.history.at(-1)?.detail).toMatch(/ENIConfigs eu-west-1a, eu-west-1b, eu-west-1c in place\. vpc-cni add-on of payments-prod updated|ENIConfigs .* applied\. vpc-cni add-on of payments-prod updated/);
  expect(second.r?.planned.find((a) => a.kind === 'eni-configs')?.state ?? 'none').not.toBe('apply');
  expect(aws.changes.map((c) => c.op)).toEqual(['UpdateAddon']);
  expect(kube.changes).toHaveLength(3);
});
