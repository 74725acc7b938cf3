// SPDX-License-Identifier: MIT
// A strict well-formedness check for the XML subset an SVG writer produces (elements, attributes, text,
// character and the five predefined entity references; no DTD, CDATA, comments or processing
// instructions), and a tiny element tree for assertions. Node has no XML parser, and one check this small
// is easier to trust than a new dependency.

/** A parsed element. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_][\w.:-]*/;
const ENTITY = /^&(?:#[0-9]+|#x[0-9a-fA-F]+|amp|lt|gt|quot|apos);/;

/** Parses `xml` or throws an Error saying where it is not well-formed. */
export function parseXml(xml: string): XmlElement {
  let at = 0;
  const fail = (why: string): never => {
    throw new Error(`not well-formed at offset ${at}: ${why} near '${xml.slice(at, at + 40)}'`);
  };
  const checkText = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      if (text[i] === '<') fail('"<" in text');
      if (text[i] === '&' && !ENTITY.test(text.slice(i))) fail('bare "&"');
    }
  };
  const skipSpace = () => {
    while (at < xml.length && /\s/.test(xml[at]!)) at++;
  };
  const element = (): XmlElement => {
    if (xml[at] !== '<') fail('expected "<"');
    at++;
    const name = NAME.exec(xml.slice(at))?.[0] ?? fail('expected an element name');
    at += name.length;
    const el: XmlElement = { name, attrs: {}, children: [], text: '' };
    for (;;) {
      const before = at;
      skipSpace();
      if (xml.startsWith('/>', at)) {
        at += 2;
        return el;
      }
      if (xml[at] === '>') {
        at++;
        break;
      }
      if (at === before) fail('expected whitespace before an attribute');
      const attr = NAME.exec(xml.slice(at))?.[0] ?? fail('expected an attribute name');
      at += attr.length;
      if (xml[at] !== '=') fail('expected "="');
      at++;
      const quote = xml[at];
      if (quote !== '"' && quote !== "'") fail('attribute value not quoted');
      const close = xml.indexOf(quote!, at + 1);
      if (close < 0) fail('unterminated attribute value');
      const value = xml.slice(at + 1, close);
      checkText(value);
      if (attr in el.attrs) fail(`duplicate attribute ${attr}`);
      el.attrs[attr] = value;
      at = close + 1;
    }
    for (;;) {
      const next = xml.indexOf('<', at);
      if (next < 0) fail(`unclosed <${name}>`);
      const text = xml.slice(at, next);
      checkText(text);
      el.text += text;
      at = next;
      if (xml.startsWith('</', at)) {
        at += 2;
        if (!xml.startsWith(name, at)) fail(`</...> does not close <${name}>`);
        at += name.length;
        skipSpace();
        if (xml[at] !== '>') fail('expected ">"');
        at++;
        return el;
      }
      el.children.push(element());
    }
  };
  skipSpace();
  const root = element();
  skipSpace();
  if (at !== xml.length) fail('content after the root element');
  return root;
}

/** Every element of the tree, depth first, the root included. */
export function allElements(root: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (el: XmlElement) => {
    out.push(el);
    el.children.forEach(walk);
  };
  walk(root);
  return out;
}
