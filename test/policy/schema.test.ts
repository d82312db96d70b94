import { CLUSTER_NAME_PATTERN, INSTANCE_TYPE_PATTERN, SUBNET_ID_PATTERN } from '../../lib/policy/schema';

describe('INSTANCE_TYPE_PATTERN', () => {
  it.each([
    'm5', 'm6i', 'c7g', 'r6id', 't4g', 'a1', 'z1d', 'x2iezn', 'im4gn', 'hpc7g', 'trn1n', 'mac2', 'mac2-m2pro',
    'u-6tb1', 'u7i-12tb', 'm6i.xlarge', 'm5.large', 'r6id.2xlarge', 'c7g.16xlarge', 'u-6tb1.metal',
    'u-6tb1.112xlarge', 'c6i.metal-32xl', 't3.nano', 't3.micro', 't3.small', 't3.medium', 'mac2-m2pro.metal',
  ])('accepts %s', (value) => {
    expect(value).toMatch(INSTANCE_TYPE_PATTERN);
  });

  it.each([
    'M6i', 'm6i.', 'm6i.huge', 'm6i.XLARGE', 'm6i.0xlarge', 'large', 'm', 'm6i xlarge', 'm6i.xlarge.extra',
    'm6i.*', '-m6i', 'm6i-', '6i', 'm5.metal-', '',
  ])('refuses %j', (value) => {
    expect(value).not.toMatch(INSTANCE_TYPE_PATTERN);
  });
});

describe('SUBNET_ID_PATTERN', () => {
  it.each(['subnet-12345678', 'subnet-0c55317ef17156075'])('accepts %s', (value) => {
    expect(value).toMatch(SUBNET_ID_PATTERN);
  });

  it.each(['subnet-1234567', 'subnet-0c55317ef1715607', 'subnet-0c55317ef171560755', 'subnet-0C55317EF17156075', 'sg-12345678', 'subnet-'])(
    'refuses %j',
    (value) => {
      expect(value).not.toMatch(SUBNET_ID_PATTERN);
    },
  );
});

describe('CLUSTER_NAME_PATTERN', () => {
  it.each(['prod', 'payments-prod', 'batch_dev', '9lives', 'A'.repeat(100)])('accepts %s', (value) => {
    expect(value).toMatch(CLUSTER_NAME_PATTERN);
  });

  it.each(['-prod', '_prod', 'prod.eu', 'prod eu', '', 'A'.repeat(101)])('refuses %j', (value) => {
    expect(value).not.toMatch(CLUSTER_NAME_PATTERN);
  });
});
