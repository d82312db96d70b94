/**
 * The vpc-cni add-on adapter against aws-sdk-client-mock, answering with real DescribeAddon /
 * UpdateAddon / DescribeUpdate shapes (test/fixtures/eks/).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  DescribeAddonCommand,
  DescribeUpdateCommand,
  EKSClient,
  UpdateAddonCommand,
  type DescribeAddonCommandOutput,
  type DescribeUpdateCommandOutput,
  type UpdateAddonCommandOutput,
} from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { describeUpdate, readVpcCniAddon, updateVpcCniEnv } from '../../lib/aws/addon';
import { AddonConfigurationError, mergeConfigurationValues, parseConfigurationValues } from '../../lib/inventory/configuration-values';
import { AwsCallError } from '../../lib/errors';
import { eksError } from '../../tools/mock-aws';

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'eks', name), 'utf8')) as T;
const ADDON = fixture<DescribeAddonCommandOutput>('describe-addon-vpc-cni.json');
const ADDON_YAML = fixture<DescribeAddonCommandOutput>('describe-addon-vpc-cni-yaml.json');
const ADDON_BARE = fixture<DescribeAddonCommandOutput>('describe-addon-vpc-cni-no-config.json');
const UPDATE = fixture<UpdateAddonCommandOutput>('update-addon.json');
const UPDATE_OK = fixture<DescribeUpdateCommandOutput>('describe-update-successful.json');
const UPDATE_FAILED = fixture<DescribeUpdateCommandOutput>('describe-update-failed.json');

const eksMock = mockClient(EKSClient);
const eks = new EKSClient({});
beforeEach(() => eksMock.reset());
afterAll(() => eksMock.restore());

/** The document a fixture carries, parsed as the adapter does. */
const documentOf = (out: DescribeAddonCommandOutput): Record<string, unknown> =>
  parseConfigurationValues(out.addon?.configurationValues, 'test');

describe('mergeConfigurationValues', () => {
  it('changes only the env keys given and keeps every other key and section', () => {
    const current = documentOf(ADDON);
    const merged = mergeConfigurationValues(current, { WARM_IP_TARGET: '2', MINIMUM_IP_TARGET: '12' });
    expect(merged).toEqual({
      env: {
        WARM_IP_TARGET: '2',
        MINIMUM_IP_TARGET: '12',
        AWS_VPC_K8S_CNI_LOGLEVEL: 'INFO',
        ENABLE_POD_ENI: 'false',
        POD_SECURITY_GROUP_ENFORCING_MODE: 'standard',
      },
      init: { env: { DISABLE_TCP_EARLY_DEMUX: 'true' } },
      nodeAgent: { enablePolicyEventLogs: 'true', healthProbeBindAddr: '8163' },
      resources: { requests: { cpu: '25m', memory: '64Mi' } },
      tolerations: [{ operator: 'Exists' }],
      enableNetworkPolicy: 'true',
    });
  });

  it('does not modify the document it is given', () => {
    const current = documentOf(ADDON);
    const copy = structuredClone(current);
    mergeConfigurationValues(current, { WARM_IP_TARGET: '2' });
    expect(current).toEqual(copy);
  });

  it('reads a YAML document, sets keys as strings and leaves an untouched number as it was', () => {
    const merged = mergeConfigurationValues(documentOf(ADDON_YAML), { WARM_PREFIX_TARGET: '2' });
    expect(merged).toEqual({
      env: { ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '2', WARM_ENI_TARGET: 1 },
      resources: { requests: { cpu: '25m' } },
    });
    // A number given for a key that is set becomes the string the add-on's schema takes.
    const asNumber = { WARM_ENI_TARGET: 2 } as unknown as Record<string, string>;
    expect((mergeConfigurationValues(documentOf(ADDON_YAML), asNumber)['env'] as Record<string, unknown>)['WARM_ENI_TARGET']).toBe('2');
  });

  it('starts an env section in a document without configurationValues', () => {
    expect(documentOf(ADDON_BARE)).toEqual({});
    expect(mergeConfigurationValues({}, { ENABLE_PREFIX_DELEGATION: 'true' })).toEqual({ env: { ENABLE_PREFIX_DELEGATION: 'true' } });
  });

  it('refuses a document whose env is not an object', () => {
    expect(() => mergeConfigurationValues({ env: ['WARM_IP_TARGET=2'] }, { WARM_IP_TARGET: '2' })).toThrow(AddonConfigurationError);
  });
});

