import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import { insertDoc, updateDoc } from "../../lib/domain/read-docs";
import type { Projection } from "../../lib/eventlog/projection";
import type { OrganizerCreated, OrganizerDoc, OrganizerImported, OrganizerUpdated } from "./organizers.types";

export const organizersProjection: Projection<OrganizerDoc> = {
  name: "catalogue.organizers",
  log: CATALOGUE_LOG,
  collection: "organizers",
  apply: async (event, view) => {
    switch (event.type) {
      case "OrganizerCreated": {
        const { id, name, legals } = event.data as OrganizerCreated["data"];
        return insertDoc(view, { _id: id, id, name, legals: legals ?? null, createdAt: event.at, updatedAt: event.at });
      }
      case "OrganizerImported": {
        const { id, name, legals, source } = event.data as OrganizerImported["data"];
        const doc = await view.get(id);
        view.put({
          _id: id,
          id,
          name,
          legals: legals ?? null,
          source,
          createdAt: doc?.createdAt ?? event.at,
          updatedAt: event.at,
        });
        return;
      }
      case "OrganizerUpdated": {
        const { id, name, legals } = event.data as OrganizerUpdated["data"];
        return updateDoc(view, id, event.at, (doc): OrganizerDoc => ({
          ...doc,
          name: name ?? doc.name,
          legals: legals === undefined ? doc.legals : legals,
        }));
      }
    }
  },
};
