// An email's HTML as the dashboard previews it: without the remote stylesheets and font
// imports MJML adds (the dashboard loads nothing from elsewhere, and its Content Security
// Policy would refuse them anyway). The email itself is sent with them.

/** `html` without `<link rel="stylesheet">` to other hosts and without `@import url(...)`s of other hosts. */
export function offlinePreview(html: string): string {
  return html
    .replace(/<link\b[^>]*\bhref=["']?(?:https?:)?\/\/[^>]*>/gi, '')
    .replace(/@import\s+url\(\s*["']?(?:https?:)?\/\/[^)]*\)\s*;?/gi, '');
}
