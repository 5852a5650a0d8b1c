/**
 * The bound on the memory the files in flight may hold (MAX_BYTES_IN_FLIGHT_MIB): a weighted semaphore.
 * A file reserves what it may hold before it starts and gives it back when it ends. Reservations are
 * granted in the order they were asked for, so a large file is not passed over for ever by small ones;
 * one larger than the whole budget is granted the whole budget, and so runs alone.
 */

/** What one file holds of the budget; `release` may be called more than once. */
export interface ByteReservation {
  readonly bytes: number;
  release(): void;
}

interface Waiter {
  readonly bytes: number;
  readonly grant: (reservation: ByteReservation) => void;
}

export class ByteBudget {
  readonly capacityBytes: number;
  private reserved = 0;
  private readonly waiters: Waiter[] = [];

  constructor(capacityBytes: number) {
    if (!Number.isSafeInteger(capacityBytes) || capacityBytes < 1) throw new RangeError(`a byte budget must be a whole number of bytes, at least 1; got ${capacityBytes}`);
    this.capacityBytes = capacityBytes;
  }

  /** Bytes held by the reservations granted and not yet released. */
  get reservedBytes(): number {
    return this.reserved;
  }

  /** Reservations asked for and not yet granted. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Resolves once `bytes` (at most the whole budget) are reserved; rejects with the signal's reason if
   * it is aborted first, leaving nothing reserved.
   */
  acquire(bytes: number, signal?: AbortSignal): Promise<ByteReservation> {
    if (!Number.isFinite(bytes) || bytes < 0) return Promise.reject(new RangeError(`a reservation must be a number of bytes, at least 0; got ${bytes}`));
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
    const wanted = Math.min(Math.ceil(bytes), this.capacityBytes);
    if (this.waiters.length === 0 && this.fits(wanted)) return Promise.resolve(this.grant(wanted));
    return new Promise<ByteReservation>((resolve, reject) => {
      const onAbort = () => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(signal?.reason as Error);
        // The head may have been what held the others back.
        this.grantWaiting();
      };
      const waiter: Waiter = {
        bytes: wanted,
        grant: (reservation) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(reservation);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private fits(bytes: number): boolean {
    return this.reserved + bytes <= this.capacityBytes;
  }

  private grant(bytes: number): ByteReservation {
    this.reserved += bytes;
    let held = true;
    return {
      bytes,
      release: () => {
        if (!held) return;
        held = false;
        this.reserved -= bytes;
        this.grantWaiting();
      },
    };
  }

  private grantWaiting(): void {
    for (let head = this.waiters[0]; head !== undefined && this.fits(head.bytes); head = this.waiters[0]) {
      this.waiters.shift();
      head.grant(this.grant(head.bytes));
    }
  }
}
