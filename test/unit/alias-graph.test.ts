import test from 'ava';
import {
  checkDelAlias, checkSetAlias, missingRoleAliases, planAccountRemoval, resolveAlias, type AccountsState,
} from '../../src/accounts/alias-graph.js';
import { UsageError } from '../../src/core/errors.js';

const state = (aliases: Record<string, string[]> = {}, users = ['ann@a.test', 'bob@a.test', 'cat@b.test']): AccountsState => ({
  domains: ['a.test', 'b.test'], users, aliases: new Map(Object.entries(aliases)),
});

test('a chain ends at accounts and outside addresses; a +tag reaches the account', (t) => {
  const s = state({ 'x@a.test': ['y@a.test', 'friend@elsewhere.org'], 'y@a.test': ['bob+lists@a.test'] });
  t.deepEqual(resolveAlias(s, 'x@a.test'), { ends: [{ address: 'bob@a.test', kind: 'account' }, { address: 'friend@elsewhere.org', kind: 'external' }] });
});

test('unknown local addresses fall to the catch-all', (t) => {
  const s = state({ '*@b.test': ['cat@b.test'], 'x@a.test': ['nobody@b.test'] });
  t.deepEqual(resolveAlias(s, 'x@a.test'), { ends: [{ address: 'cat@b.test', kind: 'account' }] });
});

test('loops, self-references, dead ends and shadowed accounts are refused', (t) => {
  const s = state({ 'a@a.test': ['b@a.test'], 'b@a.test': ['ann@a.test'] });
  t.throws(() => checkSetAlias(s, 'b@a.test', ['a@a.test']), { instanceOf: UsageError, message: /loop \(b@a\.test -> a@a\.test -> b@a\.test\)/ });
  t.throws(() => checkSetAlias(s, 'c@a.test', ['c+x@a.test']), { instanceOf: UsageError, message: /its own target/ });
  t.throws(() => checkSetAlias(s, 'c@a.test', ['nobody@a.test']), { instanceOf: UsageError, message: /neither an account nor an alias/ });
  t.throws(() => checkSetAlias(s, 'ann@a.test', ['bob@a.test']), { instanceOf: UsageError, message: /is an account/ });
  t.throws(() => checkSetAlias(state({ '*@a.test': ['z@a.test'] }), 'z@a.test', ['q@a.test']), { instanceOf: UsageError, message: /loop/ }, 'through the catch-all');
  t.notThrows(() => checkSetAlias(s, 'c@a.test', ['a@a.test', 'out@example.org']));
});

test('postmaster@ and abuse@ cannot be removed; an alias others go through cannot either', (t) => {
  const s = state({ 'postmaster@a.test': ['ann@a.test'], 'x@a.test': ['y@a.test'], 'y@a.test': ['ann@a.test'] });
  t.throws(() => checkDelAlias(s, 'postmaster@a.test'), { instanceOf: UsageError, message: /required/ });
  t.throws(() => checkDelAlias(s, 'y@a.test'), { instanceOf: UsageError, message: /x@a\.test would deliver to y@a\.test/ });
  t.notThrows(() => checkDelAlias(s, 'x@a.test'));
  t.throws(() => checkDelAlias(s, 'nope@a.test'), { message: /not an alias/ });
});

test('role aliases: MAIL_POSTMASTER, else the first account; none without a target', (t) => {
  t.deepEqual(missingRoleAliases(state({ 'abuse@a.test': ['bob@a.test'] })).make, [
    { alias: 'postmaster@a.test', target: 'ann@a.test' },
    { alias: 'postmaster@b.test', target: 'ann@a.test' },
    { alias: 'abuse@b.test', target: 'ann@a.test' },
  ]);
  t.is(missingRoleAliases(state({}), 'boss@elsewhere.org').make[0].target, 'boss@elsewhere.org');
  t.deepEqual(missingRoleAliases(state({}, [])).make, []);
  t.deepEqual(missingRoleAliases(state({}), 'notyet@a.test').make, [], 'MAIL_POSTMASTER not an account yet');
  t.deepEqual(missingRoleAliases(state({}), 'notyet@a.test').waiting, ['postmaster@a.test', 'abuse@a.test', 'postmaster@b.test', 'abuse@b.test'], 'and they wait for it');
});

