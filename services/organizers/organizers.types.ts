import type { CommandBase } from "../../lib/domain/actor";
import type { ExternalSource } from "../../lib/domain/external";
import type { ReadDoc } from "../../lib/eventlog/projection";

export const LEGAL_TYPES = ["ru_ltd", "ru_lp", "en_ltd"] as const;
/** ru_ltd: Russian legal entity; ru_lp: Russian sole entrepreneur; en_ltd: foreign company. */
export type LegalType = (typeof LEGAL_TYPES)[number];

export interface OrganizerLegals {
  name: string;
  type: LegalType;
  inn?: string;
  /** OGRN for ru_ltd, OGRNIP for ru_lp, a registration number of any form for en_ltd. */
  ogrn?: string;
  address?: string;
}

export interface Organizer {
  id: string;
  name: string;
  legals?: OrganizerLegals;
  /** Set when the organizer was imported from a partner's stream. */
  source?: ExternalSource;
  /** Imported organizers: the partner's `updated_at` of the version applied. */
  sourceUpdatedAt?: number;
}

/** null until the organizer is created. */
export type OrganizerState = Organizer | null;

/** What an event shows of its organizer, loaded by the service from the organizer's stream. */
export interface OrganizerSnapshot {
  id: string;
  name: string;
}

export interface CreateOrganizer extends CommandBase {
  type: "CreateOrganizer";
  id: string;
  name: string;
  legals?: OrganizerLegals;
}

/** Absent fields stay as they are; `legals: null` removes the legal details. */
export interface UpdateOrganizer extends CommandBase {
  type: "UpdateOrganizer";
  id: string;
  name?: string;
  legals?: OrganizerLegals | null;
}

/** A partner's organizer as its stream describes it now: created, or replaced when it changed. */
export interface ImportOrganizer extends CommandBase {
  type: "ImportOrganizer";
  id: string;
  source: ExternalSource;
  /** The partner's `updated_at`: an older version arriving late changes nothing. */
  updatedAt?: number;
  name: string;
  /** Without a legal type: it is inferred from the registration numbers. */
  legals?: { name: string; inn?: string; ogrn?: string; ogrnip?: string; address?: string };
}

export type OrganizerCommand = CreateOrganizer | UpdateOrganizer | ImportOrganizer;

export interface OrganizerCreated {
  type: "OrganizerCreated";
  data: Organizer;
}

/** Carries the changed fields only. */
export interface OrganizerUpdated {
  type: "OrganizerUpdated";
  data: { id: string; name?: string; legals?: OrganizerLegals | null };
}

/** The whole imported organizer (with its source), on creation and on every change. */
export interface OrganizerImported {
  type: "OrganizerImported";
  data: Organizer & { source: ExternalSource };
}

export type OrganizerEvent = OrganizerCreated | OrganizerUpdated | OrganizerImported;

export interface OrganizerDoc extends ReadDoc {
  id: string;
  name: string;
  legals: OrganizerLegals | null;
  /** The partner it was imported from; absent (or null) for our own organizers. */
  source?: ExternalSource | null;
  createdAt: number;
  updatedAt: number;
}

export function organizerStream(id: string): string {
  return `organizer-${id}`;
}
