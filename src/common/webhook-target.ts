import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** Why a webhook URL cannot be used; the message names the problem for the client. */
export class WebhookTargetError extends Error {}

/**
 * Whether an address is a public unicast one. Everything else is refused as a webhook target:
 * loopback, private and unique-local ranges, link-local (cloud metadata services live there),
 * carrier-grade NAT, unspecified, multicast, broadcast, documentation and other reserved
 * ranges, and IPv6 forms that embed an IPv4 address (6to4, Teredo, NAT64) unless it is one of
 * the IPv4-mapped form, which is judged as the IPv4 address it maps.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed.range() === 'unicast';
}

/** The host of a URL as the resolver and the address checks take it (IPv6 without brackets). */
const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Parses a webhook URL: absolute http(s), with a host, without credentials (they would travel
 * in clear to anyone who can read the task, and fetch clients refuse them anyway).
 */
export function parseWebhookUrl(raw: string): URL {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) {
    throw new WebhookTargetError(
      `webhook.url must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`,
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookTargetError('webhook.url must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebhookTargetError('webhook.url must be an http or https URL');
  }
  if (!url.hostname) throw new WebhookTargetError('webhook.url must name a host');
  if (url.username || url.password) {
    throw new WebhookTargetError('webhook.url must not contain credentials');
  }
  return url;
}

const PRIVATE_MESSAGE =
  'webhook.url must not point to a loopback, private or other non-public address';

type Resolver = (host: string) => Promise<LookupAddress[]>;

const resolveAll: Resolver = (host) =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    ),
  );

/**
 * Checks at submit that a webhook URL can be delivered to: well-formed and, unless private
 * targets are allowed, naming only public addresses (a host name is resolved, and every
 * address it resolves to must be public). Deliveries check again when they connect (see
 * publicOnlyLookup), because a name can resolve differently later.
 */
export async function checkWebhookTarget(
  raw: string,
  allowPrivate: boolean,
  resolve: Resolver = resolveAll,
): Promise<URL> {
  const url = parseWebhookUrl(raw);
  if (allowPrivate) return url;
  const host = hostOf(url);
  if (isIP(host)) {
    if (!isPublicAddress(host)) throw new WebhookTargetError(PRIVATE_MESSAGE);
    return url;
  }
  let addresses: LookupAddress[];
  try {
    addresses = await resolve(host);
  } catch {
    throw new WebhookTargetError(`webhook.url host ${host} could not be resolved`);
  }
  if (addresses.length === 0) {
    throw new WebhookTargetError(`webhook.url host ${host} could not be resolved`);
  }
  if (!addresses.every((a) => isPublicAddress(a.address))) {
    throw new WebhookTargetError(PRIVATE_MESSAGE);
  }
  return url;
}

/** The connection of a delivery was refused: its target is not a public address. */
export class PrivateTargetError extends Error {
  readonly code = 'EWEBHOOKPRIVATE';
}

/**
 * A `lookup` for http(s).request that resolves as usual and fails when any address is not
 * public. The connection goes to an address this function returned, so the check holds for the
 * address actually used: a name that resolved to a public address at submit and resolves to a
 * private one now (DNS rebinding) is refused at connect time. IP literals never reach a lookup:
 * check them with `isPublicAddress` before the request.
 */
export function publicOnlyLookup(resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.find((a) => !isPublicAddress(a.address));
      if (refused || addresses.length === 0) {
        return callback(
          new PrivateTargetError(`${hostname} resolves to a non-public address`),
          '',
          0,
        );
      }
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** Whether a delivery to this URL may connect: IP literals are checked here, names at lookup. */
export function literalTargetAllowed(url: URL, allowPrivate: boolean): boolean {
  const host = hostOf(url);
  return allowPrivate || !isIP(host) || isPublicAddress(host);
}
