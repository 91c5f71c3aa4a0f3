import { Table } from '../../../src/model/store/table.ts';
import { Transaction } from '../../../src/model/store/transaction.ts';

/** Two toy kinds: the table, transaction and graph are generic, so their tests need no config kind. */
export interface Shelf {
  readonly kind: 'shelf';
  readonly uuid: string;
  readonly name: string;
}
export interface Book {
  readonly kind: 'book';
  readonly uuid: string;
  readonly name: string;
  readonly shelf: string;
  readonly title?: string;
}
export type Toy = Shelf | Book;

export function toyTable(): { tx: Transaction<Toy['kind']>; table: Table<Toy> } {
  const tx = new Transaction<Toy['kind']>();
  return { tx, table: new Table<Toy>(['shelf', 'book'], tx) };
}

export const shelf = (name: string): Shelf => ({ kind: 'shelf', uuid: `u-${name}`, name });
export const book = (name: string, on: string, title?: string): Book => ({ kind: 'book', uuid: `u-${name}`, name, shelf: on, ...(title ? { title } : {}) });
