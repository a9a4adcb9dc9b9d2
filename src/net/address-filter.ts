import { lookup as dnsLookup, promises as dns, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';

/**
 * Why Herold does not connect to an address: URLs given by API clients and WebSub subscribers must not
 * make the server reach its own host, the local network or a cloud metadata service.
 */
export class AddressRefusedError extends Error {
  override readonly name = 'AddressRefusedError';
  readonly code = 'ERR_ADDRESS_REFUSED';

  constructor(readonly host: string, readonly address: string, readonly range: string) {
    super(`${host === address ? address : `${host} (${address})`} is ${RANGE_NAMES[range] ?? `a ${range} address`}: `
      + 'Herold fetches such URLs only from hosts listed in HEROLD_ALLOW_PRIVATE_URLS');
  }
}

const RANGE_NAMES: Readonly<Record<string, string>> = {
  loopback: 'a loopback address',
  private: 'a private network address',
  linkLocal: 'a link-local address',
  uniqueLocal: 'a unique-local address',
  multicast: 'a multicast address',
  unspecified: 'an unspecified address',
  broadcast: 'the broadcast address',
  carrierGradeNat: 'a carrier-grade NAT address',
  reserved: 'a reserved address',
  ipv4Compatible: 'an IPv4-compatible IPv6 address',
};

/** IPv4-compatible IPv6 addresses (::a.b.c.d, deprecated by RFC 4291), which ipaddr.js counts as unicast. */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/**
 * The range of an address that is not public (loopback, private, link-local, unique-local, multicast,
 * unspecified, carrier-grade NAT, reserved, translation and tunnel prefixes…), or null for a public
 * unicast address. IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
 */
export function nonPublicRange(address: string): string | null {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return 'invalid';
  }
  const range = parsed.range();
  if (range !== 'unicast') return range;
  return parsed.kind() === 'ipv6' && parsed.match(IPV4_COMPATIBLE) ? 'ipv4Compatible' : null;
}

/** The allow list of HEROLD_ALLOW_PRIVATE_URLS (as normalized by loadConfig) and what it lets through. */
interface AddressPolicy {
  /** The refusal for connecting to `address` on behalf of `host`, or null when allowed. */
  refusal(host: string, address: string): AddressRefusedError | null;
  /** Whether `host` (a name or a literal address) is allowed by name, so that its addresses are not checked. */
  hostAllowed(host: string): boolean;
}

function createAddressPolicy(allowed: readonly string[]): AddressPolicy {
  const names = new Set(allowed.filter((entry) => !ipaddr.isValidCIDR(entry)));
  const ranges = allowed.filter((entry) => ipaddr.isValidCIDR(entry)).map((entry) => ipaddr.parseCIDR(entry));
  const inAllowedRange = (address: ipaddr.IPv4 | ipaddr.IPv6) => ranges.some((range) => range[0].kind() === address.kind() && address.match(range));
  const hostAllowed = (host: string) => names.has(host.toLowerCase().replace(/\.$/, ''));
  return {
    hostAllowed,
    refusal(host, address) {
      if (hostAllowed(host)) return null;
      const range = nonPublicRange(address);
      if (range === null || inAllowedRange(ipaddr.process(address))) return null;
      return new AddressRefusedError(host, address, range);
    },
  };
}

/** Whether an error, or one of its causes (undici wraps connect errors in "fetch failed"), is an AddressRefusedError. */
export function addressRefusal(error: unknown): AddressRefusedError | null {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current instanceof AddressRefusedError) return current;
  }
  return null;
}

/** Names that always mean this host (RFC 6761 6.3), whatever a resolver says. */
function isLocalhostName(host: string): boolean {
  return /(^|\.)localhost\.?$/i.test(host);
}

/** A URL host without IPv6 brackets. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** fetch through the filter, and the checks it makes. */
export interface AddressFilter {
  /** Global fetch's signature; every connection it opens (redirects too) goes to permitted addresses only. */
  readonly fetch: typeof globalThis.fetch;
  /** The refusal for a URL whose host is a literal address or a localhost name, decided without DNS; null otherwise. */
  refusalWithoutLookup(url: string): AddressRefusedError | null;
  /**
   * The refusal for a URL, resolving its host: when none of its addresses is permitted. A host that does not
   * resolve is no refusal (the request itself will fail and say why).
   */
  refusal(url: string): Promise<AddressRefusedError | null>;
}

function createAddressFilter(allowed: readonly string[]): AddressFilter {
  const policy = createAddressPolicy(allowed);
  /** The resolver net.connect uses: only permitted addresses are returned, so a name cannot rebind to another at connect time. */
  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      const refusals = addresses.map((entry) => policy.refusal(hostname, entry.address));
      const permitted = addresses.filter((_entry, index) => refusals[index] === null);
      const first = permitted[0];
      if (!first) callback(refusals[0] ?? new Error(`getaddrinfo ENOTFOUND ${hostname}`), '', 0);
      else if (options.all) callback(null, permitted);
      else callback(null, first.address, first.family);
    });
  };
  const connect = buildConnector({ lookup });
  const agent = new Agent({
    // net.connect skips `lookup` for a literal address: that is checked here.
    connect(options, callback) {
      const host = options.hostname;
      const refused = isIP(host) ? policy.refusal(host, host) : null;
      if (refused) callback(refused, null);
      else connect(options, callback);
    },
  });
  const refusalWithoutLookup = (url: string): AddressRefusedError | null => {
    const host = bareHost(new URL(url));
    if (isIP(host)) return policy.refusal(host, host);
    return isLocalhostName(host) ? policy.refusal(host, '127.0.0.1') : null;
  };
  return {
    // undici's own fetch with its Agent (Node's bundled fetch takes no dispatcher of another undici copy); the same API at run time.
    fetch: ((input: Parameters<typeof globalThis.fetch>[0], init?: RequestInit) =>
      undiciFetch(input as Parameters<typeof undiciFetch>[0], { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent })) as unknown as typeof globalThis.fetch,
    refusalWithoutLookup,
    async refusal(url) {
      const early = refusalWithoutLookup(url);
      const host = bareHost(new URL(url));
      if (early || isIP(host) || isLocalhostName(host) || policy.hostAllowed(host)) return early;
      let addresses: LookupAddress[];
      try {
        addresses = await dns.lookup(host, { all: true });
      } catch {
        return null;
      }
      const refusals = addresses.map((entry) => policy.refusal(host, entry.address));
      return refusals.every((refused) => refused !== null) ? refusals[0] ?? null : null;
    },
  };
}

const filters = new Map<string, AddressFilter>();

/** The filter for an allow list (config.allowPrivateUrls); one per list, so that its connections are pooled. */
export function addressFilter(allowed: readonly string[]): AddressFilter {
  const key = allowed.join(',');
  let filter = filters.get(key);
  if (!filter) {
    filter = createAddressFilter(allowed);
    filters.set(key, filter);
  }
  return filter;
}
