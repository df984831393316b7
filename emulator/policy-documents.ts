// From a policy value as sent (`xml` or `rawxml`) to what APIM stores: parsed strictly, validated for its scope, its
// named-value references resolved, and re-formatted the way APIM returns it. Throws the ArmError APIM would send.
import { detail, validationError, validationMessage } from './arm-errors.ts';
import type { PolicyEntity } from './service-model.ts';
import type { XmlDocument } from './xml-document.ts';
import { parseXml, XmlSyntaxError } from './xml-document.ts';
import { formatChildren, formatXml } from './xml-format.ts';
import type { PolicyContext } from './policy-validation.ts';
import { namedValueReferences, validatePolicyDocument } from './policy-validation.ts';

export interface PolicyDocumentContext extends PolicyContext {
  namedValueExists(displayName: string): boolean;
}

export type PolicyFormat = 'xml' | 'rawxml';

export function policyFormat(format: unknown): PolicyFormat {
  if (format === undefined || format === null || format === 'xml') return 'xml';
  if (format === 'rawxml') return 'rawxml';
  if (format === 'xml-link' || format === 'rawxml-link') {
    throw validationError([detail('format', `Policy format '${String(format)}' is valid for API Management but not modelled by the emulator; send the document inline with 'xml' or 'rawxml'.`)]);
  }
  throw validationError([detail('format', `'${String(format)}' is not a valid value for 'format'. Valid values: xml, xml-link, rawxml, rawxml-link.`)]);
}

function parse(value: string, format: PolicyFormat, what: string): XmlDocument {
  try {
    return parseXml(value, { raw: format === 'rawxml' });
  } catch (err) {
    if (err instanceof XmlSyntaxError) {
      // Verified for fragments ("The policy fragment is not a valid XML: Data at the root level is invalid. Line 1,
      // position 1."); the same form is used for policies (unverified).
      throw validationMessage(`The ${what} is not a valid XML: ${err.message}`);
    }
    throw err;
  }
}

/** Prepares a policy (`policies/policy` at any scope, or a fragment when ctx.scope is 'fragment'). */
export function preparePolicy(value: unknown, formatValue: unknown, ctx: PolicyDocumentContext): Omit<PolicyEntity, 'etag'> {
  const format = policyFormat(formatValue);
  if (typeof value !== 'string' || value.trim() === '') {
    throw validationError([detail('value', `'value' is required and must hold the policy document.`)]);
  }
  const what = ctx.scope === 'fragment' ? 'policy fragment' : 'policy';
  const doc = parse(value, format, what);
  const details = validatePolicyDocument(doc, ctx);
  if (details.length > 0) throw validationError(details);
  for (const name of namedValueReferences(value)) {
    if (!ctx.namedValueExists(name)) throw validationMessage(`Property '${name}' not found.`);
  }
  const xml = ctx.scope === 'fragment' ? formatChildren(doc.root) : formatXml(doc);
  return { xml, raw: value, format };
}

