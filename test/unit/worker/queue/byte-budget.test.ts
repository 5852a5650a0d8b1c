import { describe, expect, it } from '@jest/globals';
import { ByteBudget, type ByteReservation } from '../../../../worker/queue/byte-budget.ts';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Tracks which of the reservations asked for have been granted, in order. */
function recorder() {
  const granted: string[] = [];
  const held = new Map<string, ByteReservation>();
  const ask = (budget: ByteBudget, name: string, bytes: number, signal?: AbortSignal) =>
    budget.acquire(bytes, signal).then((reservation) => {
      granted.push(name);
      held.set(name, reservation);
      return reservation;
    });
  return { granted, held, ask, release: (name: string) => held.get(name)?.release() };
}

describe('ByteBudget', () => {
  it('grants what fits at once and counts it as reserved', async () => {
    // Prepare
    const budget = new ByteBudget(100);
    // Act
    const first = await budget.acquire(60);
    const second = await budget.acquire(40);
    // Assess
    expect([first.bytes, second.bytes]).toStrictEqual([60, 40]);
    expect(budget.reservedBytes).toBe(100);
    expect(budget.waiting).toBe(0);
  });

  it('makes a reservation that does not fit wait until enough is released', async () => {
    // Prepare
    const budget = new ByteBudget(100);
    const files = recorder();
    await files.ask(budget, 'a', 70);
    void files.ask(budget, 'b', 50);
    await flush();
    const grantedBefore = [...files.granted];
    // Act
    files.release('a');
    await flush();
    // Assess
    expect(grantedBefore).toStrictEqual(['a']);
    expect(files.granted).toStrictEqual(['a', 'b']);
    expect(budget.reservedBytes).toBe(50);
  });

  it('grants in the order asked: a small reservation that would fit waits behind a large one', async () => {
    // Prepare
    const budget = new ByteBudget(100);
    const files = recorder();
    await files.ask(budget, 'running', 60);
    void files.ask(budget, 'large', 80);
    void files.ask(budget, 'small', 10);
    await flush();
    const grantedWhileLargeWaits = [...files.granted];
    // Act
    files.release('running');
    await flush();
    // Assess
    expect(grantedWhileLargeWaits).toStrictEqual(['running']);
    expect(files.granted).toStrictEqual(['running', 'large', 'small']);
    expect(budget.reservedBytes).toBe(90);
  });

  it('grants a reservation larger than the whole budget the whole budget, once nothing else is held, so it runs alone', async () => {
    // Prepare
    const budget = new ByteBudget(100);
    const files = recorder();
    await files.ask(budget, 'small', 1);
    const oversized = files.ask(budget, 'oversized', 1_000);
    void files.ask(budget, 'after', 1);
    await flush();
    const grantedBefore = [...files.granted];
    // Act
    files.release('small');
    // Assess
    await expect(oversized).resolves.toMatchObject({ bytes: 100 });
    expect(grantedBefore).toStrictEqual(['small']);
    expect(files.granted).toStrictEqual(['small', 'oversized']);
    files.release('oversized');
    await flush();
    expect(files.granted).toStrictEqual(['small', 'oversized', 'after']);
  });

  it('frees a reservation once, however often it is released', async () => {
    // Prepare
    const budget = new ByteBudget(100);
    const first = await budget.acquire(60);
    await budget.acquire(40);
    // Act
    first.release();
    first.release();
    // Assess
    expect(budget.reservedBytes).toBe(40);
  });

  it('drops a waiting reservation whose signal is aborted, rejecting with its reason, and lets the ones behind it through', async () => {
    // Prepare
    const budget = new ByteBudget(100);
    const files = recorder();
    await files.ask(budget, 'running', 50);
    const abort = new AbortController();
    const large = files.ask(budget, 'large', 80, abort.signal);
    void files.ask(budget, 'small', 30);
    await flush();
    // Act
    const reason = new Error('shutdown grace period over');
    abort.abort(reason);
    // Assess
    await expect(large).rejects.toBe(reason);
    await flush();
    expect(files.granted).toStrictEqual(['running', 'small']);
    expect(budget.reservedBytes).toBe(80);
    expect(budget.waiting).toBe(0);
  });

  it('refuses at once a reservation whose signal is already aborted, reserving nothing', async () => {
    const budget = new ByteBudget(100);
    const reason = new Error('gone');
    await expect(budget.acquire(10, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(budget.reservedBytes).toBe(0);
  });

  it('keeps a granted reservation when its signal is aborted later: the file owns it until it releases it', async () => {
    const budget = new ByteBudget(100);
    const abort = new AbortController();
    await budget.acquire(10, abort.signal);
    abort.abort();
    expect(budget.reservedBytes).toBe(10);
  });

  it('keeps a reservation granted after a wait when its signal is aborted later, and the ones still waiting in line', async () => {
    // Prepare
    const budget = new ByteBudget(100);
    const files = recorder();
    const abort = new AbortController();
    await files.ask(budget, 'a', 60);
    void files.ask(budget, 'b', 50, abort.signal);
    void files.ask(budget, 'c', 60);
    await flush();
    files.release('a');
    await flush();
    // Act
    abort.abort();
    files.release('b');
    await flush();
    // Assess
    expect(files.granted).toStrictEqual(['a', 'b', 'c']);
    expect(budget.reservedBytes).toBe(60);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a reservation of %p bytes', async (bytes) => {
    await expect(new ByteBudget(100).acquire(bytes)).rejects.toThrow(RangeError);
  });

  it.each([0, 1.5, -10])('refuses a budget of %p bytes', (bytes) => {
    expect(() => new ByteBudget(bytes)).toThrow(RangeError);
  });
});
