import type { LookupAddress } from 'node:dns';
import {
  WebhookTargetError,
  checkWebhookTarget,
  isPublicAddress,
  literalTargetAllowed,
  publicOnlyLookup,
} from './webhook-target';

const PRIVATE = 'webhook.url must not point to a loopback, private or other non-public address';

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fc00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '2002:7f00:1::', // 6to4 of 127.0.0.1
    'not an address',
  ])('refuses %s', (address) => expect(isPublicAddress(address)).toBe(false));

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'accepts %s',
    (address) => expect(isPublicAddress(address)).toBe(true),
  );
});

describe('checkWebhookTarget', () => {
  const resolving =
    (...addresses: string[]) =>
    (): Promise<LookupAddress[]> =>
      Promise.resolve(
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      );

  it('accepts a public name and literal', async () => {
    await expect(
      checkWebhookTarget('https://hooks.example.com/x', false, resolving('93.184.216.34')),
    ).resolves.toBeInstanceOf(URL);
    await expect(checkWebhookTarget('http://8.8.8.8/x', false)).resolves.toBeInstanceOf(URL);
  });

  it('refuses a name when any of its addresses is not public', async () => {
    await expect(
      checkWebhookTarget('https://mixed.example/x', false, resolving('93.184.216.34', '10.0.0.2')),
    ).rejects.toEqual(new WebhookTargetError(PRIVATE));
  });

  it('refuses a name that does not resolve, naming it', async () => {
    const failing = () => Promise.reject(new Error('ENOTFOUND'));
    await expect(checkWebhookTarget('https://nowhere.invalid/x', false, failing)).rejects.toEqual(
      new WebhookTargetError('webhook.url host nowhere.invalid could not be resolved'),
    );
  });

  it('accepts anything well-formed when private targets are allowed, without resolving', async () => {
    const never = () => Promise.reject(new Error('must not resolve'));
    await expect(checkWebhookTarget('http://127.0.0.1:9/x', true, never)).resolves.toBeInstanceOf(
      URL,
    );
  });

  it.each([
    ['ftp://example.com/', 'webhook.url must be an http or https URL'],
    ['//example.com/', 'webhook.url must be an absolute http(s) URL'],
    ['https://u:p@example.com/', 'webhook.url must not contain credentials'],
    [`https://example.com/${'a'.repeat(2048)}`, 'webhook.url must be at most 2048 characters'],
  ])('refuses %s', async (url, message) => {
    await expect(checkWebhookTarget(url, true)).rejects.toEqual(new WebhookTargetError(message));
  });
});

describe('at connect time', () => {
  it('refuses a name that now resolves to a private address (DNS rebinding)', async () => {
    const lookup = publicOnlyLookup(((_host: string, _options: unknown, callback: any) =>
      callback(null, [{ address: '127.0.0.1', family: 4 }])) as any);
    const error = await new Promise<Error | null>((resolve) =>
      lookup('rebound.example', { all: true }, (err) => resolve(err)),
    );
    expect(error?.message).toBe('rebound.example resolves to a non-public address');
  });

  it('passes public addresses through', async () => {
    const lookup = publicOnlyLookup(((_host: string, _options: unknown, callback: any) =>
      callback(null, [{ address: '93.184.216.34', family: 4 }])) as any);
    const address = await new Promise<unknown>((resolve) =>
      lookup('public.example', {}, (_err, address) => resolve(address)),
    );
    expect(address).toBe('93.184.216.34');
  });

  it('checks IP literals before any lookup', () => {
    expect(literalTargetAllowed(new URL('http://[::1]/'), false)).toBe(false);
    expect(literalTargetAllowed(new URL('http://[::1]/'), true)).toBe(true);
    expect(literalTargetAllowed(new URL('http://8.8.8.8/'), false)).toBe(true);
    expect(literalTargetAllowed(new URL('http://hooks.example/'), false)).toBe(true);
  });
});
