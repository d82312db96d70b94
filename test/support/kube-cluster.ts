/** A DescribeCluster answer whose endpoint is a test Kubernetes API server. */
import type { Cluster } from '@aws-sdk/client-eks';
import { KUBE_TEST_CA } from './kube-server';

export function clusterAt(endpoint: string, o: { name?: string; ca?: string; publicAccess?: boolean; mode?: string } = {}): Cluster {
  return {
    name: o.name ?? 'prod-a',
    arn: `arn:aws:eks:eu-west-1:111122223333:cluster/${o.name ?? 'prod-a'}`,
    status: 'ACTIVE',
    endpoint,
    certificateAuthority: { data: Buffer.from(o.ca ?? KUBE_TEST_CA, 'utf8').toString('base64') },
    accessConfig: { authenticationMode: (o.mode ?? 'API_AND_CONFIG_MAP') as 'API_AND_CONFIG_MAP' },
    resourcesVpcConfig: { vpcId: 'vpc-1', endpointPublicAccess: o.publicAccess ?? true, endpointPrivateAccess: true, clusterSecurityGroupId: 'sg-0cluster', publicAccessCidrs: ['0.0.0.0/0'] },
  };
}
