/**
 * The organisation's central topic (CENTRAL_TOPIC_ARN): each notification the stack sends, finding
 * or action outcome, is also sent there, with the account and region as message attributes for
 * the central subscribers' filter policies. Best effort: a failure is a named problem of the
 * cycle and never stops the local notification or the cycle. No AWS import: `publish` is passed in.
 */
import { messageOf } from '../../errors';
import type { Notification } from './message';

/** Where a notification comes from: the member account and region. */
export interface NotificationOrigin {
  account: string;
  region: string;
}

/** One cycle's sending to the central topic. */
export interface CentralFeed {
  /** Sends one notification; never throws (a failure goes to `problems`). */
  send(notification: Notification): Promise<void>;
  /** Notifications sent. */
  readonly sent: number;
  /** What could not be sent, each named `central topic: ...`. */
  readonly problems: readonly string[];
}

/**
 * The attributes of the central copy: the local ones (cluster, kind, severity, transition) and
 * the account and region. SNS takes at most 10 attributes per message
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html): this makes 6.
 */
export function centralNotification(n: Notification, origin: NotificationOrigin): Notification {
  return { ...n, attributes: { ...n.attributes, account: origin.account, region: origin.region } };
}

/** The account of an ARN (its fifth field), e.g. the stack's own topic's: the member account. */
export function accountOfArn(arn: string): string {
  return arn.split(':')[4] ?? '';
}

/** A feed over `publish` (lib/aws/sns.ts publishNotification to the central topic). */
export function createCentralFeed(publish: (n: Notification) => Promise<string>, origin: NotificationOrigin): CentralFeed {
  const problems: string[] = [];
  let sent = 0;
  return {
    async send(notification) {
      try {
        await publish(centralNotification(notification, origin));
        sent += 1;
      } catch (err) {
        problems.push(`central topic: ${notification.about} not sent (the local notification was): ${messageOf(err)}`);
      }
    },
    get sent() {
      return sent;
    },
    problems,
  };
}
