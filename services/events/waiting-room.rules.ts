import { instant } from "../../lib/domain/time";
import { invalid } from "../../lib/domain/validation";
import type {
  AdmissionRate,
  CatalogueEvent,
  ConfigureWaitingRoom,
  EventStreamEvent,
  RemoveWaitingRoom,
  WaitingRoomConfigured,
  WaitingRoomRemoved,
} from "./events.types";

/** Admissions per second a fixed rate may ask for. */
export const MAX_ADMISSION_RATE = 10_000;

/**
 * The waiting room of an event (the organizer's or an admin's decision, checked by the event
 * decider before these rules run). Its start may lie in the past: a room turned on during a
 * sale simply orders everyone first come, first served.
 */
export function decideConfigureWaitingRoom(command: ConfigureWaitingRoom, state: CatalogueEvent): EventStreamEvent[] {
  const opensAt = instant(command.opensAt, "opensAt");
  const rate = admissionRate(command.rate);
  if (state.endsAt !== null && opensAt >= state.endsAt) throw invalid("opensAt", "must be before the event ends");
  const current = state.waitingRoom;
  // The same settings again (a retried click) change nothing.
  if (current && current.opensAt === opensAt && current.rate === rate) return [];
  return [{ type: "WaitingRoomConfigured", data: { id: state.id, opensAt, rate } }];
}

export function decideRemoveWaitingRoom(_command: RemoveWaitingRoom, state: CatalogueEvent): EventStreamEvent[] {
  return state.waitingRoom ? [{ type: "WaitingRoomRemoved", data: { id: state.id } }] : [];
}

export function evolveWaitingRoom(state: CatalogueEvent, event: WaitingRoomConfigured | WaitingRoomRemoved): CatalogueEvent {
  if (event.type === "WaitingRoomRemoved") return { ...state, waitingRoom: null };
  const { opensAt, rate } = event.data;
  return { ...state, waitingRoom: { opensAt, rate } };
}

function admissionRate(value: unknown): AdmissionRate {
  if (value === "auto") return value;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_ADMISSION_RATE) {
    throw invalid("rate", `must be an integer from 1 to ${MAX_ADMISSION_RATE} (admissions per second) or "auto"`);
  }
  return value;
}
