import { accountOfArn, centralNotification, createCentralFeed } from '../../../lib/output/notify/central';
import type { Notification } from '../../../lib/output/notify/message';

const NOTIFICATION: Notification = {
  subject: '[CRITICAL] payments-prod: subnet close to full',
  text: 'text',
  json: {} as Notification['json'],
  attributes: { cluster: 'payments-prod', kind: 'subnet-exhaustion', severity: 'critical', transition: 'appeared' },
  about: 'payments-prod/subnet-exhaustion/subnet-1',
};
const ORIGIN = { account: '111122223333', region: 'eu-west-1' };

describe('central feed', () => {
  it('adds the account and region to the local attributes, and changes nothing else', () => {
    const central = centralNotification(NOTIFICATION, ORIGIN);
    expect(central.attributes).toEqual({ ...NOTIFICATION.attributes, account: '111122223333', region: 'eu-west-1' });
    expect({ ...central, attributes: NOTIFICATION.attributes }).toEqual(NOTIFICATION);
    // SNS takes at most 10 message attributes.
    expect(Object.keys(central.attributes).length).toBeLessThanOrEqual(10);
  });

  it('reads the account of an ARN', () => {
    expect(accountOfArn('arn:aws:sns:eu-west-1:111122223333:alerts')).toBe('111122223333');
    expect(accountOfArn('not-an-arn')).toBe('');
  });

  it('sends through publish, and turns a failure into a named problem instead of throwing', async () => {
    const sent: Notification[] = [];
    let fail = false;
    const feed = createCentralFeed(async (n) => {
      if (fail) throw new Error('sns:Publish to arn:aws:sns:us-east-1:999988887777:central: AuthorizationErrorException: denied');
      sent.push(n);
      return 'id';
    }, ORIGIN);
    await feed.send(NOTIFICATION);
    fail = true;
    await expect(feed.send(NOTIFICATION)).resolves.toBeUndefined();
    expect(feed.sent).toBe(1);
    expect(sent[0]?.attributes['account']).toBe('111122223333');
    expect(feed.problems).toEqual([
      'central topic: payments-prod/subnet-exhaustion/subnet-1 not sent (the local notification was): sns:Publish to arn:aws:sns:us-east-1:999988887777:central: AuthorizationErrorException: denied',
    ]);
  });
});
