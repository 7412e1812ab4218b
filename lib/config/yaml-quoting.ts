import { Parser } from 'yaml';

/** `value` as the inside of a YAML double-quoted scalar: every escape used here means the same in JSON and YAML. */
export function escapeForDoubleQuotes(value: string): string {
  let escaped = '';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (char === '\\' || char === '"') escaped += '\\' + char;
    else if (char === '\n') escaped += '\\n';
    else if (char === '\r') escaped += '\\r';
    else if (char === '\t') escaped += '\\t';
    // YAML forbids raw C0/C1 control characters and DEL even inside quotes.
    else if (code < 0x20 || (code >= 0x7f && code <= 0x9f))
      escaped += '\\u' + code.toString(16).padStart(4, '0');
    else escaped += char;
  }
  return escaped;
}

export function doubleQuoted(value: string): string {
  return '"' + escapeForDoubleQuotes(value) + '"';
}

/**
 * Whether `text`, written unquoted where a plain scalar stands, reads back as one plain scalar spelled exactly
 * `text`: no comment, tag, anchor, alias, indicator, collection or trimmed whitespace hides inside it.
 */
export function readsAsPlainScalar(text: string, inFlow: boolean): boolean {
  if (text === '' || /[\r\n]/.test(text)) return false;
  const tokens = [...new Parser().parse(inFlow ? `[${text}]` : text)];
  const document = tokens[0];
  if (tokens.length !== 1 || document?.type !== 'document' || document.start.length > 0 || document.end) {
    return false;
  }
  let value = document.value;
  if (inFlow) {
    if (value?.type !== 'flow-collection' || value.items.length !== 1) return false;
    const item = value.items[0]!;
    if (item.start.length > 0 || item.key !== undefined || item.sep !== undefined) return false;
    value = item.value;
  }
  return value?.type === 'scalar' && value.source === text && (value.end ?? []).length === 0;
}
