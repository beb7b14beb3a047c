const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '\u2028': '&#x2028;', '\u2029': '&#x2029;',
};

/**
 * Text for HTML content or a quoted attribute value: `& < > " '` become entities, and so do the
 * line separators U+2028/U+2029 (harmless in HTML, but the page then holds none a script could
 * ever pick up).
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'\u2028\u2029]/g, (c) => HTML_ESCAPES[c]);
}

/**
 * JSON that is safe inside `<script type="application/json">` (and inside a JS string): `<`, `>`,
 * `&` and the line separators U+2028/U+2029 become `\u` escapes, so no user string can close the
 * script element (`</script>`), open a comment (`<!--`) or break a line. `JSON.parse` gives back
 * the same value.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A third-party script made safe to inline in `<script>`: `</script` and `<!--` can only occur in
 * its strings, regular expressions or comments, where `<\/script` and `<\!--` mean the same.
 */
export function inlineScript(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}
