// The pages' tagged template: what is escaped, what is markup, which links render.
import { html, link, raw, safeUrl } from '../../src/pages/html.js';
import { elements, textOf } from '../helpers/html-tokens.js';

describe('html``', () => {
  it('escapes & < > " \' and the backtick in every value', () => {
    expect(html`<b title="${`"'\``}">${'<i>&amp;</i>'}</b>`.markup).toBe('<b title="&quot;&#39;&#96;">&lt;i&gt;&amp;amp;&lt;/i&gt;</b>');
  });

  it('takes nested templates as markup, joins lists, and renders nothing for null, undefined and false', () => {
    const items = ['a<', 'b'].map((x) => html`<li>${x}</li>`);
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${0}`.markup).toBe('<ul><li>a&lt;</li><li>b</li></ul>0');
    expect(html`${raw('<hr>')}`.markup).toBe('<hr>');
  });

  it('keeps only http(s) URLs and local paths in a link attribute', () => {
    for (const bad of ['javascript:alert(1)', ' javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<script>alert(1)</script>', '//evil.example/x', '/\\evil.example', 'vbscript:x', 'https://a b', 'http://']) {
      expect(safeUrl(bad)).toBeNull();
      expect(elements(html`<a href="${bad}">x</a>`.markup, 'a')[0].attrs).toEqual([['href', '']]);
      expect(elements(link(bad, 'x').markup, 'a')).toEqual([]);
      expect(textOf(link(bad, 'x').markup).trim()).toBe('x');
    }
    for (const good of ['https://github.com/octo/shop/pull/1?a=1&b=2', 'http://127.0.0.1:3000/x', '/queue', '/pulls/octo/shop/1']) {
      expect(safeUrl(good)).toBe(good);
      expect(elements(link(good, 'x').markup, 'a')[0].attrs).toEqual([['href', good]]);
    }
  });

  it('does not treat a value as a URL outside a link attribute', () => {
    expect(html`<p data-href="${'javascript:x'}">${'javascript:x'}</p>`.markup).toBe('<p data-href="javascript:x">javascript:x</p>');
  });
});
