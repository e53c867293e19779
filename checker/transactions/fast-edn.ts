/**
 * A fast reader for the plain EDN of Jepsen histories (maps, vectors, lists, sets, keywords,
 * strings, integers, floats, nil, booleans, symbols, comments), one form at a time.
 * Anything else (tagged literals, characters, discards, big numbers) or anything malformed makes
 * it give up and return undefined: the caller then uses the general reader (edn-data, through
 * `parseJepsenForm`), which is slower but names the line of any error. It exists because a
 * 100k-transaction Jepsen history takes the general reader tens of seconds.
 */

class GiveUp extends Error {}
const giveUp = (): never => {
  throw new GiveUp();
};

/**
 * The value of one EDN form (keywords and symbols as strings without the colon, maps as
 * objects, lists and sets as arrays), or undefined when the text needs the general reader.
 * The form's nesting must already be bounded (the splitter refuses deep forms): this recurses.
 */
export function fastEdnValue(text: string): unknown {
  try {
    return read(text);
  } catch (e) {
    if (e instanceof GiveUp) return undefined;
    throw e;
  }
}

function read(text: string): unknown {
  let i = 0;
  const n = text.length;

  const skip = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 10 || c === 32 || c === 44 || c === 9 || c === 13) i++;
      else if (c === 59) {
        while (i < n && text.charCodeAt(i) !== 10) i++;
      } else return;
    }
  };
  const isDelim = (c: number): boolean => c === 32 || c === 44 || c === 9 || c === 10 || c === 13 || c === 41 || c === 93 || c === 125 || c === 40 || c === 91 || c === 123 || c === 34 || c === 59;
  const token = (): string => {
    const start = i;
    while (i < n && !isDelim(text.charCodeAt(i))) i++;
    return text.slice(start, i);
  };
  const seq = (close: number): unknown[] => {
    const out: unknown[] = [];
    for (;;) {
      skip();
      if (i >= n) giveUp();
      if (text.charCodeAt(i) === close) {
        i++;
        return out;
      }
      out.push(value());
    }
  };
  const value = (): unknown => {
    skip();
    if (i >= n) giveUp();
    const c = text.charCodeAt(i);
    if (c === 123) {
      i++;
      const items = seq(125);
      if (items.length % 2 !== 0) giveUp();
      const obj: Record<string, unknown> = {};
      for (let k = 0; k < items.length; k += 2) {
        const key = items[k];
        if (typeof key !== 'string' && typeof key !== 'number') giveUp();
        obj[String(key)] = items[k + 1];
      }
      return obj;
    }
    if (c === 91) {
      i++;
      return seq(93);
    }
    if (c === 40) {
      i++;
      return seq(41);
    }
    if (c === 35) {
      if (text.charCodeAt(i + 1) !== 123) giveUp();
      i += 2;
      return seq(125);
    }
    if (c === 34) {
      i++;
      let s = '';
      let start = i;
      for (;;) {
        if (i >= n) giveUp();
        const d = text.charCodeAt(i);
        if (d === 34) break;
        if (d === 92) {
          s += text.slice(start, i);
          const e = text[i + 1];
          if (e === 'n') s += '\n';
          else if (e === 't') s += '\t';
          else if (e === 'r') s += '\r';
          else if (e === '"' || e === '\\') s += e;
          else giveUp();
          i += 2;
          start = i;
          continue;
        }
        i++;
      }
      s += text.slice(start, i);
      i++;
      return s;
    }
    if (c === 58) {
      i++;
      const t = token();
      if (t.length === 0) giveUp();
      return t;
    }
    if (c === 92 || c === 41 || c === 93 || c === 125) giveUp();
    // a plain integer, read without slicing
    if ((c >= 48 && c <= 57) || c === 45) {
      let j = c === 45 ? i + 1 : i;
      let v = 0;
      const digits = j;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d < 48 || d > 57) break;
        v = v * 10 + (d - 48);
        j++;
      }
      if (j > digits && j - digits < 16 && (j >= n || isDelim(text.charCodeAt(j)))) {
        i = j;
        return c === 45 ? -v : v;
      }
    }
    const t = token();
    if (t.length === 0) giveUp();
    const first = t.charCodeAt(0);
    if ((first >= 48 && first <= 57) || ((first === 45 || first === 43) && t.length > 1 && t.charCodeAt(1) >= 48 && t.charCodeAt(1) <= 57)) {
      if (!/^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t)) giveUp();
      const v = Number(t);
      if (!Number.isSafeInteger(v) && !t.includes('.') && !/[eE]/.test(t)) giveUp();
      return v;
    }
    if (t === 'nil') return null;
    if (t === 'true') return true;
    if (t === 'false') return false;
    return t; // a symbol
  };

  const form = value();
  skip();
  if (i < n) giveUp(); // more than one form
  return form;
}