test('removing an account: role aliases re-pointed, others trimmed or removed in a chain', (t) => {
  const s = state({
    'postmaster@a.test': ['ann@a.test'], 'team@a.test': ['ann@a.test', 'bob@a.test'], 'solo@a.test': ['ann@a.test'], 'via@a.test': ['solo@a.test'],
  });
  t.deepEqual(planAccountRemoval(s, ['ann@a.test']), [
    { alias: 'postmaster@a.test', targets: ['bob@a.test'], why: 're-pointed to bob@a.test' },
    { alias: 'team@a.test', targets: ['bob@a.test'], why: 'no longer delivers to ann@a.test' },
    { alias: 'solo@a.test', why: 'it delivered only to ann@a.test' },
    { alias: 'via@a.test', why: 'it delivered only to solo@a.test' },
  ]);
  t.throws(() => planAccountRemoval(s, ['ann@a.test'], 'ann@a.test'), { instanceOf: UsageError, message: /MAIL_POSTMASTER/ });
  t.throws(() => planAccountRemoval(state({ 'postmaster@a.test': ['ann@a.test'] }, ['ann@a.test']), ['ann@a.test']), { instanceOf: UsageError, message: /last account/ });
});

test('removing a domain: its own aliases go with it, others pointing into it are re-pointed first', (t) => {
  const s = state({ 'postmaster@a.test': ['cat@b.test'], 'postmaster@b.test': ['cat@b.test'] });
  t.deepEqual(planAccountRemoval(s, ['cat@b.test'], undefined, ['b.test']), [
    { alias: 'postmaster@a.test', targets: ['ann@a.test'], why: 're-pointed to ann@a.test' },
  ]);
});

// Found by trying to break it.
test('del-alias that would loop the catch-all or strand an alias is refused', (t) => {
  const looping = state({ '*@a.test': ['l1@a.test'], 'l1@a.test': ['l2@a.test'], 'l2@a.test': ['ann@a.test'] });
  t.throws(() => checkDelAlias(looping, 'l2@a.test'), { instanceOf: UsageError, message: /loop/ });
  const viaCatchAll = state({ '*@a.test': ['ann@a.test'], 'postmaster@a.test': ['ghost@a.test'] });
  t.throws(() => checkDelAlias(viaCatchAll, '*@a.test'), { instanceOf: UsageError, message: /postmaster@a\.test would deliver to ghost@a\.test/ });
});

test('removal with MAIL_POSTMASTER a +tag of, or an alias of, the removed account: refused, never a hang', (t) => {
  const s = state({ 'postmaster@a.test': ['ann+pm@a.test'], 'zl@a.test': ['ann@a.test'] });
  t.throws(() => planAccountRemoval(s, ['ann@a.test'], 'ann+pm@a.test'), { instanceOf: UsageError, message: /is MAIL_POSTMASTER/ });
  const viaAlias = state({ 'postmaster@a.test': ['zl@a.test'], 'zl@a.test': ['ann@a.test'] });
  t.throws(() => planAccountRemoval(viaAlias, ['ann@a.test'], 'zl@a.test'), { instanceOf: UsageError, message: /MAIL_POSTMASTER zl@a\.test, which goes too/ });
});

test('removing a domain: aliases elsewhere that reach into it are treated as losing those targets', (t) => {
  const s = state({ 'team@b.test': ['cat@b.test'], 'postmaster@a.test': ['team@b.test'], 'abuse@a.test': ['cat+x@b.test', 'ann@a.test'] });
  t.deepEqual(planAccountRemoval(s, ['cat@b.test'], undefined, ['b.test']), [
    { alias: 'postmaster@a.test', targets: ['ann@a.test'], why: 're-pointed to ann@a.test' },
    { alias: 'abuse@a.test', targets: ['ann@a.test'], why: 'no longer delivers to cat+x@b.test' },
  ]);
});
