import { expect } from 'chai';
import { book, shelf, toyTable } from './toy-objects.ts';

describe('model/store/table', () => {
  it('lists kinds in table order and objects in insertion order; finds by uuid', () => {
    const { tx, table } = toyTable();
    tx.run(() => {
      table.put(book('b2', 's1'));
      table.put(shelf('s1'));
      table.put(book('b1', 's1'));
    });
    expect(table.list('book').map((b) => b.name)).to.deep.equal(['b2', 'b1']);
    expect([...table.all()].map((o) => o.name)).to.deep.equal(['s1', 'b2', 'b1']);
    expect(table.getByUuid('u-b1')).to.deep.include({ kind: 'book', name: 'b1' });
    expect(table.get('shelf', 'nope')).to.equal(undefined);
  });

  it('an update keeps the place, re-indexes a new uuid, and is recorded as one update', () => {
    const { tx, table } = toyTable();
    tx.run(() => ['a', 'b'].forEach((name) => table.put(book(name, 's'))));
    let changes: unknown;
    tx.run(() => table.put({ ...book('a', 's', 'new'), uuid: 'u-a2' }), { afterCommit: (c) => (changes = c) });
    expect(table.list('book').map((b) => `${b.name}:${b.title ?? ''}`)).to.deep.equal(['a:new', 'b:']);
    expect(table.getByUuid('u-a')).to.equal(undefined);
    expect(table.getByUuid('u-a2')?.name).to.equal('a');
    expect(changes).to.deep.equal([{ op: 'update', kind: 'book', name: 'a' }]);
  });

  it('removing something absent is no change', () => {
    const { tx, table } = toyTable();
    let announced = 0;
    tx.run(() => table.remove('book', 'ghost'), { afterCommit: () => announced++ });
    expect(announced).to.equal(0);
  });

  it('refuses an unknown kind with a TypeError', () => {
    const { table } = toyTable();
    expect(() => table.list('lamp' as never)).to.throw(TypeError, 'unknown config kind "lamp"');
  });
});
