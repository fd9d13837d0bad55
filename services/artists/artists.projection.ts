import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import { insertDoc, updateDoc } from "../../lib/domain/read-docs";
import { searchKey } from "../../lib/domain/text";
import type { Projection } from "../../lib/eventlog/projection";
import type {
  ArtistCreated,
  ArtistDoc,
  ArtistMusicIdChanged,
  ArtistUpdated,
  DiscographySynced,
  DiscographySyncFailed,
} from "./artists.types";

/** A new music id starts over: nothing synced for it yet. */
function unsynced(yandexMusicId: string | null): Pick<ArtistDoc, "yandexMusicId" | "discography" | "sync"> {
  return {
    yandexMusicId,
    discography: null,
    sync: { status: yandexMusicId ? "pending" : "none", syncedAt: null, failure: null },
  };
}

export const artistsProjection: Projection<ArtistDoc> = {
  name: "catalogue.artists",
  log: CATALOGUE_LOG,
  collection: "artists",
  indexes: [{ field: "nameKey" }, { field: "ownerOrganizerId" }],
  apply: async (event, view) => {
    switch (event.type) {
      case "ArtistCreated": {
        const data = event.data as ArtistCreated["data"];
        return insertDoc(view, {
          _id: data.id,
          id: data.id,
          name: data.name,
          nameKey: searchKey(data.name),
          genres: data.genres,
          links: data.links,
          ownerOrganizerId: data.ownerOrganizerId ?? null,
          ...unsynced(data.yandexMusicId ?? null),
          createdAt: event.at,
          updatedAt: event.at,
        });
      }
      case "ArtistUpdated": {
        const { id, name, genres, links } = event.data as ArtistUpdated["data"];
        return updateDoc(view, id, event.at, (doc): ArtistDoc => ({
          ...doc,
          name: name ?? doc.name,
          nameKey: searchKey(name ?? doc.name),
          genres: genres ?? doc.genres,
          links: links ?? doc.links,
        }));
      }
      case "ArtistMusicIdChanged": {
        const { id, yandexMusicId } = event.data as ArtistMusicIdChanged["data"];
        return updateDoc(view, id, event.at, (doc): ArtistDoc => ({ ...doc, ...unsynced(yandexMusicId) }));
      }
      case "DiscographySynced": {
        const { id, discography } = event.data as DiscographySynced["data"];
        return updateDoc(view, id, event.at, (doc): ArtistDoc => ({
          ...doc,
          discography,
          sync: { status: "synced", syncedAt: discography.fetchedAt, failure: null },
        }));
      }
      case "DiscographySyncFailed": {
        const { id, failure } = event.data as DiscographySyncFailed["data"];
        // The last good discography stays on show; the status says it may be stale.
        return updateDoc(view, id, event.at, (doc): ArtistDoc => ({ ...doc, sync: { ...doc.sync, status: "failed", failure } }));
      }
    }
  },
};
