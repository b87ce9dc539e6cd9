import test from 'ava';
import { mainDomainRecords, ptrAdvice, zoneLines } from '../../src/dns/records.js';
import { judge } from '../../src/dns/check.js';
import { configFrom } from '../helpers/config.js';

test('the how-to\'s records: A, AAAA, MX and SPF, as zone-file lines', (t) => {
  const config = configFrom({ MAIL_DOMAIN: 'example.com', MAIL_IPV4: '198.51.100.7', MAIL_IPV6: '2001:db8::7' });
  const zone = zoneLines(mainDomainRecords(config));
  t.regex(zone, /^mail\.example\.com\.\s+IN A\s+198\.51\.100\.7$/m);
  t.regex(zone, /^mail\.example\.com\.\s+IN AAAA 2001:db8::7$/m);
  t.regex(zone, /^example\.com\.\s+IN MX\s+10 mail\.example\.com\.$/m);
  t.regex(zone, /^example\.com\.\s+IN TXT\s+"v=spf1 mx -all"$/m);
  t.regex(ptrAdvice(config), /198\.51\.100\.7 and 2001:db8::7 to mail\.example\.com/);
});

test('dns --check: two records of one kind are wrong, as receivers ignore both (found by a break-it session)', (t) => {
  const sts = { domain: 'example.com', name: '_mta-sts.example.com.', type: 'TXT' as const, value: 'v=STSv1; id=abc' };
  t.is(judge(sts, ['v=STSv1; id=abc']), 'ok');
  t.is(judge(sts, ['v=STSv1; id=000stale', 'v=STSv1; id=abc']), 'wrong');
  t.is(judge(sts, ['v=STSv1; id=abc', 'something else']), 'ok', 'other TXT records at the name do not count');
  const spf = { domain: 'example.com', name: 'example.com.', type: 'TXT' as const, value: 'v=spf1 mx -all' };
  t.is(judge(spf, ['v=spf1 mx -all', 'v=spf1 a -all']), 'wrong');
});
