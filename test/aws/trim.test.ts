import { LiveSource } from '../../lib/aws/live-source';
import { trimInstance, trimNetworkInterface } from '../../lib/aws/trim';
import { diagnose } from '../../lib/diagnose/diagnose';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import { collectInventory } from '../../lib/inventory/collect';
import { measure } from '../../lib/measure/measure';
import { emulateAccount } from '../../tools/mock-aws';
import { accountFromSnapshot, DEMO_SNAPSHOT } from '../support/snapshot-account';

async function run(keep: 'all' | 'measured') {
  const aws = emulateAccount(accountFromSnapshot(DEMO_SNAPSHOT));
  try {
    const inv = await collectInventory(new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1', keep), {
      clusterNames: [],
      concurrency: 2,
      now: new Date('2026-11-26T10:00:00Z'),
      // The network preflight reads the nodes' security groups too.
      network: true,
    });
    const usage = measure(inv);
    return { inv, usage, findings: diagnose(usage, inv, DEFAULT_THRESHOLDS) };
  } finally {
    aws.restore();
  }
}

describe('trimming ENIs and instances to the fields the pipeline reads', () => {
  it('measures and diagnoses the demo account exactly as with the whole answers', async () => {
    const all = await run('all');
    const trimmed = await run('measured');
    expect(trimmed.usage).toEqual(all.usage);
    expect(trimmed.findings).toEqual(all.findings);
    // ...and really keeps less.
    expect(JSON.stringify(trimmed.inv).length).toBeLessThan(JSON.stringify(all.inv).length);
  });

  it('keeps the CNI and cluster tags and drops the rest', () => {
    const eni = trimNetworkInterface({
      NetworkInterfaceId: 'eni-1',
      Groups: [{ GroupId: 'sg-1' }],
      MacAddress: '02:00:00:00:00:01',
      PrivateIpAddresses: [{ PrivateIpAddress: '10.0.0.5', Primary: true, PrivateDnsName: 'ip-10-0-0-5' }],
      TagSet: [
        { Key: 'node.k8s.amazonaws.com/instance_id', Value: 'i-1' },
        { Key: 'team', Value: 'payments' },
      ],
    });
    expect(eni).toEqual({
      NetworkInterfaceId: 'eni-1',
      PrivateIpAddresses: [{ PrivateIpAddress: '10.0.0.5', Primary: true }],
      TagSet: [{ Key: 'node.k8s.amazonaws.com/instance_id', Value: 'i-1' }],
    });
    expect(
      trimInstance({
        InstanceId: 'i-1',
        ImageId: 'ami-1',
        Tags: [
          { Key: 'eks:nodegroup-name', Value: 'ng' },
          { Key: 'Name', Value: 'x' },
        ],
        NetworkInterfaces: [{ NetworkInterfaceId: 'eni-1', SubnetId: 'subnet-1', MacAddress: 'm' }],
        SecurityGroups: [{ GroupId: 'sg-1', GroupName: 'nodes' }],
      }),
    ).toEqual({
      InstanceId: 'i-1',
      Tags: [{ Key: 'eks:nodegroup-name', Value: 'ng' }],
      NetworkInterfaces: [{ NetworkInterfaceId: 'eni-1', SubnetId: 'subnet-1' }],
      // The network preflight: an endpoint's security group may admit the nodes by their group.
      SecurityGroups: [{ GroupId: 'sg-1' }],
    });
  });
});
