/**
 * An emulated AWS account for the tests and the benchmark (scripts/bench): EC2, EKS, CloudWatch
 * and SNS clients mocked with aws-sdk-client-mock that answer from a SyntheticAccount the way the
 * APIs do — the same filters, MaxResults bounds, NextToken pagination, and error names — and
 * count every call.
 */
import {
  CloudWatchClient,
  GetMetricDataCommand,
  PutMetricDataCommand,
  type Dimension,
  type MetricDataQuery,
  type MetricDataResult,
  type PutMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import {
  DescribeDhcpOptionsCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeNetworkInterfacesCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  CreateSubnetCidrReservationCommand,
  DeleteNetworkInterfaceCommand,
  DescribeSubnetsCommand,
  GetSubnetCidrReservationsCommand,
  EC2Client,
  EC2ServiceException,
  type Filter,
  type Instance,
  type SubnetCidrReservation,
  type Tag,
} from '@aws-sdk/client-ec2';
import {
  CreateNodegroupCommand,
  DescribeAddonCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  DescribeUpdateCommand,
  EKSClient,
  EKSServiceException,
  ListClustersCommand,
  ListNodegroupsCommand,
  UpdateAddonCommand,
  UpdateNodegroupConfigCommand,
  type Nodegroup,
} from '@aws-sdk/client-eks';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  ServiceQuotasClient,
  ServiceQuotasServiceException,
} from '@aws-sdk/client-service-quotas';
import { mockClient } from 'aws-sdk-client-mock';
import { parseIpv4Cidr } from '../lib/measure/cidr';
import type { SyntheticAccount } from './synthetic-account';

/** An error as the SDK throws it for a service's error response. */
export function ec2Error(name: string, message: string): EC2ServiceException {
  return new EC2ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message });
}
export function eksError(name: string, message: string): EKSServiceException {
  return new EKSServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message });
}
export function serviceQuotasError(name: string, message: string): ServiceQuotasServiceException {
  return new ServiceQuotasServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message });
}

/** A hook that may fail a call: return an Error to throw it, undefined to answer normally. */
export type Fault = (input: Record<string, unknown>, callNumber: number) => Error | undefined;

export interface EmulatedAccount {
  ec2: EC2Client;
  eks: EKSClient;
  cloudwatch: CloudWatchClient;
  sns: SNSClient;
  /**
   * Service Quotas, only for an account with `quotas` (SyntheticAccount): a live source given it
   * (with the CloudWatch client) makes the region-level reads; accounts without quotas keep the
   * calls of a cycle as they were.
   */
  serviceQuotas?: ServiceQuotasClient;
  /** Every SNS Publish request. */
  published: PublishCommandInput[];
  /**
   * The history GetMetricData answers, by metric name and dimension values joined with '/'
   * (e.g. `SubnetAvailableIps/prod/subnet-1`); series not in it come back empty.
   */
  history: Map<string, { t: Date; value: number }[]>;
  /** Calls made, by operation name (e.g. `DescribeNetworkInterfaces`). */
  calls: Record<string, number>;
  /** Every PutMetricData request. */
  putMetricData: PutMetricDataCommandInput[];
  /** Faults by operation name. */
  faults: Record<string, Fault>;
  /** Every write call (UpdateAddon, CreateTags, CreateNodegroup, UpdateNodegroupConfig), in order. */
  writes: { op: string; input: Record<string, unknown> }[];
  /** The write calls that changed the account: not those answered from an earlier call's clientRequestToken. */
  changes: { op: string; input: Record<string, unknown> }[];
  totalReadCalls(): number;
  /** Forgets the calls the mocks recorded (sinon keeps every answer of every call until then). */
  resetHistory(): void;
  restore(): void;
}

function page<T>(items: T[], input: { MaxResults?: number; NextToken?: string }, maxAllowed: number, min = 5) {
  const size = input.MaxResults ?? maxAllowed;
  if (size < min || size > maxAllowed) {
    throw ec2Error('InvalidParameterValue', `MaxResults must be between ${min} and ${maxAllowed}`);
  }
  const start = input.NextToken ? Number(input.NextToken) : 0;
  const end = start + size;
  return { items: items.slice(start, end), NextToken: end < items.length ? String(end) : undefined };
}

