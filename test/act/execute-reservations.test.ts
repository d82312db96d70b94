/**
 * The subnet-reservations executor against the emulated account: it looks before it writes,
 * creates one prefix reservation per CIDR (tagged with the action and its write token), paces its
 * creates, and refuses, creating nothing, what no longer matches the plan.
 */
import { policyProblems, type ActContext } from '../../lib/act/act';
import { cidrProblem, CREATE_INTERVAL_MS, subnetReservationsExecutor } from '../../lib/act/execute-reservations';
import type { ActionRecord, ExecuteDeps } from '../../lib/act/types';
import type { PlannedAction, SubnetReservationsChange } from '../../lib/plan/types';
import { ec2Error, emulateAccount } from '../../tools/mock-aws';
import { accountFromSnapshot, DEMO_SNAPSHOT } from '../support/snapshot-account';
import { useTestHarness } from '../support/harness';

const harness = useTestHarness();
const CLUSTER = 'payments-prod';
const SUBNET = 'subnet-02a477941daa66d13'; // payments-prod-private-c, 10.20.4.0/22
const VPC = 'vpc-05cb6340ff1bbcd88';

function change(cidrs: string[], o: Partial<SubnetReservationsChange> = {}): SubnetReservationsChange {
  return { type: 'reserve-prefixes', subnetId: SUBNET, vpcId: VPC, subnetCidr: '10.20.4.0/22', cidrs, description: 'eks-ip-responder: /28 prefixes', ...o };
}

function action(c: SubnetReservationsChange): PlannedAction {
  return {
    id: `${CLUSTER}/subnet-reservations/${SUBNET}`,
    cluster: CLUSTER,
    kind: 'subnet-reservations',
    subject: SUBNET,
    reason: 'prefix mode',
    findingIds: [],
    change: c,
    predicted: { ipsFreed: 0, text: 'reserves' },
    blockers: [],
    state: 'apply',
    blockedBy: [],
  };
}

function setup(prepare: (account: ReturnType<typeof accountFromSnapshot>) => void = () => {}) {
  const account = accountFromSnapshot(DEMO_SNAPSHOT);
  prepare(account);
  const aws = emulateAccount(account);
  harness.track(aws);
  const sleeps: number[] = [];
  const intents: string[] = [];
  const deps: ExecuteDeps = {
    ec2: aws.ec2,
    eks: aws.eks,
    now: () => new Date('2026-11-26T10:00:00Z'),
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    followForMs: 0,
    intend: (intent) => {
      intents.push(`${intent.operation} ${intent.target}`);
      return Promise.resolve('tok-0123456789');
    },
  };
  return { account, aws, deps, sleeps, intents };
}

