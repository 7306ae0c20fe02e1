import { SYSTEM_ROLES } from '@vigil/protocol';
import { VigilError } from '../errors.js';

/**
 * Names that Vigil itself gives: the built-in roles, the first administrator, and the system
 * actor of the audit log. A name that only looks like one of them is refused everywhere.
 */
export const BUILT_IN_NAMES: readonly string[] = [
  ...SYSTEM_ROLES.map((r) => r.name),
  'admin',
  'vigil',
];

/**
 * Characters that render like a Latin letter or digit (after NFKC folding and lower-casing), from
 * Unicode's confusables data (UTS #39) for the scripts people actually mix in: Cyrillic, Greek,
 * Armenian, Cherokee-free Latin extensions, and the digits that pass for letters.
 */
const CONFUSABLES: Readonly<Record<string, string>> = {
  // Cyrillic.
  а: 'a',
  в: 'b',
  ь: 'b',
  с: 'c',
  ԁ: 'd',
  е: 'e',
  ё: 'e',
  һ: 'h',
  і: 'i',
  ї: 'i',
  ј: 'j',
  к: 'k',
  ӏ: 'l',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  ԛ: 'q',
  г: 'r',
  ѕ: 's',
  т: 't',
  ц: 'u',
  ѵ: 'v',
  ԝ: 'w',
  х: 'x',
  у: 'y',
  // Greek.
  α: 'a',
  β: 'b',
  ε: 'e',
  η: 'n',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  γ: 'y',
  // Armenian.
  օ: 'o',
  ս: 'u',
  հ: 'h',
  ո: 'n',
  // Latin letters that pass for others.
  ı: 'i',
  ɑ: 'a',
  ɡ: 'g',
  ɩ: 'i',
  ʟ: 'l',
  // Digits and punctuation read as letters or separators.
  '0': 'o',
  '1': 'l',
  '|': 'l',
  '-': '_',
  '.': '_',
};

/**
 * The skeleton of a name (after UTS #39): NFKC folded (fullwidth and styled letters become plain
 * ones), lower-cased, stripped of combining marks, each confusable character replaced by what it
 * looks like, and `i` and `l` read as the same (they are, in many fonts, as is `rn` for `m`). Two
 * names with the same skeleton look alike.
 */
export function skeleton(name: string): string {
  const folded = name.normalize('NFKC').toLowerCase().normalize('NFD').replace(/\p{M}/gu, '');
  let out = '';
  for (const ch of folded) out += CONFUSABLES[ch] ?? ch;
  return out.replace(/rn/g, 'm').replace(/l/g, 'i');
}

const BUILT_IN_SKELETONS = new Map(BUILT_IN_NAMES.map((n) => [skeleton(n), n]));

/** A rule a name broke: its stable code and the sentence that says what the rule is. */
export interface NameProblem {
  code:
    | 'name.blank'
    | 'name.control_character'
    | 'name.format_character'
    | 'name.surrounding_space'
    | 'name.look_alike';
  message: string;
}

/**
 * Characters that render as nothing or as blank space without being white space: the default
 * ignorable code points (the Hangul fillers U+115F, U+1160, U+3164 and U+FFA0, the combining
 * grapheme joiner U+034F, variation selectors, zero-width and bidirectional controls, tags) and
 * the blank braille pattern U+2800.
 */
const BLANK_RENDERING = '\\p{Default_Ignorable_Code_Point}\\u2800';
/** A name made only of white space, marks and blank-rendering characters: it renders blank. */
const BLANK = new RegExp(`^[\\p{White_Space}\\p{Cf}\\p{M}${BLANK_RENDERING}]*$`, 'u');
/** Invisible characters that must not appear in a name at all. */
const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}\p{Default_Ignorable_Code_Point}]/u;
/** Blank space at either end of a name. */
const SURROUNDING = new RegExp(
  `^[\\p{White_Space}${BLANK_RENDERING}]|[\\p{White_Space}${BLANK_RENDERING}]$`,
  'u',
);

const codePoint = (ch: string) =>
  `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Checks a name against the rules every name in Vigil follows (users, roles, agents, API
 * clients): not blank (nor made only of combining marks or of characters that render blank, such
 * as the Hangul filler U+3164 or the blank braille pattern U+2800), no leading or trailing space,
 * no control characters (C0, C1: NUL, CR, LF, the ESC of terminal escapes), no invisible
 * characters (bidirectional overrides, zero-width characters, line and paragraph separators,
 * unpaired surrogates, variation selectors, the combining grapheme joiner and every other default
 * ignorable code point), and not a look-alike of a built-in name (`\u0430dmin` for `admin`,
 * `ADMIN`). The name is read in NFC.
 * @returns the problem, or undefined when the name is fine.
 */
export function nameProblem(name: string, what = 'name'): NameProblem | undefined {
  const nfc = name.normalize('NFC');
  if (nfc.trim() === '' || BLANK.test(nfc))
    return { code: 'name.blank', message: `${what} must not be blank` };
  const control = /[\p{Cc}]/u.exec(nfc);
  if (control)
    return {
      code: 'name.control_character',
      message: `${what} must not contain control characters (found ${codePoint(control[0])})`,
    };
  const format = INVISIBLE.exec(nfc);
  if (format)
    return {
      code: 'name.format_character',
      message: `${what} must not contain invisible, format or unassigned characters (found ${codePoint(format[0])})`,
    };
  if (nfc.trim() !== nfc || SURROUNDING.test(nfc))
    return {
      code: 'name.surrounding_space',
      message: `${what} must not begin or end with a space`,
    };
  const builtIn = BUILT_IN_SKELETONS.get(skeleton(nfc));
  if (builtIn !== undefined && builtIn !== nfc)
    return {
      code: 'name.look_alike',
      message: `${what} must not look like the built-in name ${builtIn}`,
    };
  return undefined;
}

/**
 * Applies the name rules and returns the name in NFC, the form in which it is stored.
 * @throws VigilError bad_data with the broken rule's code (`name.blank`, `name.look_alike`, …).
 */
export function checkName(name: string, what = 'name'): string {
  const problem = nameProblem(name, what);
  if (problem) throw new VigilError('bad_data', problem.message, { code: problem.code });
  return name.normalize('NFC');
}
