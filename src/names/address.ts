/**
 * The one definition of a mail address mailctl accepts, for accounts, alias
 * names and alias targets. Pure. Every rule here exists because a part of the
 * stack would otherwise break the address somewhere between SMTP and IMAP:
 *
 * - chasquid's MDA courier deletes `/;"'\|*&$%()[]{}`!`, spaces and control
 *   characters from the recipient before handing it to dovecot's LMTP, so an
 *   account with one of them would never receive mail.
 * - `+` is the suffix separator (chasquid's `suffix_separators`): `user+tag@`
 *   delivers to `user@`, so no account name may contain it.
 * - A passwd-file line starting with `#` is a comment, `:` separates fields.
 * - chasquid normalises local parts with PRECIS (NFC, lower case) and domains
 *   to their unicode form; dovecot's passwd-file is matched byte for byte. So
 *   mailctl stores one canonical form (NFC, lower case, punycode domain) and
 *   tells dovecot the other spellings of the same account (`alternateForms`).
 */
import { domainToUnicode } from 'node:url';
import { UsageError } from '../core/errors.js';
import { normalizeDomain } from './validate.js';

export interface Address {
  /** Local part: NFC, lower case. */
  local: string;
  /** Domain, punycode (what is stored: domain directories, mail directories). */
  domain: string;
  /** local@domain with the punycode domain: the canonical form. */
  address: string;
  /** The domain in unicode (equal to `domain` for an ASCII domain). */
  unicodeDomain: string;
}

/** Suffix separator: `user+tag@` delivers to `user@`. */
export const SUFFIX_SEPARATOR = '+';

/** Characters of an account's local part besides letters and digits. */
const PUNCTUATION = '.-_';
// Letters and digits of any script (EAI, RFC 6531), plus the punctuation above.
const LOCAL_CHAR = /^[\p{L}\p{Mn}\p{Mc}\p{Nd}._-]$/u;

