import { expect } from 'chai';
import { ReferenceGraph, type HeldRef } from '../../../src/model/store/reference-graph.ts';
import { book, shelf, toyTable, type Toy } from './toy-objects.ts';

describe('model/store/reference graph', () => {
  function library() {
    const { tx, table } = toyTable();
    const held: HeldRef<Toy['kind']>[] = [];
    const graph = new ReferenceGraph<Toy>(table, {
      refsOf: (object) => (object.kind === 'book' ? [{ kind: 'shelf', name: object.shelf }] : []),
      heldRefs: () => held,
    });
    tx.run(() => {
      table.put(shelf('s1'));
      table.put(shelf('s2'));
      table.put(book('b1', 's1'));
      table.put(book('b2', 's1'));
    });
    return { tx, table, graph, held };
  }

  it('answers who refers to an object: objects in table order, then held refs', () => {
    const { graph, held } = library();
    held.push({ user: { kind: 'shelf', name: 's2' }, target: { kind: 'shelf', name: 's1' } });
    expect(graph.usersOf('shelf', 's1')).to.deep.equal([
      { kind: 'book', name: 'b1' },
      { kind: 'book', name: 'b2' },
      { kind: 'shelf', name: 's2' },
    ]);
    expect(graph.isUsed('shelf', 's2')).to.equal(false);
    expect(graph.isUsed('book', 'b1')).to.equal(false);
  });

  it('names a user once however many held refs it has to the same target', () => {
    const { graph, held } = library();
    const user = { kind: 'book' as const, name: 'b1' };
    held.push({ user, target: { kind: 'shelf', name: 's2' } }, { user, target: { kind: 'shelf', name: 's2' } });
    expect(graph.usersOf('shelf', 's2')).to.deep.equal([user]);
  });

  it('follows the table: a removed user no longer counts, a rolled-back removal counts again', () => {
    const { tx, table, graph } = library();
    tx.run(() => table.remove('book', 'b1'));
    expect(graph.usersOf('shelf', 's1')).to.deep.equal([{ kind: 'book', name: 'b2' }]);
    expect(() =>
      tx.run(() => {
        table.remove('book', 'b2');
        expect(graph.isUsed('shelf', 's1')).to.equal(false);
        throw new Error('changed my mind');
      }),
    ).to.throw('changed my mind');
    expect(graph.isUsed('shelf', 's1')).to.equal(true);
  });
});
