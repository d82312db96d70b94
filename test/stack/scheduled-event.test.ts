// events/scheduled.json is what EventBridge delivers to the sampler on its schedule; handler
// tests and `serverless invoke local -f sample -p events/scheduled.json` use it.
// https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-scheduled.html (the example event)
import type { ScheduledEvent } from 'aws-lambda';
import scheduled from '../../events/scheduled.json';

describe('events/scheduled.json', () => {
  // JSON imports type "detail-type" as string, not the literal the type wants; the test checks it.
  const { 'detail-type': detailType, ...rest } = scheduled;
  const event: Omit<ScheduledEvent, 'detail-type'> = rest;

  it('has the shape of an EventBridge scheduled event', () => {
    expect(Object.keys(scheduled).sort()).toEqual(
      ['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail'].sort(),
    );
    expect(detailType).toBe('Scheduled Event');
    expect(event).toMatchObject({ version: '0', source: 'aws.events', detail: {} });
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('names the stack’s schedule rule in the event’s own account and region', () => {
    expect(event.resources).toHaveLength(1);
    expect(event.resources[0]).toBe(
      `arn:aws:events:${event.region}:${event.account}:rule/eks-ip-responder-test-SampleEventsRuleSchedule1-1Q2W3E4R5T6Y7`,
    );
  });
});
