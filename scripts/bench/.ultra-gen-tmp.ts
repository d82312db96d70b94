import { generateAccount } from '../../tools/synthetic-account';
const n = Number(process.argv[2]); const c = Number(process.argv[3]);
const t0 = Date.now();
const a = generateAccount({ nodes: n, clusters: c, subnetsPerCluster: Math.round(n/c/50*0+ (99/3) * (n/c)/(5000/3)), enisPerNode: 4, instanceTypes: ['m5.xlarge', 'm5.2xlarge', 'c6g.2xlarge', 'r6i.2xlarge'], seed: 42 });
global.gc?.();
console.log(n, c, 'ms', Date.now()-t0, 'enis', a.networkInterfaces.length, 'subnets', a.subnets.length, 'inst', a.instances.length, 'heapMB', Math.round(process.memoryUsage().heapUsed/2**20), 'addrs', a.networkInterfaces.reduce((s,e)=>s+(e.PrivateIpAddresses?.length??0),0));
