import { actingOrganizer, alreadyExists, forbidden, isAdmin, notFound, requireOwner } from "../../lib/domain/actor";
import { checkSameSource, importedElsewhere } from "../../lib/domain/external";
import { id } from "../../lib/domain/ids";
import { isValidLegalEntityInn, isValidOgrn, isValidOgrnip, isValidPersonalInn } from "../../lib/domain/legal";
import { compact, deepEqual } from "../../lib/domain/objects";
import { invalid, oneOf, optionalText, record, text } from "../../lib/domain/validation";
import type { Decider } from "../../lib/eventlog/decider";
import {
  LEGAL_TYPES,
  type CreateOrganizer,
  type ImportOrganizer,
  type Organizer,
  type OrganizerCommand,
  type OrganizerEvent,
  type OrganizerImported,
  type OrganizerLegals,
  type OrganizerSnapshot,
  type OrganizerState,
  type UpdateOrganizer,
} from "./organizers.types";

const NAME = { max: 200 };

function decideCreate(command: CreateOrganizer, state: OrganizerState): OrganizerEvent[] {
  const organizerId = id(command.id, "id");
  // An organizer account may register only the organizer its token names; others are set up by admins.
  if (!isAdmin(command.actor) && actingOrganizer(command.actor) !== organizerId) {
    throw forbidden("an organizer account may only create its own organizer");
  }
  if (state) throw alreadyExists("organizer", organizerId);
  const created: Organizer = compact({
    id: organizerId,
    name: text(command.name, "name", NAME),
    legals: command.legals === undefined ? undefined : legals(command.legals),
  });
  return [{ type: "OrganizerCreated", data: created }];
}

function decideUpdate(command: UpdateOrganizer, state: OrganizerState): OrganizerEvent[] {
  if (!state) throw notFound("organizer", command.id);
  requireOwner(command.actor, state.id, "this organizer");
  const name = optionalText(command.name, "name", NAME);
  const nextLegals = command.legals === undefined || command.legals === null ? command.legals : legals(command.legals);
  const changes = compact({
    name: name !== undefined && name !== state.name ? name : undefined,
    legals: nextLegals !== undefined && !deepEqual(nextLegals ?? undefined, state.legals) ? nextLegals : undefined,
  });
  if (Object.keys(changes).length === 0) return [];
  return [{ type: "OrganizerUpdated", data: { id: state.id, ...changes } }];
}

/**
 * A partner's organizer: validated as ours are; an unchanged one appends nothing, so a message
 * delivered again changes nothing, and neither does a version older than the one applied (by
 * the partner's updated_at), as for events. The legal type comes from the registration numbers:
 * an OGRNIP or a 12-digit INN is a sole entrepreneur, an OGRN or a 10-digit INN a company, else foreign.
 */
function decideImport(command: ImportOrganizer, state: OrganizerState): OrganizerEvent[] {
  const organizerId = id(command.id, "id");
  if (state) checkSameSource("organizer", organizerId, state.source, command.source);
  const applied = state?.sourceUpdatedAt;
  if (applied !== undefined && command.updatedAt !== undefined && command.updatedAt < applied) return [];
  const input = command.legals;
  const next: Organizer = compact({
    id: organizerId,
    name: text(command.name, "name", NAME),
    legals:
      input === undefined
        ? undefined
        : legals({
            name: input.name,
            type: legalTypeOf(input),
            inn: input.inn,
            ogrn: input.ogrn ?? input.ogrnip,
            address: input.address,
          }),
    source: { partner: command.source.partner, id: command.source.id },
    sourceUpdatedAt: command.updatedAt ?? applied,
  });
  if (deepEqual(next, state)) return [];
  return [{ type: "OrganizerImported", data: next as OrganizerImported["data"] }];
}

function legalTypeOf(input: NonNullable<ImportOrganizer["legals"]>): OrganizerLegals["type"] {
  if (input.ogrnip !== undefined) return "ru_lp";
  if (input.ogrn !== undefined) return "ru_ltd";
  if (input.inn !== undefined && /^\d{12}$/.test(input.inn)) return "ru_lp";
  if (input.inn !== undefined && /^\d{10}$/.test(input.inn)) return "ru_ltd";
  return "en_ltd";
}

function legals(value: unknown): OrganizerLegals {
  const input = record(value, "legals");
  const type = oneOf(input.type, "legals.type", LEGAL_TYPES);
  const inn = optionalText(input.inn, "legals.inn", { max: 50 });
  const ogrn = optionalText(input.ogrn, "legals.ogrn", { max: 50 });
  if (type === "ru_ltd") {
    if (inn !== undefined && !isValidLegalEntityInn(inn))
      throw invalid("legals.inn", "must be a valid 10-digit INN of a legal entity");
    if (ogrn !== undefined && !isValidOgrn(ogrn)) throw invalid("legals.ogrn", "must be a valid 13-digit OGRN");
  }
  if (type === "ru_lp") {
    if (inn !== undefined && !isValidPersonalInn(inn))
      throw invalid("legals.inn", "must be a valid 12-digit INN of an individual");
    if (ogrn !== undefined && !isValidOgrnip(ogrn)) throw invalid("legals.ogrn", "must be a valid 15-digit OGRNIP");
  }
  return compact({
    name: text(input.name, "legals.name", { max: 300 }),
    type,
    inn,
    ogrn,
    address: optionalText(input.address, "legals.address", { max: 500 }),
  });
}

export const organizerDecider: Decider<OrganizerCommand, OrganizerEvent, OrganizerState> = {
  initialState: () => null,
  decide: (command, state) => {
    if (state?.source && command.type !== "ImportOrganizer") throw importedElsewhere("organizer", state.id, state.source);
    switch (command.type) {
      case "ImportOrganizer":
        return decideImport(command, state);
      case "CreateOrganizer":
        return decideCreate(command, state);
      case "UpdateOrganizer":
        return decideUpdate(command, state);
    }
  },
  evolve: (state, event) => {
    switch (event.type) {
      case "OrganizerCreated":
      case "OrganizerImported":
        return event.data;
      case "OrganizerUpdated": {
        const current = created(state);
        const { name, legals: nextLegals } = event.data;
        return compact({
          ...current,
          name: name ?? current.name,
          legals: nextLegals === undefined ? current.legals : (nextLegals ?? undefined),
        });
      }
    }
  },
};

function created(state: OrganizerState): Organizer {
  if (!state) throw new Error("organizer stream has an update before its creation");
  return state;
}

/** What an event keeps of its organizer (the service loads it before creating the event). */
export function organizerSnapshot(state: OrganizerState): OrganizerSnapshot | null {
  return state && { id: state.id, name: state.name };
}
