/** SNS adapter: publishes a notification in its per-protocol forms. */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { awsCallError } from '../errors';
import type { Notification } from '../output/notify/message';

/**
 * The per-protocol message document of MessageStructure 'json': `default` is required; people
 * (email, SMS) get the text, machines the JSON document (SNS developer guide, "Publishing
 * different messages to different protocols"; SNS API reference, Publish: MessageStructure).
 */
export function protocolMessages(n: Notification): string {
  const json = JSON.stringify(n.json);
  return JSON.stringify({
    default: n.text,
    email: n.text,
    'email-json': json,
    sms: n.subject,
    sqs: json,
    lambda: json,
    http: json,
    https: json,
    firehose: json,
  });
}

/** Publishes one notification; returns the SNS MessageId. */
export async function publishNotification(client: SNSClient, topicArn: string, n: Notification): Promise<string> {
  try {
    const out = await client.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: n.subject,
        MessageStructure: 'json',
        Message: protocolMessages(n),
        MessageAttributes: Object.fromEntries(
          Object.entries(n.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
        ),
      }),
    );
    return out.MessageId ?? '';
  } catch (err) {
    throw awsCallError('sns:Publish', `to ${topicArn} (${n.about})`, err);
  }
}
