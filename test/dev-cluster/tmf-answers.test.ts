// The sample backend's API answers: TM Forum resources of the called operation's response type, from the documents it
// serves (TMF620 and TMF672 v4), so calls through the gateway return data of the API's shape.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmfAnswers } from '../../dev-cluster/sandbox/tmf-answers.ts';
import { REFERENCE_DIR } from '../helpers/fixtures.ts';

const doc = (file: string): string => readFileSync(join(REFERENCE_DIR, 'specs', file), 'utf8');
const answers = tmfAnswers([doc('TMF620-ProductCatalog-v4.0.0.swagger.json'), doc('TMF672-UserRolePermission-v4.0.0.swagger.json'), 'not json']);

const cases: [string, string, string, string, unknown][] = [
  ['a collection GET below any prefix: a list of one', 'GET', '/sandbox/tmf-api/productCatalogManagement/v4/catalog?limit=1', '', { status: 200, body: [{ id: '1', href: '/sandbox/tmf-api/productCatalogManagement/v4/catalog/1', '@type': 'Catalog', name: 'Catalog 1' }] }],
  ['a GET by id: that resource', 'GET', '/pc/v4/productOffering/po-7', '', { status: 200, body: { id: 'po-7', href: '/pc/v4/productOffering/po-7', '@type': 'ProductOffering', name: 'ProductOffering po-7' } }],
  ['a POST: 201 with what was sent, id and href added', 'POST', '/pc/v4/category', '{"name":"Phones","id":"ignored"}', { status: 201, body: { name: 'Phones', id: '1', href: '/pc/v4/category/1', '@type': 'Category' } }],
  ['a DELETE: 204 without body', 'DELETE', '/pc/v4/catalog/3', '', { status: 204, body: undefined }],
  ['required properties get placeholders (TMF672 Permission: user, validFor)', 'GET', '/urp/v4/permission/p1', '', { status: 200, body: { user: { '@referredType': 'sample', id: 'sample' }, validFor: {}, id: 'p1', href: '/urp/v4/permission/p1', '@type': 'Permission' } }],
];
for (const [name, method, path, body, expected] of cases) {
  t.test(name, async (t) => {
    t.same(answers.answer(method, path, body), expected);
  });
}

t.test('paths of no served API, and methods an operation lacks, are not answered', async (t) => {
  t.equal(answers.answer('GET', '/pc/v4/nothing', ''), undefined);
  t.equal(answers.answer('PUT', '/pc/v4/catalog/1', ''), undefined, 'TMF620 has no PUT on catalog');
});
