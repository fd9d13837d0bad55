import { DomainError, type Decider } from "../../lib/eventlog/decider";

/**
 * Barcodes a partner chose: ours are 128 random bits, theirs are whatever their scanners read,
 * so two of their tickets could share one. The door finds a ticket by its barcode, so each
 * imported barcode is claimed first, on a stream of its own (the log's unique stream version
 * makes the first claim win), and a second ticket with it is refused before it is imported.
 */
export interface ClaimBarcode {
  type: "ClaimBarcode";
  barcode: string;
  ticketId: string;
  orderId: string;
}

export interface BarcodeClaimed {
  type: "BarcodeClaimed";
  data: { barcode: string; ticketId: string; orderId: string };
}

export type BarcodeState = BarcodeClaimed["data"] | null;

export function barcodeStream(barcode: string): string {
  return `barcode-${barcode}`;
}

export const barcodeDecider: Decider<ClaimBarcode, BarcodeClaimed, BarcodeState> = {
  initialState: () => null,
  decide: (command, state) => {
    if (!state) {
      return [
        { type: "BarcodeClaimed", data: { barcode: command.barcode, ticketId: command.ticketId, orderId: command.orderId } },
      ];
    }
    // The same ticket again (a repeated message): nothing to do.
    if (state.ticketId === command.ticketId) return [];
    throw new DomainError(
      "BARCODE_TAKEN",
      `barcode ${command.barcode} already belongs to ticket ${state.ticketId} of order ${state.orderId}`,
      409,
      { barcode: command.barcode, ticketId: state.ticketId },
    );
  },
  evolve: (_state, event) => event.data,
};
