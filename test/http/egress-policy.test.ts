// The egress policy on addresses alone: which special-purpose ranges are denied, how an operator's
// allow list opens one, that the own listening socket stays closed, and CIDR parsing.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EgressPolicy, embeddedIPv4, parseCidr } from '../../src/http/egress/egress-policy.js';
import { parseTargetUrl } from '../../src/http/egress/egress-client.js';

const allowed = (p: EgressPolicy, ip: string, port = 443) => p.check(ip, port).allowed;

describe('egress policy', () => {
  const p = new EgressPolicy();

  it('denies loopback, private, link-local, CGNAT, unspecified, multicast, broadcast and reserved IPv4', () => {
    for (const ip of [
      '127.0.0.1',
      '127.255.255.254',
      '10.0.0.1',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '100.127.255.255',
      '0.0.0.0',
      '0.1.2.3',
      '224.0.0.1',
      '239.255.255.250',
      '255.255.255.255',
      '240.0.0.1',
      '192.0.0.8',
      '192.0.2.1',
      '198.18.0.1',
      '198.51.100.7',
      '203.0.113.9',
    ]) {
      assert.equal(allowed(p, ip), false, ip);
    }
  });

  it('denies IPv6 loopback, unspecified, unique-local, link-local, site-local, multicast and documentation', () => {
    for (const ip of [
      '::1',
      '::',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1',
      'febf::1',
      'fec0::1',
      'ff02::1',
      '2001:db8::1',
      '100::1',
      '2001::1',
      '::127.0.0.1',
    ]) {
      assert.equal(allowed(p, ip), false, ip);
    }
  });

  it('denies an IPv4 address written inside IPv6: mapped, NAT64, 6to4', () => {
    for (const ip of [
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:10.1.2.3',
      '::ffff:169.254.169.254',
      '64:ff9b::7f00:1',
      '64:ff9b::10.0.0.1',
      '2002:7f00:1::1',
      '2002:a9fe:a9fe::',
    ]) {
      assert.equal(allowed(p, ip), false, ip);
    }
    assert.equal(embeddedIPv4('64:ff9b::a00:1'), '10.0.0.1');
    assert.equal(embeddedIPv4('2002:c000:0201::1'), '192.0.2.1');
    assert.equal(embeddedIPv4('2001:4860::1'), null);
  });

  it('allows public unicast addresses, IPv4 and IPv6, including their translated forms', () => {
    for (const ip of [
      '8.8.8.8',
      '1.1.1.1',
      '52.4.1.2',
      '100.63.255.255',
      '100.128.0.0',
      '172.32.0.1',
      '192.169.0.1',
      '2607:f8b0:4004:800::200e',
      '2a00:1450::1',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808',
      '2002:808:808::1',
    ]) {
      assert.equal(allowed(p, ip), true, ip);
    }
  });

  it('an allowed range opens exactly that range, in every notation of its addresses', () => {
    const q = new EgressPolicy({ allow: ['127.0.0.0/8', '10.20.0.0/16', 'fd00::/8'] });
    for (const ip of ['127.0.0.1', '::ffff:127.0.0.1', '10.20.3.4', 'fd00::5', '64:ff9b::a14:1']) assert.equal(allowed(q, ip), true, ip);
    for (const ip of ['10.21.0.1', '192.168.0.1', '::1', 'fe80::1', '169.254.169.254']) assert.equal(allowed(q, ip), false, ip);
  });

  it('the own listening socket is denied even inside an allowed range; other ports of the host are not', () => {
    const q = new EgressPolicy({ allow: ['127.0.0.0/8'], self: () => ({ address: '127.0.0.1', port: 8080 }) });
    assert.deepEqual(q.check('127.0.0.1', 8080), { allowed: false, reason: 'self' });
    assert.deepEqual(q.check('::ffff:127.0.0.1', 8080), { allowed: false, reason: 'self' });
    assert.deepEqual(q.check('127.0.0.1', 8081), { allowed: true });
    const wildcard = new EgressPolicy({ allow: ['0.0.0.0/0', '::/0'], self: () => ({ address: '::', port: 9000 }) });
    for (const ip of ['127.0.0.1', '127.0.0.2', '::1', '0.0.0.0', '::']) assert.equal(allowed(wildcard, ip, 9000), false, ip);
    assert.equal(allowed(wildcard, '127.0.0.1', 9001), true);
  });

  it('parses CIDR ranges and single addresses; refuses anything else', () => {
    assert.deepEqual(parseCidr('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    assert.deepEqual(parseCidr(' fd00::/8 '), { address: 'fd00::', prefix: 8, family: 'ipv6' });
    assert.deepEqual(parseCidr('[::1]'), { address: '::1', prefix: 128, family: 'ipv6' });
    assert.deepEqual(parseCidr('192.168.1.5'), { address: '192.168.1.5', prefix: 32, family: 'ipv4' });
    for (const bad of ['10.0.0.0/33', '::/129', 'localhost', '10.0.0/8', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8/8', '']) {
      assert.throws(() => parseCidr(bad), /IP address|prefix/, bad);
    }
  });

  it('a target URL is absolute http(s) with a host; WHATWG parsing canonicalises numeric hosts', () => {
    assert.equal(parseTargetUrl('http://2130706433/')?.hostname, '127.0.0.1');
    assert.equal(parseTargetUrl('http://0x7f.1/')?.hostname, '127.0.0.1');
    assert.equal(parseTargetUrl('http://[::1]:81/')?.hostname, '[::1]');
    for (const bad of [
      'ftp://example.com/',
      'file:///etc/passwd',
      'gopher://x/',
      'javascript:alert(1)',
      '/relative',
      'http://',
      'not a url',
      'x'.repeat(5000),
    ]) {
      assert.equal(parseTargetUrl(bad), null, bad.slice(0, 40));
    }
  });
});
