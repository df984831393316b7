// Service readiness from EndpointSlices, and the Component status entry that follows it. Pure.
import t from 'tap';
import { componentReadyChange, ServiceReadiness, sliceSummary } from '../../dispatcher/endpoint-readiness.ts';

const slice = (service: string | undefined, endpoints: unknown[]) => ({
  metadata: { namespace: 'team', name: `${service}-x`, ...(service ? { labels: { 'kubernetes.io/service-name': service } } : {}) },
  endpoints,
});

t.test('a slice is ready when any endpoint is ready; an absent ready counts as ready (the EndpointSlice API)', async (t) => {
  const rows: { endpoints: unknown[]; ready: boolean }[] = [
    { endpoints: [], ready: false },
    { endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: false } }], ready: false },
    { endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: false } }, { addresses: ['10.0.0.2'], conditions: { ready: true } }], ready: true },
    { endpoints: [{ addresses: ['10.0.0.1'] }], ready: true },
    { endpoints: [{ addresses: ['10.0.0.1'], conditions: {} }], ready: true },
  ];
  for (const r of rows) t.equal(sliceSummary(slice('svc', r.endpoints))?.ready, r.ready, JSON.stringify(r.endpoints));
  t.equal(sliceSummary(slice(undefined, [])), undefined, 'slices of no Service are ignored');
});

t.test('a Service is ready when any of its slices is; changes are reported once', async (t) => {
  const r = new ServiceReadiness();
  const a = sliceSummary(slice('svc', [{ conditions: { ready: false } }]))!;
  const b = sliceSummary(slice('svc', [{ conditions: { ready: true } }]))!;
  t.equal(r.upsert('team/a', a), undefined, 'not ready before, not ready now');
  t.equal(r.isReady('team', 'svc'), false);
  t.equal(r.upsert('team/b', b), 'team/svc', 'became ready');
  t.equal(r.upsert('team/b', b), undefined, 'a replay changes nothing');
  t.equal(r.remove('team/a', a), undefined, 'another slice still ready');
  t.equal(r.remove('team/b', b), 'team/svc', 'no slice left: not ready');
  t.equal(r.isReady('team', 'other'), false, 'a Service without slices is not ready');
});

t.test('since when a served document can be read: a Job that started before may not have seen it', async (t) => {
  const r = new ServiceReadiness();
  /** A slice as the EndpointSlice controller writes it (the served-document rule trusts only those). */
  const controllerSlice = (ready: boolean, o: { managedBy?: string; targetRef?: unknown } = {}) => ({
    metadata: { namespace: 'team', name: 'svc-abc', labels: { 'kubernetes.io/service-name': 'svc', 'endpointslice.kubernetes.io/managed-by': o.managedBy ?? 'endpointslice-controller.k8s.io' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.0.7'], conditions: { ready }, targetRef: 'targetRef' in o ? o.targetRef : { kind: 'Pod', namespace: 'team', name: 'svc-1' } }],
  });
  const ready = sliceSummary(controllerSlice(true))!;
  const unready = sliceSummary(controllerSlice(false))!;
  t.equal(ready.servesDocuments, true);
  t.equal(sliceSummary(controllerSlice(true, { managedBy: 'someone' }))!.servesDocuments, false, 'a hand-written slice: ready for implementation.ready, not for a served document');
  t.equal(sliceSummary(controllerSlice(true, { managedBy: 'someone' }))!.ready, true);
  t.equal(sliceSummary(controllerSlice(true, { targetRef: undefined }))!.servesDocuments, false, 'an endpoint without a Pod');
  t.same(r.view('team', 'svc'), { ready: false });
  t.equal(r.upsert('team/a', unready, 500), undefined, 'nothing changed');
  t.equal(r.upsert('team/a', ready, 1000), 'team/svc');
  t.same(r.view('team', 'svc'), { ready: true, readySinceMs: 1000 }, 'the moment it became ready');
  r.upsert('team/b', ready, 2000);
  t.same(r.view('team', 'svc'), { ready: true, readySinceMs: 1000 }, 'another ready slice keeps the time');
  r.upsert('team/a', unready, 3000);
  r.upsert('team/b', unready, 3000);
  t.same(r.view('team', 'svc'), { ready: false }, 'not ready: no time');
  t.equal(r.upsert('team/c', sliceSummary(controllerSlice(true, { managedBy: 'someone' }))!, 3500), 'team/svc', 'a hand-written ready slice changes implementation.ready');
  t.same(r.view('team', 'svc'), { ready: false }, 'but not whether a served document can be read');
  r.upsert('team/b', ready, 4000);
  t.same(r.view('team', 'svc'), { ready: true, readySinceMs: 4000 }, 'ready again: the new time');
});

t.test('the Component entry whose uid is the ExposedAPI\'s gets ready; everything else is kept', async (t) => {
  const component = {
    status: {
      coreAPIs: [{ name: 'a', uid: 'u-a', url: 'https://x/a', ready: false }],
      managementAPIs: [{ name: 'm', uid: 'u-m', ready: false }, { name: 'n', uid: 'u-n', ready: false, developerUI: 'd' }],
      securityAPIs: [],
    },
  };
  t.same(componentReadyChange(component, 'u-n', true), {
    kind: 'patch', section: 'managementAPIs', list: [{ name: 'm', uid: 'u-m', ready: false }, { name: 'n', uid: 'u-n', ready: true, developerUI: 'd' }],
  });
  t.same(componentReadyChange(component, 'u-a', false), { kind: 'unchanged' });
  t.same(componentReadyChange(component, 'u-z', true), { kind: 'no-entry' });
  t.same(componentReadyChange({}, 'u-a', true), { kind: 'no-entry' }, 'no status yet');
  t.equal(component.status.managementAPIs[1]!.ready, false, 'the input is not changed');
});
