// A small strict XML parser for policy documents: elements, attributes, text, CDATA, comments and the predefined and
// numeric entities; no DTDs. It records the line and column of every element's name, because APIM reports policy
// errors as "Error in element 'x' on line L, column C" with C pointing at the name (just after '<'), and it reports
// malformed XML the way .NET's XmlReader does ("… Line 1, position 1."), which is what APIM passes through.
//
// In `rawxml` mode (APIM's format for documents whose policy expressions are not XML-escaped), `@(...)` and `@{...}`
// in attribute values and text are read as C# expressions: balanced brackets, string and character literals, and any
// '<', '&' or '"' inside them taken literally.

export interface XmlAttribute {
  name: string;
  value: string;
  line: number;
  column: number;
}

export interface XmlElement {
  type: 'element';
  name: string;
  attributes: XmlAttribute[];
  children: XmlNode[];
  line: number;
  column: number;
}

export interface XmlText {
  type: 'text';
  value: string;
  cdata: boolean;
}

export interface XmlComment {
  type: 'comment';
  value: string;
}

export type XmlNode = XmlElement | XmlText | XmlComment;

export interface XmlDocument {
  /** Comments before and after the root element, in order, with the root's place marked. */
  prolog: XmlComment[];
  root: XmlElement;
  epilog: XmlComment[];
}

