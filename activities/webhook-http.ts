import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

// How a webhook leaves the worker. The run's data goes only where the operator allows: no loopback, private,
// link-local or cloud-metadata address (checked on the address actually connected to, after DNS resolution, so a
// name cannot be rebound between check and use), no redirects, and a signature receivers can verify.

export interface WebhookSettings {
  /** Hosts (names or IPs, as written in the URL) allowed although they resolve to refused addresses. */
  allowedHosts: string[];
  /** Key of the HMAC-SHA256 signature; unset: unsigned deliveries. */
  secret?: string | undefined;
}

export class WebhookRefusal extends Error {
  override name = 'WebhookRefusal';
}

const refused = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, including the cloud metadata address 169.254.169.254
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const)
  refused.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 127], // :: and ::1
  ['fc00::', 7], // unique local, including fd00:ec2::254 (AWS metadata over IPv6)
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  refused.addSubnet(net, prefix, 'ipv6');

export function isRefusedAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return refused.check(mapped, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return refused.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** DNS resolution that refuses the addresses above; the connection uses exactly the address it returns. */
function guardedLookup(host: string): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const bad = addresses.find((a) => isRefusedAddress(a.address));
      if (bad || !addresses.length)
        return callback(
          new WebhookRefusal(
            `Webhook host ${host} resolves to a refused address ${bad?.address ?? '(none)'}; list it in WEBHOOK_ALLOWED_HOSTS to allow it`,
          ),
          '',
          0,
        );
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as the README shows how to verify. */
export function webhookSignature(secret: string, body: string, at = Math.floor(Date.now() / 1000)): string {
  return `t=${at},v1=${createHmac('sha256', secret).update(`${at}.${body}`).digest('hex')}`;
}

/** POSTs the body; resolves with the status. Redirects are answers, never followed. */
export function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  settings: WebhookSettings,
  signal: AbortSignal,
): Promise<number> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const allowed = settings.allowedHosts.includes(host) || settings.allowedHosts.includes(target.hostname);
  if (!allowed && isIP(host) && isRefusedAddress(host))
    return Promise.reject(new WebhookRefusal(`Webhook address ${host} is refused; list it in WEBHOOK_ALLOWED_HOSTS to allow it`));
  const signed = settings.secret ? { 'x-webhook-signature': webhookSignature(settings.secret, body) } : {};
  const request = target.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'POST',
        headers: { ...headers, ...signed, 'content-length': Buffer.byteLength(body) },
        signal,
        ...(allowed ? {} : { lookup: guardedLookup(host) }),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
