/**
 * The subnet provider: every EC2 DescribeSubnets of the responder goes through it (the collector's
 * reads by id and by CNI-discovery tag, the planner's spare-subnet read, the cni-subnets executor's
 * read before it tags). It caches nothing, on purpose: AvailableIpAddressCount is the figure the
 * responder measures, and the executor's read must see the subnet as it is right before the write.
 */
import { paginateDescribeSubnets, type EC2Client, type Filter, type Subnet } from '@aws-sdk/client-ec2';
import { chunk } from './chunk';
import { EC2_FILTER_VALUES_MAX, EC2_PAGE_SIZE_MAX } from './limits';
import { callOptions, hasNextPage, hookedRead, type ReadHooks } from './read-hooks';

const OPERATION = 'ec2:DescribeSubnets';

/** Subnets as EC2 describes them. */
export interface SubnetProvider {
  /** The subnets of these ids that exist (an unknown id is left out, not an error), every page. */
  byId(subnetIds: readonly string[], hooks?: ReadHooks): Promise<Subnet[]>;
  /** The subnets of a VPC that carry a tag key, whatever its value, every page. */
  byTagKey(vpcId: string, tagKey: string, hooks?: ReadHooks): Promise<Subnet[]>;
}

/** {@link SubnetProvider} over EC2, at the largest page size and filter the API allows. */
export class Ec2SubnetProvider implements SubnetProvider {
  constructor(private readonly ec2: EC2Client) {}

  /**
   * EC2 DescribeSubnets of these subnet ids, every page. Filtered on `subnet-id` rather than passing
   * `SubnetIds`: an unknown id in `SubnetIds` fails the whole request
   * (InvalidSubnetID.NotFound), a filter leaves it out, so the caller can name the missing ones.
   */
  async byId(subnetIds: readonly string[], hooks: ReadHooks = {}): Promise<Subnet[]> {
    const ids = [...new Set(subnetIds)];
    if (ids.length === 0) return [];
    const batches = chunk(ids, EC2_FILTER_VALUES_MAX);
    const about = `for ${ids.join(', ')}`;
    return hookedRead(OPERATION, about, hooks, async () => {
      const out: Subnet[] = [];
      for (const [i, batch] of batches.entries()) {
        const last = i === batches.length - 1;
        await this.pages([{ Name: 'subnet-id', Values: batch }], about, hooks, out, last);
      }
      return out;
    });
  }

  async byTagKey(vpcId: string, tagKey: string, hooks: ReadHooks = {}): Promise<Subnet[]> {
    const about = `tagged ${tagKey} in ${vpcId}`;
    const filters: Filter[] = [
      { Name: 'vpc-id', Values: [vpcId] },
      { Name: 'tag-key', Values: [tagKey] },
    ];
    return hookedRead(OPERATION, about, hooks, () => this.pages(filters, about, hooks, [], true));
  }

  /** Every page of one DescribeSubnets into `out`; `last`: no other request of the read follows it. */
  private async pages(filters: Filter[], about: string, hooks: ReadHooks, out: Subnet[], last: boolean): Promise<Subnet[]> {
    for await (const page of paginateDescribeSubnets({ client: this.ec2, pageSize: EC2_PAGE_SIZE_MAX }, { Filters: filters }, ...callOptions(hooks))) {
      const got = page.Subnets ?? [];
      out.push(...got);
      hooks.onPage?.({ items: got.length, more: hasNextPage(page) || !last, about });
    }
    return out;
  }
}