function filterValues(filters: Filter[] | undefined, name: string): string[] | undefined {
  const f = filters?.find((x) => x.Name === name);
  if (f && (f.Values?.length ?? 0) > 200) {
    throw ec2Error('FilterLimitExceeded', 'The maximum number of filter values specified on a single call is 200');
  }
  return f?.Values;
}

const ipOf = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

const hasTagKey = (tags: Tag[] | undefined, keys: string[]): boolean => (tags ?? []).some((t) => keys.includes(t.Key ?? ''));

export interface EmulateOptions {
  /**
   * Answer with copies, as the SDK does (it builds new objects from each response): what the
   * caller keeps is then its own memory, not shared with the account. The benchmark uses it to
   * weigh the cycle's live data; tests do not need it.
   */
  copyAnswers?: boolean;
  /**
   * Mock the four client instances the account answers with, not their classes: other clients
   * stay real (the wire test's, over HTTP), and a test that never reaches restore() (a timeout)
   * leaves nothing behind on the classes for the next ones. Clients the code under test builds
   * itself are then not emulated.
   */
  instancesOnly?: boolean;
}

export type ClientKind = 'ec2' | 'eks' | 'cloudwatch' | 'sns' | 'servicequotas';

/** A command class of the four clients (its instances carry the operation's schema and input). */
export type CommandClass = abstract new (...args: never[]) => { input: object };

/** One operation the emulator answers. */
export interface EmulatedOperation {
  kind: ClientKind;
  command: CommandClass;
  /** Counts the call, applies its fault if any, and answers (or throws the service's error). */
  answer: (input: Record<string, unknown>) => unknown;
}

/**
 * The account's API without any client: every operation the emulator knows, by name, with the
 * state the calls share (counts, faults, writes, history). emulateAccount() mocks the SDK
 * clients with it; tools/wire.ts serves it over HTTP in the services' wire formats.
 */
export interface AccountApi extends Omit<EmulatedAccount, 'ec2' | 'eks' | 'cloudwatch' | 'sns' | 'serviceQuotas' | 'resetHistory' | 'restore'> {
  operations: Map<string, EmulatedOperation>;
}

