// Writes a policy document the way APIM stores and returns it (format=xml): .NET's XmlWriter with two-space indent and
// CRLF line ends, whitespace-only text dropped, empty elements as `<x />`, text kept verbatim, and no indentation
// inside an element that holds text (mixed content), as the REST spec's examples show.
import type { XmlDocument, XmlElement, XmlNode } from './xml-document.ts';

const NL = '\r\n';
const INDENT = '  ';

function escapeText(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, NL);
}

function escapeAttribute(v: string): string {
  return v
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#x9;')
    .replace(/\n/g, '&#xA;')
    .replace(/\r/g, '&#xD;');
}

function significant(nodes: XmlNode[]): XmlNode[] {
  return nodes.filter((n) => n.type !== 'text' || n.cdata || n.value.trim() !== '');
}

function startTag(el: XmlElement): string {
  const attrs = el.attributes.map((a) => ` ${a.name}="${escapeAttribute(a.value)}"`).join('');
  return `<${el.name}${attrs}`;
}

function inline(node: XmlNode): string {
  switch (node.type) {
    case 'text':
      return node.cdata ? `<![CDATA[${node.value}]]>` : escapeText(node.value);
    case 'comment':
      return `<!--${node.value.replace(/\n/g, NL)}-->`;
    case 'element': {
      const children = significant(node.children);
      if (children.length === 0) return `${startTag(node)} />`;
      return `${startTag(node)}>${children.map(inline).join('')}</${node.name}>`;
    }
  }
}

function block(node: XmlNode, depth: number, out: string[]): void {
  const pad = INDENT.repeat(depth);
  if (node.type !== 'element') {
    out.push(pad + inline(node));
    return;
  }
  const children = significant(node.children);
  if (children.length === 0) {
    out.push(`${pad}${startTag(node)} />`);
  } else if (children.some((c) => c.type === 'text')) {
    // Mixed content: XmlWriter stops indenting until the element closes.
    out.push(pad + inline(node));
  } else {
    out.push(`${pad}${startTag(node)}>`);
    for (const c of children) block(c, depth + 1, out);
    out.push(`${pad}</${node.name}>`);
  }
}

export function formatXml(doc: XmlDocument): string {
  const out: string[] = [];
  for (const c of doc.prolog) block(c, 0, out);
  block(doc.root, 0, out);
  for (const c of doc.epilog) block(c, 0, out);
  return out.join(NL);
}

/** Formats one element's children as a document of their own (a policy fragment is stored without `<fragment>`). */
export function formatChildren(el: XmlElement): string {
  const out: string[] = [];
  for (const c of significant(el.children)) block(c, 0, out);
  return out.join(NL);
}