describe('parseConfigurationValues', () => {
  it.each([
    ['not YAML', '{env: [', /neither JSON nor YAML/],
    ['a list', '- a\n- b', /not an object/],
    ['a scalar', '"text"', /not an object/],
  ])('names the cluster when the document is %s', (_what, raw, message) => {
    expect(() => parseConfigurationValues(raw, 'prod')).toThrow(message);
    expect(() => parseConfigurationValues(raw, 'prod')).toThrow(/cluster prod/);
  });
});

describe('readVpcCniAddon', () => {
  it('returns the add-on and its parsed document', async () => {
    eksMock.on(DescribeAddonCommand, { clusterName: 'payments-prod', addonName: 'vpc-cni' }).resolves(ADDON);
    const read = await readVpcCniAddon(eks, 'payments-prod');
    expect(read?.addon.addonVersion).toBe('v1.19.2-eksbuild.1');
    expect((read?.configurationValues['env'] as Record<string, unknown>)['WARM_IP_TARGET']).toBe('5');
  });

  it('returns undefined for a self-managed aws-node (ResourceNotFoundException)', async () => {
    eksMock.on(DescribeAddonCommand).rejects(eksError('ResourceNotFoundException', 'No addon: vpc-cni found in cluster: legacy'));
    await expect(readVpcCniAddon(eks, 'legacy')).resolves.toBeUndefined();
  });

  it('wraps AccessDenied as AwsCallError naming the operation and the cluster', async () => {
    eksMock.on(DescribeAddonCommand).rejects(eksError('AccessDeniedException', 'not authorized to perform: eks:DescribeAddon'));
    const err = await readVpcCniAddon(eks, 'prod').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCallError);
    expect((err as AwsCallError).code).toBe('AccessDeniedException');
    expect((err as Error).message).toMatch(/^eks:DescribeAddon vpc-cni for cluster prod: AccessDeniedException: not authorized/);
  });
});

