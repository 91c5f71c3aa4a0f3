import { expect } from 'chai';
import { SideTables, coalesce, sideTable, type TableChange } from '../../../src/model/store/transaction.ts';
import { book, shelf, toyTable, type Toy } from './toy-objects.ts';

const names = (changes: readonly TableChange[]): string[] => changes.map((c) => `${c.op} ${c.kind} ${c.name}`);

describe('model/store/transaction', () => {
  it('commits: afterCommit runs once, after the undo log is gone, and sees the committed table', () => {
    const { tx, table } = toyTable();
    const seen: string[][] = [];
    tx.run(
      () => {
        table.put(shelf('s1'));
        table.put(book('b1', 's1'));
      },
      {
        afterCommit: (changes) => {
          expect(tx.open).to.equal(false);
          expect(table.get('book', 'b1')?.shelf).to.equal('s1');
          seen.push(names(changes));
        },
      },
    );
    expect(seen).to.deep.equal([['create shelf s1', 'create book b1']]);
  });

  it('rolls back every write of a failed transaction, in any order, and announces nothing', () => {
    const { tx, table } = toyTable();
    const side = new SideTables(tx);
    const owners = sideTable<string, string>('owners');
    tx.run(() => {
      for (const name of ['a', 'b', 'c']) table.put(book(name, 's'));
      side.get(owners).set('a', 'alice');
    });
    const before = JSON.stringify([...table.all()]);
    let announced = 0;
    expect(() =>
      tx.run(
        () => {
          table.remove('book', 'a');
          table.put(book('b', 's', 'changed'));
          table.put(book('d', 's'));
          side.get(owners).delete('a');
          side.get(owners).set('d', 'dora');
          throw new Error('refused');
        },
        { afterCommit: () => announced++ },
      ),
    ).to.throw('refused');
    expect(JSON.stringify([...table.all()])).to.equal(before);
    expect(table.getByUuid('u-a')?.name).to.equal('a');
    expect(table.getByUuid('u-d')).to.equal(undefined);
    expect([...side.get(owners).entries()]).to.deep.equal([['a', 'alice']]);
    expect(announced).to.equal(0);
    expect(tx.open).to.equal(false);
  });

  it('a failure in beforeCommit (the reconcile step) rolls back the work too', () => {
    const { tx, table } = toyTable();
    let announced = 0;
    expect(() =>
      tx.run(() => table.put(shelf('s1')), {
        beforeCommit: () => {
          throw new Error('driver said no');
        },
        afterCommit: () => announced++,
      }),
    ).to.throw('driver said no');
    expect(table.list('shelf')).to.deep.equal([]);
    expect(announced).to.equal(0);
  });

  it('an inner run joins the outer transaction: one commit, one announcement, one rollback', () => {
    const { tx, table } = toyTable();
    const announced: string[][] = [];
    const hooks = { afterCommit: (changes: readonly TableChange<Toy['kind']>[]) => announced.push(names(changes)) };
    tx.run(() => {
      tx.run(() => table.put(shelf('s1')), hooks);
      tx.run(() => table.put(shelf('s2')), hooks);
      expect(announced).to.deep.equal([]);
    }, hooks);
    expect(announced).to.deep.equal([['create shelf s1', 'create shelf s2']]);
    expect(() =>
      tx.run(() => {
        tx.run(() => table.remove('shelf', 's1'), hooks);
        throw new Error('outer fails');
      }, hooks),
    ).to.throw('outer fails');
    expect(table.list('shelf').map((s) => s.name)).to.deep.equal(['s1', 's2']);
    expect(announced).to.have.length(1);
  });

  it('translateError replaces what is thrown, after the rollback', () => {
    const { tx, table } = toyTable();
    expect(() =>
      tx.run(
        () => {
          table.put(shelf('s1'));
          throw new RangeError('inner');
        },
        { translateError: (error) => new TypeError(`wrapped: ${(error as Error).message}`) },
      ),
    ).to.throw(TypeError, 'wrapped: inner');
    expect(table.has('shelf', 's1')).to.equal(false);
  });

  it('a transaction that changes nothing (identical writes) announces nothing', () => {
    const { tx, table } = toyTable();
    tx.run(() => table.put(shelf('s1')));
    let announced = 0;
    tx.run(() => table.put(shelf('s1')), { afterCommit: () => announced++ });
    expect(announced).to.equal(0);
  });

  it('coalesces to one change per object', () => {
    const change = (op: TableChange['op'], name: string): TableChange => ({ op, kind: 'k', name });
    expect(
      names(coalesce([change('create', 'a'), change('update', 'a'), change('create', 'b'), change('delete', 'b'), change('delete', 'c'), change('create', 'c'), change('update', 'd'), change('delete', 'd')])),
    ).to.deep.equal(['create k a', 'update k c', 'delete k d']);
  });
});