function localPartProblem(local: string, allowSuffix: boolean): string | undefined {
  if (local === '') return 'the part before "@" is empty';
  if (local.length > 64) return 'the part before "@" is longer than 64 characters';
  let main = local;
  if (allowSuffix && local.includes(SUFFIX_SEPARATOR)) {
    main = local.slice(0, local.indexOf(SUFFIX_SEPARATOR));
    const tag = local.slice(local.indexOf(SUFFIX_SEPARATOR) + 1);
    if (main === '') return 'nothing before the "+" suffix';
    if ([...tag].some((c) => !LOCAL_CHAR.test(c) && c !== SUFFIX_SEPARATOR)) return `the suffix "+${tag}" may hold only letters, digits, ".", "-" and "_"`;
  }
  for (const c of main) {
    if (c === SUFFIX_SEPARATOR) return '"+" is the suffix separator (user+tag@ delivers to user@): add the account without it';
    if (!LOCAL_CHAR.test(c)) {
      const shown = /[\p{Cc}\s]/u.test(c) ? `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : `"${c}"`;
      return `${shown} is not allowed before "@": use letters, digits, "${[...PUNCTUATION].join('", "')}"`;
    }
  }
  if (!/^[\p{L}\p{Nd}_]/u.test(main)) return 'the part before "@" must start with a letter, a digit or "_"';
  if (main.endsWith('.') || main.includes('..')) return 'dots in the part before "@" may not end it or come two in a row';
  // Compatibility forms (fullwidth letters, ligatures) are mapped by chasquid's
  // PRECIS profile but not by dovecot: the account would have two spellings.
  if (main.normalize('NFKC') !== main) return 'it holds a compatibility character (fullwidth letter, ligature): type the plain letter';
  if (IGNORABLE.test(main)) return 'it holds an invisible character (a joiner or format mark): chasquid refuses those';
  return bidiProblem(main);
}

// Right-to-left scripts and Arabic-Indic digits: chasquid applies RFC 5893's Bidi rule.
const RTL_LETTER = /(?=\p{L})[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Samaritan}\p{Script=Mandaic}\p{Script=Adlam}]/u;
const ARABIC_INDIC_DIGIT = /[\u0660-\u0669]/u;
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;

/** RFC 5893 (as chasquid's PRECIS profile applies it), for the shapes people use. */
function bidiProblem(local: string): string | undefined {
  const chars = [...local];
  const rtl = chars.some((c) => RTL_LETTER.test(c) || ARABIC_INDIC_DIGIT.test(c));
  if (!rtl) return undefined;
  const mixed = 'right-to-left and left-to-right letters, or Arabic-Indic and European digits, cannot be mixed; a right-to-left name starts and ends with a right-to-left letter or digit';
  if (!RTL_LETTER.test(chars[0])) return mixed;
  if (chars.some((c) => /\p{L}/u.test(c) && !RTL_LETTER.test(c))) return mixed;
  if (chars.some((c) => ARABIC_INDIC_DIGIT.test(c)) && chars.some((c) => /[0-9\u06f0-\u06f9]/u.test(c))) return mixed;
  const last = chars.filter((c) => !/\p{M}/u.test(c)).at(-1) ?? '';
  if (!RTL_LETTER.test(last) && !/\p{Nd}/u.test(last)) return mixed;
  return undefined;
}

/**
 * A mail domain of this server: what normalizeDomain accepts, and no label
 * whose unicode form starts with a non-ASCII character. dovecot's LMTP
 * refuses such a recipient ("Invalid domain"), and chasquid hands it over in
 * unicode: the mail would be accepted and never delivered.
 */
export function mailDomain(input: string, what = 'domain'): string {
  const domain = normalizeDomain(input, what);
  const label = (domainToUnicode(domain) || domain).split('.').find((l) => /^[^\x00-\x7f]/.test(l));
  if (label) {
    throw new UsageError(`${what} "${input}" cannot be served: its label "${label}" starts with a non-ASCII character, which dovecot's delivery (LMTP) refuses; mail would be accepted and never delivered`);
  }
  return domain;
}

/**
 * NFC and lower case, as chasquid's PRECIS profile folds it: Greek capital
 * sigma always becomes σ there, never the word-final ς that JavaScript picks.
 */
function foldLocal(local: string): string {
  return local.normalize('NFC').toLowerCase().replace(/ς/g, 'σ');
}

function split(input: string): { local: string; domainInput: string } {
  const at = input.lastIndexOf('@');
  if (at < 0) throw new UsageError(`"${input}" is not a mail address (expected user@domain, e.g. alice@example.com)`);
  return { local: foldLocal(input.slice(0, at)), domainInput: input.slice(at + 1) };
}

function build(local: string, domainInput: string, input: string, served: boolean): Address {
  const what = `the domain of "${input}"`;
  const domain = served ? mailDomain(domainInput, what) : normalizeDomain(domainInput, what);
  const address = `${local}@${domain}`;
  if (address.length > 254) throw new UsageError(`"${input}" is longer than 254 characters`);
  return { local, domain, address, unicodeDomain: domainToUnicode(domain) || domain };
}

/**
 * An account's address (add-user, passwd, del-user, an alias name): local
 * part of letters, digits, ".", "-", "_" (any script), no "+"; domain in
 * unicode or punycode. Throws a UsageError that says what is wrong.
 */
export function parseAddress(input: string): Address {
  const { local, domainInput } = split(input);
  const problem = localPartProblem(local, false);
  if (problem) throw new UsageError(`"${input}" is not a valid mail address: ${problem}`);
  return build(local, domainInput, input, true);
}

/**
 * An alias target: an account-shaped address, optionally with a +tag (which
 * delivers to the account). Pipes, files, comments and quoted local parts
 * are refused: chasquid would run or write them.
 */
export function parseTarget(input: string): Address {
  const { local, domainInput } = split(input);
  if (/^[|/#"]/.test(local)) throw new UsageError(`"${input}" is not an address: alias targets are addresses only (no pipes, files or comments)`);
  const problem = localPartProblem(local, true);
  if (problem) throw new UsageError(`"${input}" is not a valid alias target: ${problem}`);
  // A target may be anywhere: mail to another server's domain is forwarded over SMTP.
  return build(local, domainInput, input, false);
}

/** The account a (possibly +tagged) address delivers to. */
export function withoutSuffix(address: string): string {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const plus = local.indexOf(SUFFIX_SEPARATOR);
  return plus < 0 ? address : `${local.slice(0, plus)}${address.slice(at)}`;
}

/**
 * Every other spelling under which chasquid or a client may present the
 * account: the unicode domain (chasquid always uses it), and a Greek name
 * with its word-final ς (typed in lower case, chasquid keeps it). dovecot
 * matches the passwd-file byte for byte, so each gets a line mapped to the
 * canonical one.
 */
export function alternateForms(a: Address): string[] {
  const locals = [...new Set([a.local, a.local.toUpperCase().toLowerCase()])];
  const domains = [...new Set([a.domain, a.unicodeDomain])];
  return locals.flatMap((l) => domains.map((d) => `${l}@${d}`)).filter((form) => form !== a.address);
}
