// ChangeTracker.objectsOf: a partial sync's objects are the changed services' own Service and
// EndpointSlices, found through the tracker's slice index as slices come, move between services and go.
import assert from 'node:assert/strict';
import test from 'node:test';
import { ChangeTracker } from '../../../src/core/proxier/changes.js';
import { node, service, slice } from './fakes.js';

const names = (o: { services: Array<{ metadata?: { name?: string } }>; endpointSlices: Array<{ metadata?: { name?: string; labels?: Record<string, string> } }> }) => ({
  services: o.services.map((s) => s.metadata!.name).sort(),
  slices: o.endpointSlices.map((s) => `${s.metadata!.name}->${s.metadata!.labels!['kubernetes.io/service-name']}`).sort(),
});

test('objectsOf gives the changed services and their slices, following slices that move or go', () => {
  const t = new ChangeTracker('node-a');
  t.replaceAll({ services: [service('web', '10.96.0.10'), service('db', '10.96.0.11')], endpointSlices: [slice('web', ['10.244.1.5']), slice('db', ['10.244.1.6'])], nodes: [node('node-a')] });
  assert.deepEqual(names(t.objectsOf(['ns/web'])), { services: ['web'], slices: ['web-1->web'] });
  assert.equal(t.objectsOf(['ns/web']).nodes.length, 1);

  // a second slice for web, then web-1 relabelled to db (the index follows the label, not the name)
  t.upsertSlice({ ...slice('web', ['10.244.1.7']), metadata: { ...slice('web', []).metadata, name: 'web-2' } });
  const moved = slice('web', ['10.244.1.5']);
  moved.metadata!.labels = { 'kubernetes.io/service-name': 'db' };
  t.upsertSlice(moved);
  assert.deepEqual(names(t.objectsOf(['ns/web'])), { services: ['web'], slices: ['web-2->web'] });
  assert.deepEqual(names(t.objectsOf(['ns/db'])), { services: ['db'], slices: ['db-1->db', 'web-1->db'] });
  assert.deepEqual(t.take().services, new Set(['ns/web', 'ns/db']), 'both services are pending');

  // deletions: the slice and the service leave the index
  t.deleteSlice('ns/web-1');
  t.deleteService('ns/db');
  assert.deepEqual(names(t.objectsOf(['ns/db', 'ns/gone'])), { services: [], slices: ['db-1->db'] });
  // a re-list that drops everything of web
  t.replaceAll({ services: [], endpointSlices: [slice('db', ['10.244.1.6'])], nodes: [node('node-a')] });
  assert.deepEqual(names(t.objectsOf(['ns/web', 'ns/db'])), { services: [], slices: ['db-1->db'] });
});