export function accountApi(account: SyntheticAccount, options: EmulateOptions & { onCall?: () => void } = {}): AccountApi {
  const answer = <T>(value: T): T => (options.copyAnswers ? structuredClone(value) : value);
  const published: PublishCommandInput[] = [];
  const history = new Map<string, { t: Date; value: number }[]>();
  // The VPCs' NAU metrics the account reports (AWS/EC2, one datapoint a day), for GetMetricData.
  for (const [vpcId, m] of Object.entries(account.nauMetrics ?? {})) {
    if (m.usage !== undefined) history.set(`NetworkAddressUsage/${vpcId}`, [{ t: new Date(m.at), value: m.usage }]);
    if (m.peered !== undefined) history.set(`NetworkAddressUsagePeered/${vpcId}`, [{ t: new Date(m.at), value: m.peered }]);
  }
  const calls: Record<string, number> = {};
  const faults: Record<string, Fault> = {};
  const putMetricData: PutMetricDataCommandInput[] = [];
  const operations = new Map<string, EmulatedOperation>();
  const on = <I extends object>(kind: ClientKind, command: abstract new (...args: never[]) => { input: I }, op: string, fn: (input: I) => unknown): void => {
    operations.set(op, {
      kind,
      command,
      answer: (input) => {
        options.onCall?.();
        calls[op] = (calls[op] ?? 0) + 1;
        const err = faults[op]?.(input, calls[op]);
        if (err) throw err;
        return fn(input as I);
      },
    });
  };

  const subnetsByVpcTag = account.subnets;
  const enisBySubnet = new Map<string, typeof account.networkInterfaces>();
  for (const e of account.networkInterfaces) {
    const list = enisBySubnet.get(e.SubnetId ?? '') ?? [];
    list.push(e);
    enisBySubnet.set(e.SubnetId ?? '', list);
  }
  const typeInfo = new Map(account.instanceTypes.map((t) => [t.InstanceType ?? '', t]));

  on('ec2', DescribeSubnetsCommand, 'DescribeSubnets', (input) => {
    const ids = filterValues(input.Filters, 'subnet-id');
    const vpcs = filterValues(input.Filters, 'vpc-id');
    const tagKeys = filterValues(input.Filters, 'tag-key');
    const idSet = ids ? new Set(ids) : undefined;
    const found = subnetsByVpcTag.filter(
      (s) =>
        (!idSet || idSet.has(s.SubnetId ?? '')) &&
        (!vpcs || vpcs.includes(s.VpcId ?? '')) &&
        (!tagKeys || hasTagKey(s.Tags, tagKeys)),
    );
    const p = page(found, input, 1000);
    return answer({ Subnets: p.items, NextToken: p.NextToken });
  });
  on('ec2', DescribeNetworkInterfacesCommand, 'DescribeNetworkInterfaces', (input) => {
    const ids = filterValues(input.Filters, 'subnet-id');
    const eniIds = filterValues(input.Filters, 'network-interface-id');
    const found = (ids ? ids.flatMap((id) => enisBySubnet.get(id) ?? []) : account.networkInterfaces).filter(
      (e) => !eniIds || eniIds.includes(e.NetworkInterfaceId ?? ''),
    );
    const p = page(found, input, 1000);
    return answer({ NetworkInterfaces: p.items, NextToken: p.NextToken });
  });
  on('ec2', DescribeInstancesCommand, 'DescribeInstances', (input) => {
    const tagKeys = filterValues(input.Filters, 'tag-key');
    const states = filterValues(input.Filters, 'instance-state-name');
    const ids = filterValues(input.Filters, 'instance-id');
    const subnetIds = filterValues(input.Filters, 'subnet-id');
    // The InstanceIds parameter fails the whole call for an id EC2 does not know (a filter only matches).
    for (const id of input.InstanceIds ?? []) {
      if (!account.instances.some((i) => i.InstanceId === id)) throw ec2Error('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    }
    // `tag:<key>` filters: the tag with one of the values (EC2 DescribeInstances filters).
    const tagValueFilters = (input.Filters ?? []).filter((f) => f.Name?.startsWith('tag:'));
    const found: Instance[] = account.instances.filter(
      (i) =>
        (!tagKeys || hasTagKey(i.Tags, tagKeys)) &&
        tagValueFilters.every((f) => (i.Tags ?? []).some((t) => `tag:${t.Key ?? ''}` === f.Name && (f.Values ?? []).includes(t.Value ?? ''))) &&
        (!states || states.includes(i.State?.Name ?? '')) &&
        (!ids || ids.includes(i.InstanceId ?? '')) &&
        (!subnetIds || subnetIds.includes(i.SubnetId ?? '')),
    );
    const p = page(found, input, 1000);
    // EC2 groups instances in reservations; one instance per reservation is the worst case.
    return answer({ Reservations: p.items.map((i) => ({ ReservationId: `r-${i.InstanceId?.slice(2)}`, Instances: [i] })), NextToken: p.NextToken });
  });
  on('ec2', DescribeInstanceTypesCommand, 'DescribeInstanceTypes', (input) => {
    const asked = (input.InstanceTypes ?? []) as string[];
    if (asked.length > 100) throw ec2Error('InvalidParameterValue', 'at most 100 instance types');
    const unknown = asked.filter((t) => !typeInfo.has(t));
    if (unknown.length > 0) {
      throw ec2Error('InvalidInstanceType', `The following supplied instance types do not exist: [${unknown.join(', ')}]`);
    }
    return answer({ InstanceTypes: asked.map((t) => typeInfo.get(t)) });
  });

  // The network preflight's reads, from the account's VPC networks.
  const networks = account.networks ?? [];
  const networkOf = (vpcId: string | undefined) => networks.find((n) => n.vpcId === vpcId);
  on('ec2', DescribeVpcsCommand, 'DescribeVpcs', (input) => {
    const ids = input.VpcIds;
    const missing = (ids ?? []).filter((id) => !networkOf(id)?.vpc);
    if (missing.length > 0) throw ec2Error('InvalidVpcID.NotFound', `The vpc ID '${missing.join(', ')}' does not exist`);
    return answer({ Vpcs: networks.filter((n) => n.vpc && (!ids || ids.includes(n.vpcId))).map((n) => n.vpc) });
  });
  on('ec2', DescribeVpcAttributeCommand, 'DescribeVpcAttribute', (input) => {
    const n = networkOf(input.VpcId);
    if (!n) throw ec2Error('InvalidVpcID.NotFound', `The vpc ID '${input.VpcId ?? ''}' does not exist`);
    // One attribute per call (EC2 API reference, DescribeVpcAttribute).
    if (input.Attribute === 'enableDnsSupport') return answer({ VpcId: n.vpcId, EnableDnsSupport: { Value: n.enableDnsSupport } });
    if (input.Attribute === 'enableDnsHostnames') return answer({ VpcId: n.vpcId, EnableDnsHostnames: { Value: n.enableDnsHostnames } });
    throw ec2Error('InvalidParameterValue', `attribute ${String(input.Attribute)} is not emulated`);
  });
  on('ec2', DescribeDhcpOptionsCommand, 'DescribeDhcpOptions', (input) => {
    const all = networks.flatMap((n) => (n.dhcpOptions ? [n.dhcpOptions] : []));
    const ids = input.DhcpOptionsIds;
    const missing = (ids ?? []).filter((id) => !all.some((d) => d.DhcpOptionsId === id));
    if (missing.length > 0) throw ec2Error('InvalidDhcpOptionID.NotFound', `The dhcpOption ID '${missing.join(', ')}' does not exist`);
    return answer({ DhcpOptions: all.filter((d) => !ids || ids.includes(d.DhcpOptionsId ?? '')) });
  });
  on('ec2', DescribeRouteTablesCommand, 'DescribeRouteTables', (input) => {
    const vpcs = filterValues(input.Filters, 'vpc-id');
    const found = networks.filter((n) => !vpcs || vpcs.includes(n.vpcId)).flatMap((n) => n.routeTables ?? []);
    const p = page(found, input, 100);
    return answer({ RouteTables: p.items, NextToken: p.NextToken });
  });
  on('ec2', DescribeVpcEndpointsCommand, 'DescribeVpcEndpoints', (input) => {
    const vpcs = filterValues(input.Filters, 'vpc-id');
    const found = networks.filter((n) => !vpcs || vpcs.includes(n.vpcId)).flatMap((n) => n.endpoints ?? []);
    const p = page(found, input, 1000, 1);
    return answer({ VpcEndpoints: p.items, NextToken: p.NextToken });
  });
  on('ec2', DescribeSecurityGroupsCommand, 'DescribeSecurityGroups', (input) => {
    const ids = filterValues(input.Filters, 'group-id') ?? input.GroupIds;
    const found = networks.flatMap((n) => n.securityGroups ?? []).filter((g) => !ids || ids.includes(g.GroupId ?? ''));
    const p = page(found, input, 1000);
    return answer({ SecurityGroups: p.items, NextToken: p.NextToken });
  });
  // GetSubnetCidrReservations: SubnetId is required (one subnet per call); the filters narrow
  // within it (EC2 API reference, API_GetSubnetCidrReservations.html); MaxResults 5..1000.
  // Read at each call: a test may set the account's reservations after emulating it.
  const reservations = (): SubnetCidrReservation[] => (account.subnetCidrReservations ??= []);
  const tagFilter = (filters: Filter[] | undefined, tags: Tag[] | undefined): boolean =>
    (filters ?? [])
      .filter((f) => f.Name?.startsWith('tag:'))
      .every((f) => (tags ?? []).some((t) => `tag:${t.Key}` === f.Name && (f.Values ?? []).includes(t.Value ?? '')));
  on('ec2', GetSubnetCidrReservationsCommand, 'GetSubnetCidrReservations', (input) => {
    if (!input.SubnetId) throw ec2Error('MissingParameter', 'The request must contain the parameter SubnetId');
    if (!account.subnets.some((x) => x.SubnetId === input.SubnetId)) {
      throw ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${input.SubnetId}' does not exist`);
    }
    const types = filterValues(input.Filters, 'reservationType');
    const tagKeys = filterValues(input.Filters, 'tag-key');
    const found = reservations().filter(
      (r) =>
        r.SubnetId === input.SubnetId &&
        (!types || types.includes(r.ReservationType ?? '')) &&
        (!tagKeys || hasTagKey(r.Tags, tagKeys)) &&
        tagFilter(input.Filters, r.Tags),
    );
    const p = page(found, input, 1000);
    return answer({ SubnetIpv4CidrReservations: p.items, SubnetIpv6CidrReservations: [], NextToken: p.NextToken });
  });

  on('eks', ListClustersCommand, 'ListClusters', (input) => {
    const size = input.maxResults ?? 100;
    const start = input.nextToken ? Number(input.nextToken) : 0;
    const names = account.clusters.map((c) => c.name ?? '');
    return { clusters: names.slice(start, start + size), nextToken: start + size < names.length ? String(start + size) : undefined };
  });
  on('eks', DescribeClusterCommand, 'DescribeCluster', (input) => {
    const cluster = account.clusters.find((c) => c.name === input.name);
    if (!cluster) throw eksError('ResourceNotFoundException', `No cluster found for name: ${input.name}.`);
    return answer({ cluster });
  });
  on('eks', ListNodegroupsCommand, 'ListNodegroups', (input) => {
    const names = (account.nodegroups[input.clusterName ?? ''] ?? []).map((n) => n.nodegroupName ?? '');
    const size = input.maxResults ?? 100;
    const start = input.nextToken ? Number(input.nextToken) : 0;
    return { nodegroups: names.slice(start, start + size), nextToken: start + size < names.length ? String(start + size) : undefined };
  });
  on('eks', DescribeNodegroupCommand, 'DescribeNodegroup', (input) => {
    const ng = (account.nodegroups[input.clusterName ?? ''] ?? []).find((n) => n.nodegroupName === input.nodegroupName);
    if (!ng) throw eksError('ResourceNotFoundException', `No node group found for name: ${input.nodegroupName}.`);
    const seen = { ...ng };
    // A nodegroup being created is ACTIVE from the next look on.
    if (ng.status === 'CREATING') ng.status = 'ACTIVE';
    return answer({ nodegroup: seen });
  });
  on('eks', DescribeAddonCommand, 'DescribeAddon', (input) => {
    const addon = account.addons[input.clusterName ?? ''];
    if (!addon) throw eksError('ResourceNotFoundException', `No addon: ${input.addonName} found in cluster: ${input.clusterName}`);
    return { addon };
  });
  on('cloudwatch', PutMetricDataCommand, 'PutMetricData', (input) => {
    if ((input.MetricData?.length ?? 0) > 1000) throw new Error('PutMetricData: more than 1000 metrics in one request');
    putMetricData.push(input);
    return {};
  });

  // Writes: the account changes as EKS and EC2 would, with updates that finish at once. EKS
  // write calls are idempotent on their clientRequestToken ("a unique, case-sensitive identifier
  // that you provide to ensure the idempotency of the request", EKS API reference): a repeated
  // token answers what the first call answered and changes nothing. `writes` lists every call
  // (as CloudTrail would); `changes` only those that changed the account.
  const writes: { op: string; input: Record<string, unknown> }[] = [];
  const changes: { op: string; input: Record<string, unknown> }[] = [];
  const byToken = new Map<string, unknown>();
  const knownUpdates = new Map<string, { id: string; status: string; type: string }>();
  let updates = 0;
  const newUpdate = (type: string) => {
    const update = { id: `upd-${++updates}`, status: 'InProgress', type };
    // It finishes at once: the next DescribeUpdate sees it Successful.
    knownUpdates.set(update.id, { ...update, status: 'Successful' });
    return update;
  };
  /** The first answer to a token, or undefined for a new token (which is remembered with `answer`). */
  const idempotent = <T>(op: string, token: string | undefined, apply: () => T): T => {
    const key = token ? `${op}#${token}` : undefined;
    if (key && byToken.has(key)) return byToken.get(key) as T;
    const answer = apply();
    if (key) byToken.set(key, answer);
    return answer;
  };
  on('eks', UpdateAddonCommand, 'UpdateAddon', (input) => {
    writes.push({ op: 'UpdateAddon', input: input as unknown as Record<string, unknown> });
    return idempotent('UpdateAddon', input.clientRequestToken, () => {
      const addon = account.addons[input.clusterName ?? ''];
      if (!addon) throw eksError('ResourceNotFoundException', `No addon: ${input.addonName} found in cluster: ${input.clusterName}`);
      changes.push({ op: 'UpdateAddon', input: input as unknown as Record<string, unknown> });
      addon.configurationValues = input.configurationValues;
      return { update: { ...newUpdate('AddonUpdate'), params: [{ type: 'ConfigurationValues', value: input.configurationValues }], errors: [] } };
    });
  });
  on('eks', DescribeUpdateCommand, 'DescribeUpdate', (input) => {
    const update = knownUpdates.get(input.updateId ?? '');
    if (!update) throw eksError('ResourceNotFoundException', `No update found for ID: ${input.updateId}`);
    return { update: { ...update, errors: [] } };
  });
  on('eks', CreateNodegroupCommand, 'CreateNodegroup', (input) => {
    writes.push({ op: 'CreateNodegroup', input: input as unknown as Record<string, unknown> });
    return idempotent('CreateNodegroup', input.clientRequestToken, () => {
      const list = (account.nodegroups[input.clusterName ?? ''] ??= []);
      if (list.some((n) => n.nodegroupName === input.nodegroupName)) {
        throw eksError('ResourceInUseException', `NodeGroup already exists with name ${input.nodegroupName} and cluster name ${input.clusterName}`);
      }
      changes.push({ op: 'CreateNodegroup', input: input as unknown as Record<string, unknown> });
      const ng: Nodegroup = { ...(input as Nodegroup), nodegroupName: input.nodegroupName, clusterName: input.clusterName, status: 'CREATING' };
      list.push(ng);
      return { nodegroup: { ...ng } };
    });
  });
  on('eks', UpdateNodegroupConfigCommand, 'UpdateNodegroupConfig', (input) => {
    writes.push({ op: 'UpdateNodegroupConfig', input: input as unknown as Record<string, unknown> });
    return idempotent('UpdateNodegroupConfig', input.clientRequestToken, () => {
      const ng = (account.nodegroups[input.clusterName ?? ''] ?? []).find((n) => n.nodegroupName === input.nodegroupName);
      if (!ng) throw eksError('ResourceNotFoundException', `No node group found for name: ${input.nodegroupName}.`);
      changes.push({ op: 'UpdateNodegroupConfig', input: input as unknown as Record<string, unknown> });
      if (input.scalingConfig) ng.scalingConfig = { ...ng.scalingConfig, ...input.scalingConfig };
      return { update: newUpdate('ConfigUpdate') };
    });
  });
  on('ec2', CreateTagsCommand, 'CreateTags', (input) => {
    writes.push({ op: 'CreateTags', input: input as unknown as Record<string, unknown> });
    changes.push({ op: 'CreateTags', input: input as unknown as Record<string, unknown> });
    for (const id of input.Resources ?? []) {
      const subnet = account.subnets.find((x) => x.SubnetId === id);
      if (!subnet) throw ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);
      for (const t of input.Tags ?? []) {
        subnet.Tags = [...(subnet.Tags ?? []).filter((x) => x.Key !== t.Key), t];
      }
    }
    return {};
  });
  // Errors as EC2 names them: InvalidNetworkInterfaceID.NotFound ("The networkInterface ID
  // '…' does not exist") for an ENI that is gone, InvalidNetworkInterface.InUse for an attached one.
  on('ec2', DeleteNetworkInterfaceCommand, 'DeleteNetworkInterface', (input) => {
    writes.push({ op: 'DeleteNetworkInterface', input: input as unknown as Record<string, unknown> });
    const id = input.NetworkInterfaceId ?? '';
    const at = account.networkInterfaces.findIndex((e) => e.NetworkInterfaceId === id);
    const eni = account.networkInterfaces[at];
    if (!eni) throw ec2Error('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${id}' does not exist`);
    if (eni.Status !== 'available' || eni.Attachment?.InstanceId) throw ec2Error('InvalidNetworkInterface.InUse', `Interface: [${id}] in use.`);
    changes.push({ op: 'DeleteNetworkInterface', input: input as unknown as Record<string, unknown> });
    account.networkInterfaces.splice(at, 1);
    const inSubnet = enisBySubnet.get(eni.SubnetId ?? '') ?? [];
    inSubnet.splice(inSubnet.indexOf(eni), 1);
    // Its addresses are free again.
    const subnet = account.subnets.find((s) => s.SubnetId === eni.SubnetId);
    if (subnet) subnet.AvailableIpAddressCount = (subnet.AvailableIpAddressCount ?? 0) + (eni.PrivateIpAddresses?.length ?? 0) + 16 * (eni.Ipv4Prefixes?.length ?? 0);
    return {};
  });

  on('ec2', DeleteTagsCommand, 'DeleteTags', (input) => {
    writes.push({ op: 'DeleteTags', input: input as unknown as Record<string, unknown> });
    changes.push({ op: 'DeleteTags', input: input as unknown as Record<string, unknown> });
    for (const id of input.Resources ?? []) {
      const subnet = account.subnets.find((x) => x.SubnetId === id);
      if (!subnet) throw ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);
      // A tag without a value is deleted whatever its value; with one, only when it matches (EC2 API reference, DeleteTags).
      for (const t of input.Tags ?? []) {
        subnet.Tags = (subnet.Tags ?? []).filter((x) => !(x.Key === t.Key && (t.Value === undefined || x.Value === t.Value)));
      }
    }
    return {};
  });

  // CreateSubnetCidrReservation: the range must lie in the subnet and overlap no other
  // reservation of the VPC ("the CIDR ranges cannot overlap": VPC user guide, subnet CIDR
  // reservations). It takes no client token: a repeated call makes a second reservation, or fails
  // on the overlap. The error name for an overlap or a range outside the subnet is the emulator's
  // (InvalidParameterValue): tests assert that the call fails, not its name. A created reservation
  // is empty: its addresses leave AvailableIpAddressCount.
  let reservationCount = 0;
  on('ec2', CreateSubnetCidrReservationCommand, 'CreateSubnetCidrReservation', (input) => {
    writes.push({ op: 'CreateSubnetCidrReservation', input: input as unknown as Record<string, unknown> });
    const subnet = account.subnets.find((x) => x.SubnetId === input.SubnetId);
    if (!subnet) throw ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${input.SubnetId}' does not exist`);
    const range = parseIpv4Cidr(input.Cidr ?? '');
    const inSubnet = parseIpv4Cidr(subnet.CidrBlock ?? '');
    if (range.base < inSubnet.base || range.base + range.size > inSubnet.base + inSubnet.size || !(input.Cidr ?? '').startsWith(ipOf(range.base))) {
      throw ec2Error('InvalidParameterValue', `The CIDR ${input.Cidr} is not a valid block within subnet ${input.SubnetId}`);
    }
    const vpcSubnets = new Set(account.subnets.filter((x) => x.VpcId === subnet.VpcId).map((x) => x.SubnetId));
    const clash = reservations().find((r) => {
      if (!vpcSubnets.has(r.SubnetId)) return false;
      const o = parseIpv4Cidr(r.Cidr ?? '');
      return o.base < range.base + range.size && range.base < o.base + o.size;
    });
    if (clash) throw ec2Error('InvalidParameterValue', `The CIDR ${input.Cidr} overlaps reservation ${clash.SubnetCidrReservationId} (${clash.Cidr})`);
    changes.push({ op: 'CreateSubnetCidrReservation', input: input as unknown as Record<string, unknown> });
    const created: SubnetCidrReservation = {
      SubnetCidrReservationId: `scr-${String(++reservationCount).padStart(17, '0')}`,
      SubnetId: input.SubnetId,
      Cidr: input.Cidr,
      ReservationType: input.ReservationType,
      OwnerId: account.accountId,
      ...(input.Description === undefined ? {} : { Description: input.Description }),
      Tags: (input.TagSpecifications ?? []).filter((t) => t.ResourceType === 'subnet-cidr-reservation').flatMap((t) => t.Tags ?? []),
    };
    reservations().push(created);
    // Only free addresses leave the count (a reservation over used ones changes nothing for them);
    // the emulator's callers reserve free runs, so the whole range is taken off.
    subnet.AvailableIpAddressCount = Math.max(0, (subnet.AvailableIpAddressCount ?? 0) - range.size);
    return { SubnetCidrReservation: { ...created } };
  });

  on('cloudwatch', GetMetricDataCommand, 'GetMetricData', (input) => {
    const results: MetricDataResult[] = (input.MetricDataQueries ?? []).map((q: MetricDataQuery) => {
      const stat = q.MetricStat;
      const key = [stat?.Metric?.MetricName ?? '', ...(stat?.Metric?.Dimensions ?? []).map((d: Dimension) => d.Value ?? '')].join('/');
      const points = (history.get(key) ?? []).filter(
        (p) => (!input.StartTime || p.t >= input.StartTime) && (!input.EndTime || p.t < input.EndTime),
      );
      return { Id: q.Id, Label: stat?.Metric?.MetricName, Timestamps: points.map((p) => p.t), Values: points.map((p) => p.value), StatusCode: 'Complete' };
    });
    return { MetricDataResults: results, Messages: [] };
  });
  // Service Quotas: GetServiceQuota answers the applied value, or NoSuchResourceException when the
  // account has none (the API's answer then, see lib/aws/region-limits.ts); GetAWSDefaultServiceQuota the default.
  const quotaOf = (input: { ServiceCode?: string | undefined; QuotaCode?: string | undefined }) => account.quotas?.[`${input.ServiceCode ?? ''}/${input.QuotaCode ?? ''}`];
  on('servicequotas', GetServiceQuotaCommand, 'GetServiceQuota', (input) => {
    const q = quotaOf(input);
    if (q?.applied === undefined) throw serviceQuotasError('NoSuchResourceException', `The request failed because the specified service quota ${input.QuotaCode ?? ''} does not exist.`);
    return { Quota: { ServiceCode: input.ServiceCode, QuotaCode: input.QuotaCode, Value: q.applied, Adjustable: true } };
  });
  on('servicequotas', GetAWSDefaultServiceQuotaCommand, 'GetAWSDefaultServiceQuota', (input) => {
    const q = quotaOf(input);
    if (!q) throw serviceQuotasError('NoSuchResourceException', `The request failed because the specified service quota ${input.QuotaCode ?? ''} does not exist.`);
    return { Quota: { ServiceCode: input.ServiceCode, QuotaCode: input.QuotaCode, Value: q.awsDefault, Adjustable: true } };
  });
  on('sns', PublishCommand, 'Publish', (input) => {
    published.push(input);
    return { MessageId: `msg-${published.length}` };
  });

  return {
    operations,
    published,
    history,
    calls,
    putMetricData,
    faults,
    writes,
    changes,
    totalReadCalls: () =>
      Object.entries(calls)
        .filter(([op]) => !['PutMetricData', 'Publish', 'UpdateAddon', 'CreateTags', 'DeleteTags', 'CreateNodegroup', 'UpdateNodegroupConfig', 'CreateSubnetCidrReservation', 'DeleteNetworkInterface'].includes(op))
        .reduce((s, [, n]) => s + n, 0),
  };
}

/** Mocks the EC2, EKS, CloudWatch and SNS clients to answer from `account`. Call `restore()` after. */
export function emulateAccount(account: SyntheticAccount, options: EmulateOptions = {}): EmulatedAccount {
  const clients = { ec2: new EC2Client({}), eks: new EKSClient({}), cloudwatch: new CloudWatchClient({}), sns: new SNSClient({}) };
  const serviceQuotas = new ServiceQuotasClient({});
  const only = options.instancesOnly === true;
  const mocks = {
    ec2: mockClient(only ? clients.ec2 : EC2Client),
    eks: mockClient(only ? clients.eks : EKSClient),
    cloudwatch: mockClient(only ? clients.cloudwatch : CloudWatchClient),
    sns: mockClient(only ? clients.sns : SNSClient),
    servicequotas: mockClient(only ? serviceQuotas : ServiceQuotasClient),
  };
  const resetHistory = (): void => {
    for (const m of Object.values(mocks)) m.resetHistory();
  };
  const api = accountApi(account, {
    ...options,
    // sinon records every call with its answer; with copied answers that would keep every page
    // alive (the benchmark measures memory): forget the earlier calls, keep the counts.
    // (sinon refuses a reset while a stub runs: it happens right after this call.)
    ...(options.copyAnswers ? { onCall: () => queueMicrotask(resetHistory) } : {}),
  });
  for (const op of api.operations.values()) {
    (mocks[op.kind] as unknown as AwsStubLike).on(op.command).callsFake((input: Record<string, unknown>) => op.answer(input));
  }
  return {
    ...api,
    ...clients,
    ...(account.quotas ? { serviceQuotas } : {}),
    resetHistory,
    restore: () => {
      for (const m of Object.values(mocks)) m.restore();
    },
  };
}

/** The part of aws-sdk-client-mock's stub used here, for any of the four clients. */
interface AwsStubLike {
  on(command: CommandClass): { callsFake(fn: (input: Record<string, unknown>) => unknown): unknown };
}
