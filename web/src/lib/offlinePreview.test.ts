import { describe, expect, it } from 'vitest';
import { offlinePreview } from './offlinePreview';

// The head MJML writes for a text block (from the mrml fixtures' mj-text.html, shortened).
const head = `<head>
    <!--[if !mso]><!-->
    <link href="https://fonts.googleapis.com/css?family=Ubuntu:300,400,500,700" rel="stylesheet" type="text/css">
    <style type="text/css">
      @import url(https://fonts.googleapis.com/css?family=Ubuntu:300,400,500,700);
    </style>
    <!--<![endif]-->
    <link rel="stylesheet" href="/local.css">
    <style>p { color: red; }</style>
  </head>`;

describe('offlinePreview', () => {
  it('drops remote stylesheets and font imports, and keeps the rest', () => {
    const out = offlinePreview(head);
    expect(out).not.toContain('fonts.googleapis.com');
    expect(out).toContain('<link rel="stylesheet" href="/local.css">');
    expect(out).toContain('p { color: red; }');
    expect(out).toContain('<style type="text/css">');
  });
  it('leaves HTML without remote resources as it is', () => {
    const html = '<p>Hello <a href="https://example.com">there</a></p>';
    expect(offlinePreview(html)).toBe(html);
  });
});
