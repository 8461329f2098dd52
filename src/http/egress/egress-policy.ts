// Which network addresses Warden may open a connection to. Everything Warden sends out (the
// customer's upstream, status callbacks, webhook relays, the sink's simulated callbacks) is aimed
// at a URL someone else wrote, so without this an app could make Warden call its own network:
// loopback (Warden's own admin API), the cloud metadata service (169.254.169.254), private and
// unique-local ranges. Those special-purpose ranges are denied unless the operator allows a range
// (WARDEN_EGRESS_ALLOW), and Warden's own listening socket is denied even then: an allowed
// 127.0.0.0/8 opens a receiver on another port, never Warden itself.
//
// Addresses are checked after resolution, on the exact address the socket then connects to
// (egress-client.ts), so a name that resolves to a denied address is refused like the literal.

import { BlockList, isIPv4 } from 'node:net';
import { parseCidr, type Cidr } from '../../config.js';
import { networkInterfaces } from 'node:os';

/** Special-purpose ranges (IANA IPv4/IPv6 special-purpose registries) never reached by default. */
const DENIED_V4 = [
  '0.0.0.0/8', // "this network"; 0.0.0.0 reaches the local host on Linux
  '10.0.0.0/8', // private
  '100.64.0.0/10', // carrier-grade NAT (shared address space)
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local, cloud metadata services
  '172.16.0.0/12', // private
  '192.0.0.0/24', // IETF protocol assignments
  '192.0.2.0/24', // documentation (TEST-NET-1)
  '192.88.99.0/24', // 6to4 relay anycast
  '192.168.0.0/16', // private
  '198.18.0.0/15', // benchmarking
  '198.51.100.0/24', // documentation (TEST-NET-2)
  '203.0.113.0/24', // documentation (TEST-NET-3)
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, and 255.255.255.255 broadcast
];
const DENIED_V6 = [
  '::/96', // unspecified, loopback (::1) and the deprecated IPv4-compatible form
  '64:ff9b:1::/48', // local-use IPv4/IPv6 translation
  '100::/64', // discard-only
  '2001::/23', // IETF protocol assignments (Teredo, ORCHID, ...)
  '2001:db8::/32', // documentation
  'fc00::/7', // unique-local
  'fe80::/10', // link-local
  'fec0::/10', // site-local (deprecated)
  'ff00::/8', // multicast
];
// IPv4-mapped addresses (::ffff:a.b.c.d) are matched against the IPv4 rules by BlockList itself.
// NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address inside: checked as that address.

export { parseCidr, type Cidr } from '../../config.js';

function blockList(ranges: Iterable<Cidr | string>): BlockList {
  const list = new BlockList();
  for (const r of ranges) {
    const c = typeof r === 'string' ? parseCidr(r) : r;
    list.addSubnet(c.address, c.prefix, c.family);
  }
  return list;
}

/** The eight 16-bit groups of an IPv6 address (which isIP accepted), or null. */
function hextets(ip: string): number[] | null {
  let text = ip;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = dotted[1].split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, -dotted[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...new Array<string>(fill).fill('0'), ...tail].map((h) => parseInt(h, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;

/** The IPv4 address an IPv6 translation address stands for (NAT64 64:ff9b::/96, 6to4 2002::/16). */
export function embeddedIPv4(ip: string): string | null {
  const g = hextets(ip);
  if (g === null) return null;
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0) return v4(g[6]!, g[7]!);
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!);
  return null;
}

/** Why an address is refused (operator logs only: never shown to the app). */
export type DenyReason = 'special-range' | 'self';

export type Verdict = { allowed: true } | { allowed: false; reason: DenyReason };

/** Where this process listens: `address` as the server reports it (a wildcard means every local address). */
export interface ListenAddress {
  address: string;
  port: number;
}

export interface EgressPolicyOptions {
  /** CIDR ranges (or single addresses) the operator allows despite the special-purpose ranges. */
  allow?: readonly string[];
  /** This process's own listening socket (read when checking, so it may be set after listen). */
  self?: () => ListenAddress | null;
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

export class EgressPolicy {
  private static readonly denied = blockList([...DENIED_V4, ...DENIED_V6]);
  private readonly allowed: BlockList;
  private readonly self: () => ListenAddress | null;
  private localCache: { at: number; list: BlockList } | null = null;
  private selfCache: { address: string; list: BlockList } | null = null;
  /** The allow list as configured (for start-up logs). */
  readonly allow: readonly string[];

  constructor(opts: EgressPolicyOptions = {}) {
    this.allow = opts.allow ?? [];
    this.allowed = blockList(this.allow);
    this.self = opts.self ?? (() => null);
  }

  /** May Warden connect to `ip` (a resolved address or a literal) on `port`? */
  check(ip: string, port: number): Verdict {
    const family = isIPv4(ip) ? 'ipv4' : 'ipv6';
    if (this.isSelf(ip, family, port)) return { allowed: false, reason: 'self' };
    if (this.allowed.check(ip, family)) return { allowed: true };
    if (EgressPolicy.denied.check(ip, family)) return { allowed: false, reason: 'special-range' };
    const inner = family === 'ipv6' ? embeddedIPv4(ip) : null;
    if (inner !== null && !this.allowed.check(inner, 'ipv4') && EgressPolicy.denied.check(inner, 'ipv4'))
      return { allowed: false, reason: 'special-range' };
    return { allowed: true };
  }

  /** Is `ip`:`port` this process's own listening socket? */
  isSelf(ip: string, family: 'ipv4' | 'ipv6', port: number): boolean {
    const self = this.self();
    if (self === null || self.port !== port) return false;
    if (!WILDCARDS.has(self.address)) {
      // A socket on 127.0.0.1 is also reached as ::ffff:127.0.0.1; BlockList matches both forms.
      if (this.selfCache?.address !== self.address) {
        const list = new BlockList();
        list.addAddress(self.address, isIPv4(self.address) ? 'ipv4' : 'ipv6');
        this.selfCache = { address: self.address, list };
      }
      return this.selfCache.list.check(ip, family);
    }
    return this.localAddresses().check(ip, family);
  }

  /** Every address of this host (a wildcard listener answers on all of them), refreshed every few seconds. */
  private localAddresses(): BlockList {
    const now = Date.now();
    if (this.localCache !== null && now - this.localCache.at < 5_000) return this.localCache.list;
    const list = blockList(['0.0.0.0/8', '127.0.0.0/8', '::/128', '::1/128']);
    for (const infos of Object.values(networkInterfaces())) {
      for (const i of infos ?? []) list.addAddress(i.address.replace(/%.*$/, ''), i.family === 'IPv4' ? 'ipv4' : 'ipv6');
    }
    this.localCache = { at: now, list };
    return list;
  }
}
