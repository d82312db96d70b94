/** The per-request limits of the AWS read APIs the adapters page and batch by (each cited). */

/**
 * Values per EC2 filter in one request. EC2 rejects larger filter value lists
 * (FilterLimitExceeded, "The maximum number of filter values specified on a single call is 200").
 */
export const EC2_FILTER_VALUES_MAX = 200;
/** DescribeSubnets / DescribeNetworkInterfaces / DescribeInstances MaxResults upper bound (EC2 API reference). */
export const EC2_PAGE_SIZE_MAX = 1000;
/** DescribeInstanceTypes: at most 100 instance types per request (EC2 API reference, InstanceTypes). */
export const INSTANCE_TYPES_PER_CALL_MAX = 100;
/** EKS ListClusters / ListNodegroups maxResults upper bound (EKS API reference). */
export const EKS_PAGE_SIZE_MAX = 100;
/** DescribeRouteTables MaxResults upper bound: 5 to 100 (EC2 API reference, DescribeRouteTables). */
export const ROUTE_TABLES_PAGE_SIZE_MAX = 100;
/** DescribeVpcEndpoints MaxResults: above 1,000 only 1,000 items are returned (EC2 API reference, DescribeVpcEndpoints). */
export const VPC_ENDPOINTS_PAGE_SIZE_MAX = 1000;
