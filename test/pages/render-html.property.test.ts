// The pages' tagged template escapes whatever a pull request's author wrote:
// any string, in text or in a quoted attribute, reads back as itself and adds
// no element and no attribute.
import fc from 'fast-check';
import { html } from '../../src/pages/html.js';
import { tokenize } from '../helpers/html-tokens.js';

describe('html`` escaping', () => {
  it('renders any string as text and as an attribute value, and nothing more', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('<', '>', '&', '"', "'", '`', '=', '/', ' ', 'a', ';', '#', 'x', '!', '-') })), (s) => {
        const tokens = tokenize(html`<p title="${s}">${s}</p>`.markup);
        const expected = [{ type: 'start', name: 'p', attrs: [['title', s]], selfClosing: false }, ...(s ? [{ type: 'text', text: s }] : []), { type: 'end', name: 'p' }];
        expect(tokens).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });
});