export class XmlSyntaxError extends Error {
  readonly line: number;
  readonly position: number;
  constructor(reason: string, line: number, position: number) {
    super(`${reason} Line ${line}, position ${position}.`);
    this.name = 'XmlSyntaxError';
    this.line = line;
    this.position = position;
  }
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const NAME_START = /[A-Za-z_:\u00C0-\uFFFF]/;
const NAME_CHAR = /[A-Za-z0-9_:.\-\u00B7\u00C0-\uFFFF]/;

export interface ParseOptions {
  raw?: boolean;
}

function hex(ch: string): string {
  return `0x${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
}

class Parser {
  readonly #s: string;
  readonly #raw: boolean;
  #i = 0;
  #line = 1;
  #lineStart = 0;

  constructor(text: string, raw: boolean) {
    // XML normalizes every line ending to '\n' before parsing.
    this.#s = text.replace(/\r\n?/g, '\n');
    this.#raw = raw;
  }

  #col(at = this.#i): number {
    return at - this.#lineStart + 1;
  }

  #fail(reason: string, at = this.#i): never {
    throw new XmlSyntaxError(reason, this.#line, this.#col(at));
  }

  #advance(n = 1): void {
    for (let k = 0; k < n; k++) {
      if (this.#s.charCodeAt(this.#i) === 10) {
        this.#line++;
        this.#lineStart = this.#i + 1;
      }
      this.#i++;
    }
  }

  #peek(offset = 0): string {
    return this.#s.charAt(this.#i + offset);
  }

  #startsWith(t: string): boolean {
    return this.#s.startsWith(t, this.#i);
  }

  #eof(): boolean {
    return this.#i >= this.#s.length;
  }

  #skipWhitespace(): void {
    while (!this.#eof() && /\s/.test(this.#peek())) this.#advance();
  }

  #name(): string {
    const c = this.#peek();
    if (this.#eof()) this.#fail('Unexpected end of file while parsing Name has occurred.');
    if (!NAME_START.test(c)) this.#fail(`Name cannot begin with the '${c}' character, hexadecimal value ${hex(c)}.`);
    const start = this.#i;
    while (!this.#eof() && NAME_CHAR.test(this.#peek())) this.#advance();
    return this.#s.slice(start, this.#i);
  }

  parse(): XmlDocument {
    const prolog: XmlComment[] = [];
    const epilog: XmlComment[] = [];
    let root: XmlElement | undefined;
    if (this.#s.charCodeAt(0) === 0xfeff) this.#advance();
    if (this.#startsWith('<?xml')) this.#declaration();
    for (;;) {
      this.#skipWhitespace();
      if (this.#eof()) break;
      if (this.#startsWith('<!--')) {
        (root ? epilog : prolog).push(this.#comment());
      } else if (this.#startsWith('<?')) {
        this.#fail('Unexpected XML declaration. The XML declaration must be the first node in the document, and no whitespace characters are allowed to appear before it.');
      } else if (this.#startsWith('<!DOCTYPE')) {
        this.#fail('For security reasons DTD is prohibited in this XML document.');
      } else if (this.#peek() === '<') {
        if (root) this.#fail('There are multiple root elements.', this.#i + 1);
        root = this.#element([]);
      } else {
        this.#fail('Data at the root level is invalid.');
      }
    }
    if (!root) this.#fail('Root element is missing.');
    return { prolog, root, epilog };
  }

  #declaration(): void {
    const end = this.#s.indexOf('?>', this.#i);
    if (end < 0) this.#fail('Unexpected end of file has occurred.');
    this.#advance(end + 2 - this.#i);
  }

  #comment(): XmlComment {
    this.#advance(4);
    const end = this.#s.indexOf('-->', this.#i);
    if (end < 0) {
      this.#advance(this.#s.length - this.#i);
      this.#fail('Unexpected end of file while parsing Comment has occurred.');
    }
    const value = this.#s.slice(this.#i, end);
    const dd = value.indexOf('--');
    if (dd >= 0) {
      this.#advance(dd);
      this.#fail("An XML comment cannot contain '--', and '-' cannot be the last character.");
    }
    this.#advance(end + 3 - this.#i);
    return { type: 'comment', value };
  }

  #element(open: string[]): XmlElement {
    this.#advance(); // '<'
    const line = this.#line;
    const column = this.#col();
    const name = this.#name();
    const el: XmlElement = { type: 'element', name, attributes: [], children: [], line, column };
    for (;;) {
      const hadSpace = /\s/.test(this.#peek());
      this.#skipWhitespace();
      if (this.#eof()) this.#fail(`Unexpected end of file while parsing Name has occurred.`);
      if (this.#startsWith('/>')) {
        this.#advance(2);
        return el;
      }
      if (this.#peek() === '>') {
        this.#advance();
        break;
      }
      if (!hadSpace) this.#fail(`'${this.#peek()}' is an unexpected token. The expected token is '>' or '/>'.`);
      el.attributes.push(this.#attribute(el));
    }
    this.#content(el, [...open, name]);
    return el;
  }

  #attribute(el: XmlElement): XmlAttribute {
    const line = this.#line;
    const column = this.#col();
    const name = this.#name();
    if (el.attributes.some((a) => a.name === name)) this.#fail(`'${name}' is a duplicate attribute name.`, this.#i - name.length);
    this.#skipWhitespace();
    if (this.#peek() !== '=') this.#fail(`'${this.#peek()}' is an unexpected token. The expected token is '='.`);
    this.#advance();
    this.#skipWhitespace();
    const quote = this.#peek();
    if (quote !== '"' && quote !== "'") this.#fail(`'${quote}' is an unexpected token. The expected token is '"' or '''.`);
    this.#advance();
    let value = '';
    for (;;) {
      if (this.#eof()) this.#fail('Unexpected end of file has occurred.');
      const c = this.#peek();
      if (c === quote) {
        this.#advance();
        break;
      }
      if (this.#raw && c === '@' && (this.#peek(1) === '(' || this.#peek(1) === '{')) {
        value += this.#expression();
        continue;
      }
      if (c === '<') this.#fail(`'<', hexadecimal value 0x3C, is an invalid attribute character.`);
      if (c === '&') {
        value += this.#entity();
        continue;
      }
      // Attribute-value normalization: whitespace characters become spaces.
      value += c === '\n' || c === '\t' ? ' ' : c;
      this.#advance();
    }
    return { name, value, line, column };
  }

  #entity(): string {
    const start = this.#i;
    this.#advance(); // '&'
    if (this.#peek() === '#') {
      this.#advance();
      const isHex = this.#peek() === 'x';
      if (isHex) this.#advance();
      const digitsStart = this.#i;
      while (!this.#eof() && (isHex ? /[0-9a-fA-F]/ : /[0-9]/).test(this.#peek())) this.#advance();
      const digits = this.#s.slice(digitsStart, this.#i);
      if (digits === '' || this.#peek() !== ';') this.#fail('Invalid syntax for a decimal numeric entity reference.', start);
      this.#advance();
      const code = Number.parseInt(digits, isHex ? 16 : 10);
      if (code === 0 || code > 0x10ffff) this.#fail(`Invalid character in the given encoding.`, start);
      return String.fromCodePoint(code);
    }
    const nameStart = this.#i;
    while (!this.#eof() && NAME_CHAR.test(this.#peek())) this.#advance();
    const name = this.#s.slice(nameStart, this.#i);
    if (name === '' || this.#peek() !== ';') this.#fail('An error occurred while parsing EntityName.', this.#i);
    this.#advance();
    const v = PREDEFINED[name];
    if (v === undefined) this.#fail(`Reference to undeclared entity '${name}'.`, start + 1);
    return v;
  }

  /** Reads `@(...)` or `@{...}` as written (rawxml), honouring C# string and character literals. */
  #expression(): string {
    const start = this.#i;
    this.#advance(); // '@'
    const stack: string[] = [];
    const closing: Record<string, string> = { '(': ')', '{': '}', '[': ']' };
    do {
      if (this.#eof()) this.#fail('Unexpected end of file while parsing a policy expression has occurred.', start);
      const c = this.#peek();
      if (c === '"' || c === "'") {
        this.#literal(c, false);
        continue;
      }
      if (c === '@' && this.#peek(1) === '"') {
        this.#advance();
        this.#literal('"', true);
        continue;
      }
      if (c === '$' && this.#peek(1) === '"') {
        this.#advance();
        this.#literal('"', false);
        continue;
      }
      if (c in closing) stack.push(closing[c]!);
      else if (c === ')' || c === '}' || c === ']') {
        if (stack.pop() !== c) this.#fail(`Unbalanced '${c}' in a policy expression.`);
      }
      this.#advance();
    } while (stack.length > 0);
    return this.#s.slice(start, this.#i);
  }

  #literal(quote: string, verbatim: boolean): void {
    this.#advance();
    for (;;) {
      if (this.#eof()) this.#fail('Unexpected end of file while parsing a string literal in a policy expression.');
      const c = this.#peek();
      if (!verbatim && c === '\\') {
        this.#advance(2);
        continue;
      }
      if (c === quote) {
        if (verbatim && this.#peek(1) === quote) {
          this.#advance(2);
          continue;
        }
        this.#advance();
        return;
      }
      this.#advance();
    }
  }

  #content(el: XmlElement, open: string[]): void {
    let text = '';
    const flush = (): void => {
      if (text !== '') el.children.push({ type: 'text', value: text, cdata: false });
      text = '';
    };
    for (;;) {
      if (this.#eof()) {
        this.#fail(`Unexpected end of file has occurred. The following elements are not closed: ${open.slice().reverse().join(', ')}.`);
      }
      const c = this.#peek();
      if (c === '<') {
        if (this.#startsWith('</')) {
          flush();
          const tagStart = this.#i + 2;
          this.#advance(2);
          const name = this.#name();
          if (name !== el.name) {
            this.#fail(`The '${el.name}' start tag on line ${el.line} position ${el.column} does not match the end tag of '${name}'.`, tagStart);
          }
          this.#skipWhitespace();
          if (this.#peek() !== '>') this.#fail(`'${this.#peek()}' is an unexpected token. The expected token is '>'.`);
          this.#advance();
          return;
        }
        if (this.#startsWith('<!--')) {
          flush();
          el.children.push(this.#comment());
          continue;
        }
        if (this.#startsWith('<![CDATA[')) {
          flush();
          this.#advance(9);
          const end = this.#s.indexOf(']]>', this.#i);
          if (end < 0) this.#fail('Unexpected end of file while parsing CDATA has occurred.');
          el.children.push({ type: 'text', value: this.#s.slice(this.#i, end), cdata: true });
          this.#advance(end + 3 - this.#i);
          continue;
        }
        if (this.#startsWith('<?') || this.#startsWith('<!')) this.#fail(`Unexpected markup in element content.`, this.#i + 1);
        flush();
        el.children.push(this.#element(open));
        continue;
      }
      if (this.#raw && c === '@' && (this.#peek(1) === '(' || this.#peek(1) === '{')) {
        text += this.#expression();
        continue;
      }
      if (c === '&') {
        text += this.#entity();
        continue;
      }
      text += c;
      this.#advance();
    }
  }
}

export function parseXml(text: string, options: ParseOptions = {}): XmlDocument {
  return new Parser(text, options.raw === true).parse();
}

export function elementChildren(el: XmlElement): XmlElement[] {
  return el.children.filter((c): c is XmlElement => c.type === 'element');
}

export function attribute(el: XmlElement, name: string): string | undefined {
  return el.attributes.find((a) => a.name === name)?.value;
}