describe('updateVpcCniEnv', () => {
  it('sends the whole merged document as JSON, PRESERVE, the same version and the service account role', async () => {
    eksMock.on(DescribeAddonCommand).resolves(ADDON);
    eksMock.on(UpdateAddonCommand).resolves(UPDATE);
    const started = await updateVpcCniEnv(eks, 'payments-prod', { WARM_IP_TARGET: '2' });
    expect(started.updateId).toBe('0d3a6f9e-5b9c-3c54-8c1e-8b0f2a1e7c11');
    expect(started.status).toBe('InProgress');
    const calls = eksMock.commandCalls(UpdateAddonCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input).toMatchObject({
      clusterName: 'payments-prod',
      addonName: 'vpc-cni',
      addonVersion: 'v1.19.2-eksbuild.1',
      serviceAccountRoleArn: 'arn:aws:iam::111122223333:role/payments-prod-vpc-cni',
      resolveConflicts: 'PRESERVE',
    });
    const sent = JSON.parse(input?.configurationValues ?? '{}') as Record<string, unknown>;
    expect(sent).toEqual(mergeConfigurationValues(documentOf(ADDON), { WARM_IP_TARGET: '2' }));
    // What EKS echoes back in the update's params is the same document.
    const echoed = UPDATE.update?.params?.find((p) => p.type === 'ConfigurationValues')?.value ?? '';
    expect(sent).toEqual(JSON.parse(echoed));
  });

  it('uses the add-on it is given instead of reading it again', async () => {
    eksMock.on(UpdateAddonCommand).resolves(UPDATE);
    const current = { addon: ADDON_BARE.addon ?? {}, configurationValues: {} };
    await updateVpcCniEnv(eks, 'staging', { ENABLE_PREFIX_DELEGATION: 'true' }, { current });
    expect(eksMock.commandCalls(DescribeAddonCommand)).toHaveLength(0);
    expect(eksMock.commandCalls(UpdateAddonCommand)[0]?.args[0].input.configurationValues).toBe('{"env":{"ENABLE_PREFIX_DELEGATION":"true"}}');
  });

  it.each([
    ['ResourceInUseException', 'Addon vpc-cni is currently being updated', /another update of the add-on is in flight/],
    [
      'InvalidParameterException',
      'ConfigurationValue provided in request is not supported: Json schema validation failed with error: [$.env.WARM_IP_TARGET: integer found, string expected]',
      /Json schema validation failed with error: \[\$\.env\.WARM_IP_TARGET: integer found, string expected\]/,
    ],
  ])('wraps %s naming eks:UpdateAddon and the cluster, with EKS’s message', async (code, message, expected) => {
    eksMock.on(DescribeAddonCommand).resolves(ADDON);
    eksMock.on(UpdateAddonCommand).rejects(eksError(code, message));
    const err = await updateVpcCniEnv(eks, 'payments-prod', { WARM_IP_TARGET: '2' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCallError);
    expect((err as AwsCallError).code).toBe(code);
    expect((err as Error).message).toMatch(new RegExp(`^eks:UpdateAddon vpc-cni for cluster payments-prod: ${code}`));
    expect((err as Error).message).toMatch(expected);
  });

  it('fails without a managed add-on', async () => {
    eksMock.on(DescribeAddonCommand).rejects(eksError('ResourceNotFoundException', 'No addon: vpc-cni found in cluster: legacy'));
    await expect(updateVpcCniEnv(eks, 'legacy', { WARM_IP_TARGET: '2' })).rejects.toThrow(/no managed vpc-cni add-on/);
    expect(eksMock.commandCalls(UpdateAddonCommand)).toHaveLength(0);
  });
});

describe('describeUpdate', () => {
  it('maps a Successful update', async () => {
    eksMock.on(DescribeUpdateCommand).resolves(UPDATE_OK);
    await expect(describeUpdate(eks, 'payments-prod', '0d3a6f9e-5b9c-3c54-8c1e-8b0f2a1e7c11')).resolves.toEqual({
      updateId: '0d3a6f9e-5b9c-3c54-8c1e-8b0f2a1e7c11',
      status: 'Successful',
      errors: [],
    });
    expect(eksMock.commandCalls(DescribeUpdateCommand)[0]?.args[0].input).toEqual({
      name: 'payments-prod',
      updateId: '0d3a6f9e-5b9c-3c54-8c1e-8b0f2a1e7c11',
      addonName: 'vpc-cni',
    });
  });

  it('keeps the errors of a Failed update as EKS words them', async () => {
    eksMock.on(DescribeUpdateCommand).resolves(UPDATE_FAILED);
    const u = await describeUpdate(eks, 'payments-prod', '0d3a6f9e-5b9c-3c54-8c1e-8b0f2a1e7c11');
    expect(u.status).toBe('Failed');
    expect(u.errors.map((e) => e.code)).toEqual(['ConfigurationConflict', 'AdmissionRequestDenied']);
    expect(u.errors[0]?.message).toMatch(/^Conflicts found when trying to apply/);
    expect(u.errors[1]?.resourceIds).toEqual(['aws-node']);
  });

  it('wraps an unknown update id naming the update and the cluster', async () => {
    eksMock.on(DescribeUpdateCommand).rejects(eksError('ResourceNotFoundException', 'No update found for ID: nope'));
    await expect(describeUpdate(eks, 'prod', 'nope')).rejects.toThrow(
      /^eks:DescribeUpdate update nope of vpc-cni for cluster prod: ResourceNotFoundException: No update found/,
    );
  });
});
