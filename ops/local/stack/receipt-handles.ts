// SQS gives a message a new receipt handle each time it is received, and only the latest one
// acts on it: DeleteMessage with an older one succeeds without deleting, ChangeMessageVisibility
// with one fails. The emulator forgets handles instead of telling them apart, so the local stack
// remembers every handle it saw go out in a ReceiveMessage answer.

/** What a receipt handle still means. `unknown`: never handed out here, left to the emulator. */
export type ReceiptHandleState =
  | { readonly kind: 'unknown' }
  | { readonly kind: 'current'; readonly receivedAtMs: number }
  | { readonly kind: 'stale' };

interface IssuedHandle {
  readonly messageId: string;
  readonly receivedAtMs: number;
}

interface MessageReceipts {
  latestHandle: string;
  deleted: boolean;
}

/** Enough for a load run (10,000 files) many times over; the oldest are forgotten beyond it. */
const DEFAULT_MAX_HANDLES = 200_000;

export class ReceiptHandleLedger {
  private readonly handles = new Map<string, IssuedHandle>();
  private readonly messages = new Map<string, MessageReceipts>();
  private readonly maxHandles: number;

  constructor(maxHandles = DEFAULT_MAX_HANDLES) {
    this.maxHandles = maxHandles;
  }

  /** A ReceiveMessage answer handed out `receiptHandle` for `messageId` at `receivedAtMs`. */
  received(messageId: string, receiptHandle: string, receivedAtMs: number): void {
    this.handles.set(receiptHandle, { messageId, receivedAtMs });
    this.messages.set(messageId, { latestHandle: receiptHandle, deleted: false });
    while (this.handles.size > this.maxHandles) this.forgetOldest();
  }

  stateOf(receiptHandle: string): ReceiptHandleState {
    const issued = this.handles.get(receiptHandle);
    if (issued === undefined) return { kind: 'unknown' };
    const message = this.messages.get(issued.messageId);
    if (message === undefined || message.deleted || message.latestHandle !== receiptHandle) return { kind: 'stale' };
    return { kind: 'current', receivedAtMs: issued.receivedAtMs };
  }

  /** The message was deleted with its current handle: every handle of it is stale from now on. */
  deleted(receiptHandle: string): void {
    const issued = this.handles.get(receiptHandle);
    const message = issued && this.messages.get(issued.messageId);
    if (message !== undefined && message.latestHandle === receiptHandle) message.deleted = true;
  }

  private forgetOldest(): void {
    const oldest = this.handles.entries().next();
    if (oldest.done === true) return;
    const [receiptHandle, { messageId }] = oldest.value;
    this.handles.delete(receiptHandle);
    if (this.messages.get(messageId)?.latestHandle === receiptHandle) this.messages.delete(messageId);
  }
}