describe('subnetReservationsExecutor', () => {
  it('creates one prefix reservation per CIDR, tagged with the action and the write token, each announced first, paced', async () => {
    const { account, aws, deps, sleeps, intents } = setup();
    const out = await subnetReservationsExecutor.start(action(change(['10.20.7.0/25', '10.20.6.128/25', '10.20.6.64/26'])), deps);
    expect(out).toMatchObject({ status: 'succeeded', step: 'reserved' });
    expect(aws.changes.map((c) => c.op)).toEqual(['CreateSubnetCidrReservation', 'CreateSubnetCidrReservation', 'CreateSubnetCidrReservation']);
    expect(intents).toEqual([
      `ec2:CreateSubnetCidrReservation ${SUBNET} 10.20.7.0/25`,
      `ec2:CreateSubnetCidrReservation ${SUBNET} 10.20.6.128/25`,
      `ec2:CreateSubnetCidrReservation ${SUBNET} 10.20.6.64/26`,
    ]);
    // Paced to the refill rate: a wait between two creates, none before the first.
    expect(sleeps).toEqual([CREATE_INTERVAL_MS, CREATE_INTERVAL_MS]);
    const made = (account.subnetCidrReservations ?? []).filter((r) => r.SubnetId === SUBNET);
    expect(made.map((r) => [r.Cidr, r.ReservationType])).toEqual([
      ['10.20.7.0/25', 'prefix'],
      ['10.20.6.128/25', 'prefix'],
      ['10.20.6.64/26', 'prefix'],
    ]);
    expect(made[0]?.Tags).toEqual([
      { Key: 'eks-ip-responder/action', Value: `${CLUSTER}/subnet-reservations/${SUBNET}` },
      { Key: 'eks-ip-responder/write-token', Value: 'tok-0123456789' },
    ]);
    expect(out.reference).toBe(made.map((r) => `${r.Cidr}=${r.SubnetCidrReservationId}`).join(','));
  });

  it('run again (a retry, or the follow after a crash), it finds them and creates nothing', async () => {
    const { aws, deps, intents } = setup();
    const a = action(change(['10.20.7.0/25', '10.20.6.128/25']));
    await subnetReservationsExecutor.start(a, deps);
    const record = { actionId: a.id, change: a.change } as ActionRecord;
    const again = await subnetReservationsExecutor.follow(record, deps);
    expect(again).toMatchObject({ status: 'succeeded', detail: expect.stringContaining('confirmed') });
    expect(aws.writes.filter((w) => w.op === 'CreateSubnetCidrReservation')).toHaveLength(2);
    expect(intents).toHaveLength(2);
  });

  it('after a crash between the first create and the second, it makes only the missing one', async () => {
    const { account, aws, deps } = setup();
    account.subnetCidrReservations = [{ SubnetCidrReservationId: 'scr-earlier', SubnetId: SUBNET, Cidr: '10.20.7.0/25', ReservationType: 'prefix' }];
    const out = await subnetReservationsExecutor.start(action(change(['10.20.7.0/25', '10.20.6.128/25'])), deps);
    expect(out).toMatchObject({ status: 'succeeded', detail: expect.stringContaining('already reserved: 10.20.7.0/25') });
    expect(aws.changes.map((c) => (c.input as { Cidr?: string }).Cidr)).toEqual(['10.20.6.128/25']);
  });

  it('refuses, creating nothing, a CIDR that now overlaps a reservation made since the plan', async () => {
    const { account, aws, deps } = setup();
    account.subnetCidrReservations = [{ SubnetCidrReservationId: 'scr-other', SubnetId: SUBNET, Cidr: '10.20.6.128/26', ReservationType: 'explicit' }];
    const out = await subnetReservationsExecutor.start(action(change(['10.20.7.0/25', '10.20.6.128/25'])), deps);
    expect(out).toMatchObject({ status: 'failed', detail: expect.stringMatching(/10\.20\.6\.128\/25 overlaps explicit reservation scr-other .*: nothing reserved/) });
    expect(aws.writes).toEqual([]);
  });

  it('refuses, creating nothing, CIDRs that exceed half the free /28 blocks of the subnet as it is now', async () => {
    // Since the plan, an ENI took an address in each /28 of 10.20.4.0 to 10.20.6.255: the free
    // blocks are the 15 of 10.20.7.0/24 (its last holds the broadcast address); half is 7, the
    // planned /25 is 8.
    const { aws, deps } = setup((account) => {
      const ips = Array.from({ length: 48 }, (_, i) => `10.20.${4 + Math.floor(i / 16)}.${(i % 16) * 16 + 5}`);
      account.networkInterfaces.push({ NetworkInterfaceId: 'eni-0fill000000000000', SubnetId: SUBNET, VpcId: VPC, Status: 'in-use', PrivateIpAddresses: ips.map((ip) => ({ PrivateIpAddress: ip })) });
    });
    const out = await subnetReservationsExecutor.start(action(change(['10.20.7.0/25'])), deps);
    expect(out).toMatchObject({ status: 'failed', detail: expect.stringMatching(/8 \/28 blocks exceed 50% of the 15 free \/28 blocks of 10\.20\.4\.0\/22 now \(7\): nothing reserved/) });
    expect(aws.writes).toEqual([]);
  });

  it('refuses, creating nothing, CIDRs that would take the subnet\'s prefix reservations past half its usable /28 blocks', async () => {
    // Prefix reservations of 24 blocks already (made by anyone); 24 + 8 > 31 (half of 62).
    const { aws, deps } = setup((account) => {
      account.subnetCidrReservations = [
        { SubnetCidrReservationId: 'scr-a', SubnetId: SUBNET, Cidr: '10.20.5.0/24', ReservationType: 'prefix' },
        { SubnetCidrReservationId: 'scr-b', SubnetId: SUBNET, Cidr: '10.20.6.0/25', ReservationType: 'prefix' },
      ];
    });
    const out = await subnetReservationsExecutor.start(action(change(['10.20.7.0/25'])), deps);
    expect(out).toMatchObject({ status: 'failed', detail: expect.stringMatching(/24 blocks reserved for prefixes already, 32 blocks would exceed 50% of the subnet's usable \/28 blocks \(31\): nothing reserved/) });
    expect(aws.writes).toEqual([]);
  });

  it.each<[string, SubnetReservationsChange, RegExp]>([
    ['a CIDR not aligned to its size', change(['10.20.6.16/26']), /not aligned to its size \(10\.20\.6\.0\/26\)/],
    ['a CIDR outside the subnet', change(['10.20.8.0/25']), /not inside the subnet's 10\.20\.4\.0\/22/],
    ['a range smaller than a /28', change(['10.20.6.0/29']), /smaller than a \/28/],
    ['two planned CIDRs that overlap', change(['10.20.6.0/25', '10.20.6.64/26']), /10\.20\.6\.0\/25 overlaps 10\.20\.6\.64\/26/],
    ['a subnet that has moved (another CIDR than planned)', change(['10.20.6.0/25'], { subnetCidr: '10.20.0.0/21' }), /is 10\.20\.4\.0\/22 in vpc-05cb6340ff1bbcd88, not 10\.20\.0\.0\/21/],
    ['a subnet that is gone', change(['10.20.6.0/25'], { subnetId: 'subnet-0ffffffffffffffff' }), /no longer exists/],
  ])('refuses %s, creating nothing', async (_name, c, detail) => {
    const { aws, deps } = setup();
    const out = await subnetReservationsExecutor.start(action(c), deps);
    expect(out.status).toBe('failed');
    expect(out.detail).toMatch(detail);
    expect(aws.writes).toEqual([]);
  });

  it('a throttled create is a retryable failure that names what was made before it', async () => {
    const { aws, deps } = setup();
    aws.faults['CreateSubnetCidrReservation'] = (_input, n) => (n === 2 ? ec2Error('RequestLimitExceeded', 'Request limit exceeded.') : undefined);
    const out = await subnetReservationsExecutor.start(action(change(['10.20.7.0/25', '10.20.6.128/25'])), deps);
    expect(out).toMatchObject({ status: 'failed', retryable: true, detail: expect.stringContaining('made before it: 10.20.7.0/25') });
  });
});

describe('cidrProblem', () => {
  it.each<[string, string | undefined]>([
    ['10.20.6.0/25', undefined],
    ['10.20.4.0/22', undefined],
    ['10.20.6.8/28', 'not aligned'],
    ['10.20.3.0/24', 'not inside'],
    ['banana', 'not an IPv4 CIDR block'],
  ])('%s', (cidr, problem) => {
    const p = cidrProblem(cidr, '10.20.4.0/22');
    if (problem === undefined) expect(p).toBeUndefined();
    else expect(p).toContain(problem);
  });
});

describe('policyProblems: a record reserving outside the allow list', () => {
  const ctx = (subnets: string[]): ActContext => ({
    dataAt: new Date(),
    allowedKinds: new Set(['subnet-reservations']),
    allowedSubnets: new Set(),
    reservationSubnets: new Set(subnets),
    regate: (a) => a,
  });
  const record = { kind: 'subnet-reservations', change: change(['10.20.6.0/25']) } as ActionRecord;

  it('is a problem (the record is quarantined or paused, never executed)', () => {
    expect(policyProblems(CLUSTER, record, ctx([]))).toEqual([
      `it reserves in ${SUBNET}, which the policy does not list under actions.subnetReservations.subnets of ${CLUSTER}`,
    ]);
    expect(policyProblems(CLUSTER, record, ctx([SUBNET]))).toEqual([]);
  });
});
