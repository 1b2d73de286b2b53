import assert from 'node:assert/strict';
import { it } from 'node:test';
import { closeNames, editDistance } from '../../src/core/suggest.js';

it('edit distance counts insertions, deletions and substitutions', () => {
  assert.equal(editDistance('web', 'webb'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
});

it('suggests close names first and leaves unrelated ones out', () => {
  assert.deepEqual(closeNames('shop/webb', ['shop/web', 'shop/cart', 'kube-system/kube-dns', 'shop/web2']), ['shop/web', 'shop/web2']);
  assert.deepEqual(closeNames('dns', ['kube-system/kube-dns', 'shop/web']), ['kube-system/kube-dns']);
  assert.deepEqual(closeNames('zzz', ['shop/web']), []);
});
