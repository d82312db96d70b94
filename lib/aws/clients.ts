/**
 * AWS clients, built once per container. The SDK reads the standard environment itself:
 * AWS_REGION, AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>), AWS_MAX_ATTEMPTS and
 * AWS_RETRY_MODE, so nothing here overrides them.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SNSClient } from '@aws-sdk/client-sns';

/** The clients the pipeline uses. Tests pass their own (mocked) ones. */
export interface AwsClients {
  ec2: EC2Client;
  eks: EKSClient;
  cloudwatch: CloudWatchClient;
  sns: SNSClient;
}

/** Builds the clients from the standard SDK environment, optionally for another region. */
export function createAwsClients(region?: string): AwsClients {
  const config = region ? { region } : {};
  return {
    ec2: new EC2Client(config),
    eks: new EKSClient(config),
    cloudwatch: new CloudWatchClient(config),
    sns: new SNSClient(config),
  };
}
