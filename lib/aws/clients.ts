/**
 * AWS clients, built once per container, and only here. The SDK reads the standard environment
 * itself: AWS_REGION, AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>), AWS_MAX_ATTEMPTS and
 * AWS_RETRY_MODE, so nothing here overrides them.
 *
 * What the SDK does not have by default is a timeout: every client here gets a connection and
 * a request timeout (lib/config.ts HttpTimeouts says which values and why), so that an endpoint
 * that accepts the connection and never answers fails the call instead of hanging the cycle.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { SNSClient } from '@aws-sdk/client-sns';
import { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts, type PaceLimits } from '../config';
import { ec2ReadPace, paceReads, type PaceControl } from './pacer';

/** The clients the pipeline uses. Tests pass their own (mocked) ones. */
export interface AwsClients {
  ec2: EC2Client;
  eks: EKSClient;
  cloudwatch: CloudWatchClient;
  sns: SNSClient;
  /** Service Quotas (the ENIs-per-Region quota); without it the live source makes no region-level reads. */
  serviceQuotas?: ServiceQuotasClient | undefined;
  /** The EC2 client's read pace (lib/aws/pacer.ts), when it has one: a fan-out item takes its share. */
  ec2Pace?: PaceControl | undefined;
}

/**
 * The `requestHandler` options of @smithy/node-http-handler's NodeHttpHandler (the SDK builds
 * the handler from them) for one request timeout:
 * - `connectionTimeout`: until the TCP connection is established;
 * - `requestTimeout` with `throwOnRequestTimeout`: the whole request and answer. Without the flag
 *   the handler only logs a warning when it passes (it long meant an idle-socket timeout);
 * - `socketTimeout`: no byte sent or received for that long (the same bound, for the idle case).
 * A call that times out fails with a TimeoutError, which the SDK retries as transient.
 */
export function requestHandlerOptions(connectionMs: number, requestMs: number) {
  return { connectionTimeout: connectionMs, requestTimeout: requestMs, throwOnRequestTimeout: true, socketTimeout: requestMs };
}

/**
 * Builds the clients from the standard SDK environment, optionally for another region, with these
 * timeouts; with `describePace`, the EC2 client's Describe* (and GetSubnetCidrReservations) requests
 * are paced per API (lib/aws/pacer.ts).
 */
export function createAwsClients(region?: string, timeouts: HttpTimeouts = DEFAULT_HTTP_TIMEOUTS, describePace?: PaceLimits): AwsClients {
  const config = region ? { region } : {};
  const handler = requestHandlerOptions(timeouts.connectionMs, timeouts.requestMs);
  // EC2 describes answer pages of up to 1,000 ENIs or instances: their own, longer timeout.
  const ec2 = new EC2Client({ ...config, requestHandler: requestHandlerOptions(timeouts.connectionMs, timeouts.ec2RequestMs) });
  const ec2Pace = describePace ? paceReads(ec2, ec2ReadPace(describePace)) : undefined;
  return {
    ec2,
    ...(ec2Pace ? { ec2Pace } : {}),
    eks: new EKSClient({ ...config, requestHandler: handler }),
    cloudwatch: new CloudWatchClient({ ...config, requestHandler: handler }),
    sns: new SNSClient({ ...config, requestHandler: handler }),
    serviceQuotas: new ServiceQuotasClient({ ...config, requestHandler: handler }),
  };
}

/** The ledger's DynamoDB client, from the standard SDK environment, with these timeouts. */
export function createDynamoDbClient(timeouts: HttpTimeouts = DEFAULT_HTTP_TIMEOUTS): DynamoDBClient {
  return new DynamoDBClient({ requestHandler: requestHandlerOptions(timeouts.connectionMs, timeouts.requestMs) });
}

/**
 * An SNS client for a topic of another region (the organisation's central topic): SNS answers
 * Publish for the topics of the region whose endpoint receives it, so the client is the topic's
 * region's ("Amazon SNS endpoints and quotas": one endpoint per region,
 * https://docs.aws.amazon.com/general/latest/gr/sns.html).
 */
export function createSnsClient(region: string, timeouts: HttpTimeouts = DEFAULT_HTTP_TIMEOUTS): SNSClient {
  return new SNSClient({ region, requestHandler: requestHandlerOptions(timeouts.connectionMs, timeouts.requestMs) });
}
