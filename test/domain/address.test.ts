import { looksLikeAddress, parseHostAddress } from '../../src/domain/address';
import { ValidationError } from '../../src/domain/errors';
import { thrownWords } from '../support/words';

describe('parseHostAddress accepts a single host only', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7/32', 4],
    ['203.0.113.7/32', '203.0.113.7/32', 4],
    [' 198.51.100.4 ', '198.51.100.4/32', 4],
    ['10.1.2.3', '10.1.2.3/32', 4],
    ['2001:db8::7', '2001:db8::7/128', 6],
    ['2001:DB8:0:0:0:0:0:7/128', '2001:db8::7/128', 6],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1/128', 6],
  ])('%s → %s', (input, cidr, family) => {
    expect(parseHostAddress(input)).toMatchObject({ cidr, family });
  });

  it.each([
    ['', /required/],
    [undefined, /required/],
    ['203.0.113.7/0', /only \/32/],
    ['203.0.113.7/24', /only \/32/],
    ['10.0.0.0/8', /network/],
    ['203.0.113.7/', /only \/32/],
    ['0.0.0.0', /not a usable/],
    ['0.0.0.0/0', /only \/32/],
    ['127.0.0.1', /loopback/],
    ['255.255.255.255', /broadcast/],
    ['224.0.0.1', /multicast/],
    ['169.254.169.254', /link-local/],
    ['::', /unspecified/],
    ['::/0', /only \/128/],
    ['::1', /loopback/],
    ['fe80::1', /link-local/],
    ['ff02::1', /multicast/],
    ['::ffff:203.0.113.7', /IPv4-mapped/],
    ['2001:db8::/64', /only \/128/],
    ['999.1.1.1', /not an IP address/],
    ['01.2.3.4', /not an IP address/],
    ['bastion.example.com', /not an IP address/],
    ['203.0.113.7/32/32', /only \/32|not an IP/],
  ])('refuses %j', (input, message) => {
    expect(() => parseHostAddress(input)).toThrow(ValidationError);
    expect(thrownWords(() => parseHostAddress(input))).toMatch(message);
  });
});

it('tells addresses from words in the command grammar', () => {
  for (const a of ['203.0.113.7', '0.0.0.0/0', '::', '2001:db8::1/128', '10.0.0.0/8']) expect(looksLikeAddress(a)).toBe(true);
  for (const w of ['investigating', 'db', 'a:b-c', 'fix']) expect(looksLikeAddress(w)).toBe(false);
});
